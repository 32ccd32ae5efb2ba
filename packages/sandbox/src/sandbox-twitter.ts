import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection, type FaultShape } from './sandbox-faults.js';
import { SandboxHttpError, bearerToken, readBody, readJson, sendJson, type SandboxRequest } from './sandbox-http.js';
import { createOAuthServer } from './sandbox-oauth.js';
import { createOAuth1Verifier } from './sandbox-oauth1.js';
import type { SandboxState } from './sandbox-state.js';

export const twitterUser = { id: '1500000000000000001', username: 'sandbox_x_user', name: 'Sandbox X User' };

interface TwitterMedia {
  id: string;
  ownerId: string;
  mediaType: string;
  category: string;
  totalBytes: number;
  receivedBytes: number;
  segments: number[];
  state: 'uploading' | 'pending' | 'in_progress' | 'succeeded' | 'failed';
  statusChecks: number;
  altText?: string;
}

const problem = (status: number, title: string, detail: string, type = 'about:blank') => ({ title, type, status, detail });

const faultShape: FaultShape = {
  rateLimitHeaders: (reset) => ({ 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) }),
  rateLimitBody: problem(429, 'Too Many Requests', 'Too Many Requests', 'https://api.x.com/2/problems/rate-limit-exceeded'),
  serverErrorBody: (status) => problem(status, 'Service Unavailable', 'Service Unavailable'),
};

const TWEET_FIELDS = new Set(['text', 'media', 'reply', 'quote_tweet_id', 'poll', 'reply_settings', 'community_id', 'made_with_ai', 'paid_partnership', 'for_super_followers_only', 'share_with_followers', 'geo', 'nullcast', 'card_uri', 'direct_message_deep_link', 'edit_options']);

/** Close to X's weighting: URLs count 23, code points above U+10FF count 2. */
function weightedLength(text: string): number {
  const withoutUrls = text.replace(/https?:\/\/\S+/g, '');
  const urls = text.length - withoutUrls.length > 0 ? (text.match(/https?:\/\/\S+/g) ?? []).length : 0;
  let weight = urls * 23;
  for (const character of withoutUrls.normalize('NFC')) weight += (character.codePointAt(0) ?? 0) > 0x10ff ? 2 : 1;
  return weight;
}

export function createTwitterEmulator(options: { state: SandboxState }) {
  const { state } = options;
  const oauth = createOAuthServer({
    state,
    profile: {
      platform: 'twitter',
      displayName: 'X',
      clientAuthentication: 'client_secret_basic',
      pkceRequired: true,
      accessTokenLifetimeSeconds: 7200,
      refresh: 'rotating',
      invalidGrantError: 'invalid_request',
      invalidGrantDescription: 'Value passed for the token was invalid.',
      codeLifetimeSeconds: 30,
      scopeSeparator: ' ',
      user: twitterUser,
    },
  });
  const media = new Map<string, TwitterMedia>();
  let sequence = 1_900_000_000_000_000_000n;
  const nextId = () => String((sequence += 1n));

  const verifyOAuth1 = createOAuth1Verifier({ credentials: () => state.oauth1Credentials, now: () => state.now() });

  function authenticate(request: SandboxRequest, requiredScopes: string[]): string {
    const header = request.headers.authorization ?? '';
    if (/^OAuth\s/i.test(header)) {
      // The v2 endpoints emulated here take JSON or multipart bodies, which OAuth 1.0a does not
      // sign, so only the query string and the oauth_* parameters enter the base string.
      const verification = verifyOAuth1({ method: request.method, url: request.url, authorization: header });
      if (!verification.ok) {
        state.record({ platform: 'twitter', kind: 'auth', summary: `OAuth 1.0a rejected (${verification.reason})` });
        throw new SandboxHttpError({ status: 401, body: problem(401, 'Unauthorized', 'Unauthorized') });
      }
      // OAuth 1.0a carries the app's permission level, not scopes; sandbox apps are read+write.
      return verification.credentials.userId;
    }
    const token = bearerToken(request);
    const stored = token ? state.accessTokens.get(token) : undefined;
    if (!stored || stored.platform !== 'twitter' || stored.expiresAt <= state.now()) {
      throw new SandboxHttpError({ status: 401, body: problem(401, 'Unauthorized', 'Unauthorized') });
    }
    const missing = requiredScopes.filter((scope) => !stored.scopes.includes(scope));
    if (missing.length > 0) {
      throw new SandboxHttpError({ status: 403, body: problem(403, 'Forbidden', `Missing scopes: ${missing.join(', ')}`, 'https://api.x.com/2/problems/client-forbidden') });
    }
    return stored.userId;
  }

  async function createTweet(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const userId = authenticate(request, ['tweet.read', 'tweet.write', 'users.read']);
    const drop = await applyWriteFault({ state, platform: 'twitter', shape: faultShape });
    const body = (await readJson({ request: request.raw })) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'One or more parameters to your request was invalid.', 'https://api.x.com/2/problems/invalid-request') });
    const unknown = Object.keys(body).filter((key) => !TWEET_FIELDS.has(key));
    if (unknown.length > 0) throw new SandboxHttpError({ status: 400, body: { errors: [{ message: `The query parameters [${unknown.join(',')}] are not valid` }], title: 'Invalid Request', detail: 'One or more parameters to your request was invalid.', type: 'https://api.x.com/2/problems/invalid-request' } });
    const text = typeof body.text === 'string' ? body.text : '';
    const mediaIds = ((body.media as { media_ids?: string[] } | undefined)?.media_ids ?? []).map(String);
    if (!text && mediaIds.length === 0) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Text or media is required.', 'https://api.x.com/2/problems/invalid-request') });
    if (weightedLength(text) > 280) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Text is too long.', 'https://api.x.com/2/problems/invalid-request') });
    if (mediaIds.length > 4) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Your media IDs are invalid.', 'https://api.x.com/2/problems/invalid-request') });
    for (const id of mediaIds) {
      const item = media.get(id);
      if (!item || item.ownerId !== userId || item.state !== 'succeeded') {
        throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Your media IDs are invalid.', 'https://api.x.com/2/problems/invalid-request') });
      }
    }
    const replyTo = (body.reply as { in_reply_to_tweet_id?: string } | undefined)?.in_reply_to_tweet_id;
    if (replyTo !== undefined) {
      const parent = state.posts.find((post) => post.platform === 'twitter' && post.id === replyTo && !post.deleted);
      if (!parent) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'The Tweet you are replying to does not exist.', 'https://api.x.com/2/problems/invalid-request') });
      // 2026 reply restrictions: replying to someone else's post needs them to have summoned you.
      if (parent.authorId !== userId) throw new SandboxHttpError({ status: 403, body: problem(403, 'Forbidden', 'Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.') });
    }
    if (state.posts.some((post) => post.platform === 'twitter' && post.authorId === userId && !post.deleted && post.text === text && text !== '')) {
      throw new SandboxHttpError({ status: 403, body: problem(403, 'Forbidden', 'You are not allowed to create a Tweet with duplicate content.') });
    }
    const id = nextId();
    state.addPost({ platform: 'twitter', id, url: `https://x.com/${twitterUser.username}/status/${id}`, authorId: userId, text, mediaIds, ...(replyTo ? { replyTo } : {}), raw: body });
    if (drop) return dropConnection(response);
    sendJson({ response, status: 201, body: { data: { id, text, edit_history_tweet_ids: [id] } }, headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '99', 'x-rate-limit-reset': String(Math.ceil(state.now() / 1000) + 900) } });
  }

  async function deleteTweet(request: SandboxRequest, response: ServerResponse, id: string): Promise<void> {
    const userId = authenticate(request, ['tweet.read', 'tweet.write', 'users.read']);
    const post = state.posts.find((candidate) => candidate.platform === 'twitter' && candidate.id === id && !candidate.deleted);
    if (!post) throw new SandboxHttpError({ status: 404, body: problem(404, 'Not Found Error', 'Could not find tweet.', 'https://api.x.com/2/problems/resource-not-found') });
    if (post.authorId !== userId) throw new SandboxHttpError({ status: 403, body: problem(403, 'Forbidden', 'You are not allowed to delete this Tweet.') });
    post.deleted = true;
    state.record({ platform: 'twitter', kind: 'delete', summary: id });
    sendJson({ response, status: 200, body: { data: { deleted: true } } });
  }

  async function parseMultipart(request: SandboxRequest): Promise<FormData> {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Expected multipart/form-data', 'https://api.x.com/2/problems/invalid-request') });
    const body = await readBody({ request: request.raw, maxBytes: 6 * 1024 * 1024, keepBytes: 6 * 1024 * 1024 });
    return new Response(body.bytes, { headers: { 'content-type': contentType } }).formData();
  }

  async function simpleUpload(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const userId = authenticate(request, ['media.write']);
    const form = await parseMultipart(request);
    const file = form.get('media');
    const category = String(form.get('media_category') ?? '');
    if (!(file instanceof Blob) || !category) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'media and media_category are required', 'https://api.x.com/2/problems/invalid-request') });
    if (file.size > 5 * 1024 * 1024) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'File size exceeds 5242880 bytes.', 'https://api.x.com/2/problems/invalid-request') });
    const id = nextId();
    media.set(id, { id, ownerId: userId, mediaType: file.type, category, totalBytes: file.size, receivedBytes: file.size, segments: [0], state: 'succeeded', statusChecks: 0 });
    state.record({ platform: 'twitter', kind: 'media', summary: `simple upload ${file.size} bytes (${category})` });
    sendJson({ response, status: 200, body: { data: { id, media_key: `3_${id}`, size: file.size, expires_after_secs: 86400, image: { image_type: file.type, w: 1, h: 1 } } } });
  }

  async function initialize(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const userId = authenticate(request, ['media.write']);
    const body = (await readJson({ request: request.raw })) as { media_type?: string; total_bytes?: number; media_category?: string } | undefined;
    if (!body?.media_type || typeof body.total_bytes !== 'number' || !body.media_category) {
      throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'media_type, total_bytes and media_category are required', 'https://api.x.com/2/problems/invalid-request') });
    }
    if (body.total_bytes > 512 * 1024 * 1024 * 2 + 1) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'File size exceeds the limit.', 'https://api.x.com/2/problems/invalid-request') });
    const id = nextId();
    media.set(id, { id, ownerId: userId, mediaType: body.media_type, category: body.media_category, totalBytes: body.total_bytes, receivedBytes: 0, segments: [], state: 'uploading', statusChecks: 0 });
    state.record({ platform: 'twitter', kind: 'media', summary: `initialize ${body.media_type} ${body.total_bytes} bytes` });
    sendJson({ response, status: 200, body: { data: { id, media_key: `13_${id}`, expires_after_secs: 1295999 } } });
  }

  async function append(request: SandboxRequest, response: ServerResponse, id: string): Promise<void> {
    const userId = authenticate(request, ['media.write']);
    const item = media.get(id);
    if (!item || item.ownerId !== userId || item.state !== 'uploading') throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Invalid media id', 'https://api.x.com/2/problems/invalid-request') });
    const form = await parseMultipart(request);
    const segment = Number(form.get('segment_index'));
    const chunk = form.get('media');
    if (!Number.isInteger(segment) || segment < 0 || segment > 999 || !(chunk instanceof Blob)) {
      throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'segment_index and media are required', 'https://api.x.com/2/problems/invalid-request') });
    }
    item.segments.push(segment);
    item.receivedBytes += chunk.size;
    sendJson({ response, status: 200, body: { data: { expires_at: Math.ceil(state.now() / 1000) + 86400 } } });
  }

  async function finalize(request: SandboxRequest, response: ServerResponse, id: string): Promise<void> {
    const userId = authenticate(request, ['media.write']);
    const item = media.get(id);
    if (!item || item.ownerId !== userId) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Invalid media id', 'https://api.x.com/2/problems/invalid-request') });
    if (item.receivedBytes !== item.totalBytes) {
      throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', `File size mismatch: expected ${item.totalBytes}, received ${item.receivedBytes}`, 'https://api.x.com/2/problems/invalid-request') });
    }
    const processed = item.mediaType.startsWith('video/') || item.category === 'tweet_gif';
    item.state = processed ? 'pending' : 'succeeded';
    state.record({ platform: 'twitter', kind: 'media', summary: `finalize ${id} (${item.segments.length} segments)` });
    sendJson({
      response,
      status: 200,
      body: { data: { id, media_key: `13_${id}`, size: item.totalBytes, expires_after_secs: 86400, ...(processed ? { processing_info: { state: 'pending', check_after_secs: 1 } } : {}) } },
    });
  }

  function status(request: SandboxRequest, response: ServerResponse): void {
    const userId = authenticate(request, ['media.write']);
    const id = request.url.searchParams.get('media_id') ?? '';
    const item = media.get(id);
    if (!item || item.ownerId !== userId) throw new SandboxHttpError({ status: 404, body: problem(404, 'Not Found Error', 'Media not found', 'https://api.x.com/2/problems/resource-not-found') });
    item.statusChecks += 1;
    if (item.state === 'pending') item.state = 'in_progress';
    else if (item.state === 'in_progress') item.state = 'succeeded';
    const processingInfo = item.state === 'succeeded'
      ? { state: 'succeeded', progress_percent: 100 }
      : { state: item.state, check_after_secs: 1, progress_percent: item.state === 'in_progress' ? 50 : 0 };
    sendJson({ response, status: 200, body: { data: { id, media_key: `13_${id}`, processing_info: processingInfo } } });
  }

  async function metadata(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const userId = authenticate(request, ['media.write']);
    const body = (await readJson({ request: request.raw })) as { id?: string; metadata?: { alt_text?: { text?: string } } } | undefined;
    const item = body?.id ? media.get(body.id) : undefined;
    const altText = body?.metadata?.alt_text?.text;
    if (!item || item.ownerId !== userId) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'Invalid media id', 'https://api.x.com/2/problems/invalid-request') });
    if (typeof altText !== 'string' || altText.length > 1000) throw new SandboxHttpError({ status: 400, body: problem(400, 'Invalid Request', 'alt_text must be at most 1000 characters', 'https://api.x.com/2/problems/invalid-request') });
    item.altText = altText;
    state.record({ platform: 'twitter', kind: 'media', summary: `alt text for ${item.id}`, detail: { id: item.id, altText } });
    sendJson({ response, status: 200, body: { data: { id: item.id, associated_metadata: true, alt_text: { text: altText } } } });
  }

  function me(request: SandboxRequest, response: ServerResponse): void {
    authenticate(request, ['users.read']);
    sendJson({ response, status: 200, body: { data: { ...twitterUser, profile_image_url: 'https://pbs.twimg.com/profile_images/sandbox_normal.jpg', verified: false } } });
  }

  return {
    prefix: 'twitter',
    faultShape,
    media,
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const { method, path } = request;
      const mediaMatch = /^\/2\/media\/upload\/([^/]+)\/(append|finalize)$/.exec(path);
      const tweetMatch = /^\/2\/tweets\/([^/]+)$/.exec(path);
      if (method === 'GET' && path === '/i/oauth2/authorize') oauth.authorize(request, response);
      else if (method === 'POST' && path === '/i/oauth2/consent') await oauth.consent(request, response);
      else if (method === 'POST' && path === '/2/oauth2/token') await oauth.token(request, response);
      else if (method === 'POST' && path === '/2/oauth2/revoke') await oauth.revoke(request, response);
      else if (method === 'GET' && path === '/2/users/me') me(request, response);
      else if (method === 'POST' && path === '/2/tweets') await createTweet(request, response);
      else if (method === 'DELETE' && tweetMatch) await deleteTweet(request, response, decodeURIComponent(tweetMatch[1]!));
      else if (method === 'POST' && path === '/2/media/upload') await simpleUpload(request, response);
      else if (method === 'GET' && path === '/2/media/upload') status(request, response);
      else if (method === 'POST' && path === '/2/media/upload/initialize') await initialize(request, response);
      else if (method === 'POST' && mediaMatch?.[2] === 'append') await append(request, response, mediaMatch[1]!);
      else if (method === 'POST' && mediaMatch?.[2] === 'finalize') await finalize(request, response, mediaMatch[1]!);
      else if (method === 'POST' && path === '/2/media/metadata') await metadata(request, response);
      else return false;
      return true;
    },
  };
}
