import { createHash, randomBytes } from 'node:crypto';
import { createLetmepost, LetmepostError, memoryTokenStore, type ClientCredentials, type ProviderAccount, type TokenSet } from '@letmepost/core';
import { createBluesky } from '@letmepost/provider-bluesky';
import { createLinkedIn } from '@letmepost/provider-linkedin';
import { createTwitter, TWITTER_WRITE_SCOPES } from '@letmepost/provider-twitter';
import { LINKEDIN_WRITE_SCOPES } from '@letmepost/provider-linkedin';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blueskyUser } from './sandbox-bluesky.js';
import { linkedinUser } from './sandbox-linkedin.js';
import { startSandbox, type Sandbox } from './sandbox-server.js';
import { twitterUser } from './sandbox-twitter.js';

// The real providers, pointed at the sandbox only through their base-URL settings: every request
// they make goes through their production code (signing, chunking, polling, error mapping).

const callbackBase = 'http://127.0.0.1:3000/v1/accounts/oauth';
const twitterClient: ClientCredentials = { clientId: 'x-client', clientSecret: 'x-secret' };
const linkedinClient: ClientCredentials = { clientId: 'li-client', clientSecret: 'li-secret' };
const oauth1 = {
  consumerKey: 'sbx-consumer-key',
  consumerSecret: 'sbx-consumer-secret',
  accessToken: `${twitterUser.id}-sbxAccessToken`,
  accessTokenSecret: 'sbx-access-token-secret',
};

let sandbox: Sandbox;

beforeEach(async () => {
  sandbox = await startSandbox({
    apps: [
      { platform: 'twitter', ...twitterClient, clientSecret: 'x-secret', redirectUris: [`${callbackBase}/twitter/callback`] },
      { platform: 'linkedin', ...linkedinClient, clientSecret: 'li-secret', redirectUris: [`${callbackBase}/linkedin/callback`] },
    ],
    twitterOAuth1: [{ ...oauth1, userId: twitterUser.id }],
    // Three parts from a 2.5 KB video instead of LinkedIn's 4 MiB parts.
    linkedinVideoPartBytes: 1024,
  });
});
afterEach(async () => sandbox.close());

/** Walks the sandbox consent page the way a browser would and returns the callback URL. */
async function approve(authorizeUrl: URL): Promise<URL> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const consentId = /name="consent_id" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(consentId).toBeDefined();
  const answer = await fetch(new URL('consent', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId!, decision: 'approve' }),
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location')!);
}

async function connect(options: {
  provider: ReturnType<typeof createTwitter> | ReturnType<typeof createLinkedIn>;
  client: ClientCredentials;
  platform: string;
  scopes: readonly string[];
}): Promise<{ tokens: TokenSet; account: ProviderAccount }> {
  const { provider, client } = options;
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${callbackBase}/${options.platform}/callback`;
  const state = randomBytes(8).toString('hex');
  const authorizeUrl = await provider.authorizationUrl!({
    client,
    redirectUri,
    state,
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    scopes: options.scopes,
  });
  const callbackUrl = await approve(authorizeUrl);
  const tokens = await provider.exchangeCode!({ client, redirectUri, callbackUrl, state, codeVerifier: verifier });
  const [account] = await provider.listAccounts!({ tokens, client });
  return { tokens, account: account! };
}

const png = (seed: number) => new Uint8Array(randomBytes(3000 + seed));
const video = () => new Uint8Array(randomBytes(2500));
/** LinkedIn refuses videos under 75 KB before uploading; the sandbox's 1 KiB parts keep it quick. */
const linkedInVideo = () => new Uint8Array(randomBytes(75_000));
const posts = (platform: string) => sandbox.state.posts.filter((post) => post.platform === platform);
const events = (platform: string, kind: string) => sandbox.state.events.filter((event) => event.platform === platform && event.kind === kind).map((event) => event.summary);

async function rejection(promise: Promise<unknown>): Promise<LetmepostError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(LetmepostError.isInstance(error)).toBe(true);
  return error as LetmepostError;
}

describe('X provider against the sandbox', () => {
  const provider = () => createTwitter({ ...sandbox.endpoints.twitter, allowPrivateNetwork: true });

  it('connects through OAuth 2.0 with PKCE and publishes text, a link and a reply', async () => {
    const twitter = provider();
    const { tokens, account } = await connect({ provider: twitter, client: twitterClient, platform: 'twitter', scopes: TWITTER_WRITE_SCOPES });
    expect(account).toMatchObject({ platformAccountId: twitterUser.id, username: twitterUser.username });
    const auth = { type: 'account' as const, account, tokens };

    const text = await twitter.publish({ post: { text: 'hello from the real provider' }, auth, options: {} });
    expect(text).toMatchObject({ status: 'published', url: `https://x.com/${twitterUser.username}/status/${text.postId}` });

    const linked = await twitter.publish({ post: { text: 'read this', link: 'https://example.com/article' }, auth, options: {} });
    expect(linked.status).toBe('published');

    const reply = await twitter.publish({ post: { text: 'replying to myself', replyTo: text.postId! }, auth, options: {} });
    expect(reply.status).toBe('published');

    expect(posts('twitter').map((post) => [post.id, post.text, post.replyTo])).toEqual([
      [text.postId, 'hello from the real provider', undefined],
      [linked.postId, 'read this\n\nhttps://example.com/article', undefined],
      [reply.postId, 'replying to myself', text.postId],
    ]);
  });

  it('publishes a thread with a first comment as a reply chain, and deletes the root', async () => {
    const twitter = provider();
    const { tokens, account } = await connect({ provider: twitter, client: twitterClient, platform: 'twitter', scopes: TWITTER_WRITE_SCOPES });
    const auth = { type: 'account' as const, account, tokens };
    const result = await twitter.publish({
      post: { text: 'thread 1/3', thread: [{ text: 'thread 2/3' }, { text: 'thread 3/3' }], firstComment: 'first comment' },
      auth,
      options: {},
    });
    expect(result.status).toBe('published');
    const stored = posts('twitter');
    expect(stored.map((post) => post.text)).toEqual(['thread 1/3', 'thread 2/3', 'thread 3/3', 'first comment']);
    // Each thread item replies to the one before it; the first comment replies to the root.
    expect(stored.slice(1).map((post) => post.replyTo)).toEqual([stored[0]!.id, stored[1]!.id, stored[0]!.id]);
    expect(result.items?.map((item) => item.postId)).toEqual(stored.map((post) => post.id));

    await twitter.deletePost!({ auth, postId: result.postId! });
    expect(stored[0]!.deleted).toBe(true);
    expect(events('twitter', 'delete')).toEqual([result.postId]);
  });

  it('uploads images with alt text through the simple upload and the metadata endpoint', async () => {
    const twitter = provider();
    const { tokens, account } = await connect({ provider: twitter, client: twitterClient, platform: 'twitter', scopes: TWITTER_WRITE_SCOPES });
    const result = await twitter.publish({
      post: {
        text: 'two pictures',
        media: [
          { data: png(1), mimeType: 'image/png', altText: 'first picture' },
          { data: png(2), mimeType: 'image/png', altText: 'second picture' },
        ],
      },
      auth: { type: 'account', account, tokens },
      options: {},
    });
    expect(result.status).toBe('published');
    const [post] = posts('twitter');
    expect(post!.mediaIds).toHaveLength(2);
    expect((post!.raw as { media: { media_ids: string[] } }).media.media_ids).toEqual(post!.mediaIds);
    const media = sandbox.state.events.filter((event) => event.platform === 'twitter' && event.kind === 'media');
    expect(media.map((event) => event.summary)).toEqual([
      'simple upload 3001 bytes (tweet_image)',
      `alt text for ${post!.mediaIds[0]}`,
      'simple upload 3002 bytes (tweet_image)',
      `alt text for ${post!.mediaIds[1]}`,
    ]);
    expect(media.filter((event) => event.detail !== undefined).map((event) => (event.detail as { altText: string }).altText)).toEqual(['first picture', 'second picture']);
  });

  it('uploads a video in chunks, answers pending while X processes it, then posts on finalize', async () => {
    const twitter = provider();
    const { tokens, account } = await connect({ provider: twitter, client: twitterClient, platform: 'twitter', scopes: TWITTER_WRITE_SCOPES });
    const auth = { type: 'account' as const, account, tokens };
    const bytes = video();
    const pending = await twitter.publish({ post: { text: 'a video', media: [{ data: bytes, mimeType: 'video/mp4' }] }, auth, options: {} });
    expect(pending.status).toBe('pending');
    expect(posts('twitter')).toEqual([]);
    expect(events('twitter', 'media')).toEqual([`initialize video/mp4 ${bytes.byteLength} bytes`, expect.stringMatching(/^finalize \d+ \(1 segments\)$/)]);

    // The sandbox moves pending → in_progress → succeeded, one step per STATUS read.
    const stillPending = await twitter.checkStatus!({ auth, resume: pending.resume! });
    expect(stillPending.status).toBe('pending');
    expect(posts('twitter')).toEqual([]);
    const published = await twitter.finalize!({ auth, resume: pending.resume! });
    expect(published.status).toBe('published');
    expect(posts('twitter').map((post) => [post.id, post.text, post.mediaIds.length])).toEqual([[published.postId, 'a video', 1]]);
  });

  it('refreshes with rotation, and the old refresh token is then refused', async () => {
    const twitter = createTwitter({ ...sandbox.endpoints.twitter, ...twitterClient, allowPrivateNetwork: true });
    const { tokens, account } = await connect({ provider: twitter, client: twitterClient, platform: 'twitter', scopes: TWITTER_WRITE_SCOPES });
    const refreshed = await twitter.refresh!({ tokens, client: twitterClient });
    expect(refreshed.refreshToken).toBeDefined();
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(sandbox.state.refreshCount).toBe(1);
    const published = await twitter.publish({ post: { text: 'after refresh' }, auth: { type: 'account', account, tokens: refreshed }, options: {} });
    expect(published.status).toBe('published');

    const reused = await rejection(twitter.refresh!({ tokens, client: twitterClient }));
    expect(reused.code).toBe('reauth_required');
    expect(sandbox.state.refreshRejections).toBe(1);
  });

  it('signs pass-per-request OAuth 1.0a credentials the sandbox verifies, and maps a bad signature to an auth error', async () => {
    const twitter = provider();
    const result = await twitter.publish({
      post: { text: 'signed with OAuth 1.0a', media: [{ data: png(3), mimeType: 'image/png', altText: 'signed upload' }] },
      auth: { type: 'credentials', credentials: oauth1 },
      options: {},
    });
    expect(result.status).toBe('published');
    expect(posts('twitter').map((post) => [post.text, post.authorId, post.mediaIds.length])).toEqual([['signed with OAuth 1.0a', twitterUser.id, 1]]);
    expect(events('twitter', 'auth')).toEqual([]);

    const forged = await rejection(
      twitter.publish({ post: { text: 'forged' }, auth: { type: 'credentials', credentials: { ...oauth1, consumerSecret: 'not-the-secret' } }, options: {} }),
    );
    expect(forged).toMatchObject({ code: 'auth_expired', status: 401, platform: 'twitter' });
    expect(JSON.stringify(forged.toJSON())).not.toContain('not-the-secret');
    expect(events('twitter', 'auth')).toEqual(['OAuth 1.0a rejected (bad_signature)']);

    const unknownToken = await rejection(
      twitter.publish({ post: { text: 'unknown token' }, auth: { type: 'credentials', credentials: { ...oauth1, accessToken: 'someone-else' } }, options: {} }),
    );
    expect(unknownToken.status).toBe(401);
    expect(posts('twitter')).toHaveLength(1);
  });

  it('connects OAuth 1.0a user keys and lists the account they belong to', async () => {
    const twitter = provider();
    const grant = await twitter.connectWithCredentials!({ credentials: oauth1 });
    expect(grant.account).toMatchObject({ platformAccountId: twitterUser.id, username: twitterUser.username });
    const result = await twitter.publish({ post: { text: 'stored oauth1 account' }, auth: { type: 'account', account: grant.account, tokens: grant.tokens }, options: {} });
    expect(result.status).toBe('published');
  });
});

describe('LinkedIn provider against the sandbox', () => {
  const provider = (videoProcessing?: { pollIntervalMs: number; maxWaitMs: number }) =>
    createLinkedIn({ ...sandbox.endpoints.linkedin, allowPrivateNetwork: true, ...(videoProcessing ? { videoProcessing } : {}) });

  it('connects, publishes text, a link, images with alt text and a first comment, and deletes', async () => {
    const linkedin = provider();
    const { tokens, account } = await connect({ provider: linkedin, client: linkedinClient, platform: 'linkedin', scopes: LINKEDIN_WRITE_SCOPES });
    expect(account.platformAccountId).toBe(`urn:li:person:${linkedinUser.id}`);
    const auth = { type: 'account' as const, account, tokens };

    const text = await linkedin.publish({ post: { text: 'Hello LinkedIn (sandbox)', firstComment: 'and a first comment' }, auth, options: {} });
    expect(text).toMatchObject({ status: 'published', warnings: [] });
    expect(text.postId).toMatch(/^urn:li:share:\d+$/);

    const linked = await linkedin.publish({ post: { text: 'An article', link: 'https://example.com/post' }, auth, options: {} });
    expect(linked.status).toBe('published');

    const images = await linkedin.publish({
      post: {
        text: 'Two images',
        media: [
          { data: png(4), mimeType: 'image/png', altText: 'left' },
          { data: png(5), mimeType: 'image/png', altText: 'right' },
        ],
      },
      auth,
      options: {},
    });
    expect(images.status).toBe('published');

    const stored = posts('linkedin');
    expect(stored.map((post) => [post.id, post.text, post.replyTo])).toEqual([
      [text.postId, 'Hello LinkedIn \\(sandbox\\)', undefined],
      [expect.stringMatching(/^urn:li:comment:\(urn:li:activity:\d+,\d+\)$/), 'and a first comment', text.postId],
      [linked.postId, 'An article', undefined],
      [images.postId, 'Two images', undefined],
    ]);
    expect((stored[2]!.raw as { content: unknown }).content).toMatchObject({ article: { source: 'https://example.com/post' } });
    expect((stored[3]!.raw as { content: unknown }).content).toEqual({
      multiImage: { images: [{ id: stored[3]!.mediaIds[0], altText: 'left' }, { id: stored[3]!.mediaIds[1], altText: 'right' }] },
    });
    expect(events('linkedin', 'media')).toEqual(['image upload 3004 bytes', 'image upload 3005 bytes']);

    await linkedin.deletePost!({ auth, postId: images.postId! });
    expect(stored[3]!.deleted).toBe(true);
  });

  it('uploads a video in the parts LinkedIn hands out, finalizes with their ETags, and posts once AVAILABLE', async () => {
    // One status read per publish: the sandbox answers PROCESSING first, so the publish is pending.
    const linkedin = provider({ pollIntervalMs: 0, maxWaitMs: 0 });
    const { tokens, account } = await connect({ provider: linkedin, client: linkedinClient, platform: 'linkedin', scopes: LINKEDIN_WRITE_SCOPES });
    const auth = { type: 'account' as const, account, tokens };
    const bytes = linkedInVideo();
    const pending = await linkedin.publish({ post: { text: 'A video', media: [{ data: bytes, mimeType: 'video/mp4' }], firstComment: 'video comment' }, auth, options: {} });
    expect(pending.status).toBe('pending');
    expect(posts('linkedin')).toEqual([]);
    const parts = Math.ceil(bytes.byteLength / 1024);
    expect(events('linkedin', 'media')).toEqual([
      `video initializeUpload 75000 bytes (${parts} parts)`,
      ...Array.from({ length: parts }, (_, index) => `video part ${index} ${index < parts - 1 ? 1024 : bytes.byteLength - 1024 * (parts - 1)} bytes`),
      expect.stringMatching(/^video finalizeUpload urn:li:video:/),
    ]);

    expect(await linkedin.checkStatus!({ auth, resume: pending.resume! })).toEqual({ status: 'ready' });
    expect(posts('linkedin')).toEqual([]);
    const published = await linkedin.finalize!({ auth, resume: pending.resume! });
    expect(published.status).toBe('published');
    const [post, comment] = posts('linkedin');
    expect(post).toMatchObject({ id: published.postId, text: 'A video', mediaIds: [expect.stringMatching(/^urn:li:video:/)] });
    expect(comment).toMatchObject({ text: 'video comment', replyTo: published.postId });
  });

  it('refuses a finalize whose ETags are out of order, as LinkedIn does', async () => {
    sandbox.state.accessTokens.set('li-direct', { platform: 'linkedin', userId: linkedinUser.id, scopes: [...LINKEDIN_WRITE_SCOPES], expiresAt: Date.now() + 60_000 });
    const headers = { authorization: 'Bearer li-direct', 'content-type': 'application/json', 'linkedin-version': '202610', 'x-restli-protocol-version': '2.0.0' };
    const api = sandbox.endpoints.linkedin.apiBaseUrl;
    const initialized = await fetch(`${api}/rest/videos?action=initializeUpload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ initializeUploadRequest: { owner: `urn:li:person:${linkedinUser.id}`, fileSizeBytes: 2048 } }),
    });
    const { value } = (await initialized.json()) as { value: { video: string; uploadToken: string; uploadInstructions: Array<{ uploadUrl: string }> } };
    const etags: string[] = [];
    for (const instruction of value.uploadInstructions) {
      const part = await fetch(instruction.uploadUrl, { method: 'PUT', body: randomBytes(1024) });
      etags.push(part.headers.get('etag')!);
    }
    const finalize = (uploadedPartIds: string[]) =>
      fetch(`${api}/rest/videos?action=finalizeUpload`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ finalizeUploadRequest: { video: value.video, uploadToken: value.uploadToken, uploadedPartIds } }),
      });
    const reversed = await finalize([...etags].reverse());
    expect(reversed.status).toBe(400);
    expect((await finalize(etags)).status).toBe(200);
    const status = await fetch(`${api}/rest/videos/${encodeURIComponent(value.video)}`, { headers });
    expect(await status.json()).toMatchObject({ id: value.video, status: 'PROCESSING' });
  });
});

describe('Bluesky provider against the sandbox', () => {
  const credentials = { identifier: blueskyUser.handle, appPassword: blueskyUser.appPassword };
  const provider = (videoProcessing?: { pollIntervalMs: number; maxWaitMs: number }) =>
    createBluesky({ ...sandbox.endpoints.bluesky, allowPrivateNetwork: true, ...(videoProcessing ? { videoProcessing } : {}) });

  it('publishes text with facets, a link card, images with alt text, a thread with a first comment, a reply, and deletes', async () => {
    const bluesky = provider();
    const auth = { type: 'credentials' as const, credentials };
    const text = await bluesky.publish({ post: { text: 'hello https://example.com' }, auth, options: {} });
    expect(text.status).toBe('published');
    expect(text.postId).toMatch(new RegExp(`^at://${blueskyUser.did}/app.bsky.feed.post/`));

    const images = await bluesky.publish({
      post: { text: 'pictures', media: [{ data: png(6), mimeType: 'image/png', altText: 'a picture' }, { data: png(7), mimeType: 'image/png', altText: 'another' }] },
      auth,
      options: {},
    });
    expect(images.status).toBe('published');

    const thread = await bluesky.publish({ post: { text: 'thread root', thread: [{ text: 'thread child' }], firstComment: 'a comment' }, auth, options: {} });
    expect(thread.status).toBe('published');

    const reply = await bluesky.publish({ post: { text: 'a reply', replyTo: text.postId! }, auth, options: {} });
    expect(reply.status).toBe('published');

    const stored = posts('bluesky');
    expect(stored.map((post) => [post.text, post.replyTo])).toEqual([
      ['hello https://example.com', undefined],
      ['pictures', undefined],
      ['thread root', undefined],
      ['thread child', stored[2]!.id],
      ['a comment', stored[2]!.id],
      ['a reply', text.postId],
    ]);
    expect((stored[0]!.raw as { facets: unknown[] }).facets).toHaveLength(1);
    expect((stored[1]!.raw as { embed: { images: Array<{ alt: string }> } }).embed.images.map((image) => image.alt)).toEqual(['a picture', 'another']);
    // Every reply in the thread names the thread root.
    expect((stored[4]!.raw as { reply: { root: { uri: string } } }).reply.root.uri).toBe(stored[2]!.id);

    await bluesky.deletePost!({ auth, postId: reply.postId! });
    expect(stored[5]!.deleted).toBe(true);
  });

  it('uploads a video to the video service, answers pending while it encodes, then posts on finalize', async () => {
    const bluesky = provider({ pollIntervalMs: 0, maxWaitMs: 0 });
    const auth = { type: 'credentials' as const, credentials };
    const bytes = video();
    const pending = await bluesky.publish({ post: { text: 'a video', media: [{ data: bytes, mimeType: 'video/mp4', altText: 'moving picture' }] }, auth, options: {} });
    expect(pending.status).toBe('pending');
    expect(posts('bluesky')).toEqual([]);
    expect(events('bluesky', 'media')).toEqual([`uploadVideo ${bytes.byteLength} bytes`]);

    let status = await bluesky.checkStatus!({ auth, resume: pending.resume! });
    for (let attempt = 0; attempt < 3 && status.status === 'pending'; attempt += 1) {
      status = await bluesky.checkStatus!({ auth, resume: status.resume ?? pending.resume! });
    }
    if (status.status !== 'ready' || status.resume === undefined) throw new Error(`expected ready, got ${status.status}`);
    expect(posts('bluesky')).toEqual([]);
    const result = await bluesky.finalize!({ auth, resume: status.resume });
    expect(result.status).toBe('published');
    const [post] = posts('bluesky');
    expect(post).toMatchObject({ id: result.postId, text: 'a video', mediaIds: [expect.any(String)] });
    expect((post!.raw as { embed: { $type: string; alt: string } }).embed).toMatchObject({ $type: 'app.bsky.embed.video', alt: 'moving picture' });
  });

  it('finishes a video thread through letmepost.resume: each record written once, a repeat resume sends nothing', async () => {
    const letmepost = createLetmepost({
      providers: [provider({ pollIntervalMs: 0, maxWaitMs: 0 })],
      store: memoryTokenStore(),
      encryptionKey: randomBytes(32).toString('base64'),
      baseUrl: 'https://app.example.com',
    });
    const [pending] = await letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'a video thread', media: [{ data: video(), mimeType: 'video/mp4', altText: 'moving' }], thread: [{ text: 'and more' }], firstComment: 'first!' },
      targets: [{ platform: 'bluesky', credentials }],
    });
    expect(pending).toMatchObject({ status: 'pending', resumeToken: expect.any(String) });

    let result = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    for (let attempt = 0; attempt < 3 && result.status === 'pending'; attempt += 1) {
      result = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: result.resumeToken!, credentials });
    }
    expect(result).toMatchObject({ status: 'published', platform: 'bluesky' });
    const stored = posts('bluesky');
    expect(stored.map((post) => post.text)).toEqual(['a video thread', 'and more', 'first!']);
    expect(result.postId).toBe(stored[0]!.id);

    const eventsBefore = sandbox.state.events.length;
    expect(await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials })).toEqual(result);
    expect(sandbox.state.events).toHaveLength(eventsBefore);
  });

  it('refreshes a stored session with rotation; the old refresh JWT is refused', async () => {
    const bluesky = provider();
    const grant = await bluesky.connectWithCredentials!({ credentials });
    expect(grant.account.platformAccountId).toBe(blueskyUser.did);
    const refreshed = await bluesky.refresh!({ tokens: grant.tokens, grantData: grant.grantData });
    expect(refreshed.refreshToken).not.toBe(grant.tokens.refreshToken);
    const published = await bluesky.publish({ post: { text: 'after refresh' }, auth: { type: 'account', account: grant.account, tokens: refreshed }, options: {} });
    expect(published.status).toBe('published');
    // The PDS refuses the spent refresh JWT; the stored app password then opens a new session.
    const recovered = await bluesky.refresh!({ tokens: grant.tokens, grantData: grant.grantData });
    expect(sandbox.state.refreshRejections).toBe(1);
    expect(recovered.accessToken).not.toBe(refreshed.accessToken);
    expect(events('bluesky', 'session')).toEqual([
      `createSession ${blueskyUser.handle}`,
      'refreshSession',
      `createSession ${blueskyUser.did}`,
    ]);

    // Without the app password there is nothing to fall back on: the account must reconnect.
    const { secrets: _secrets, ...withoutAppPassword } = grant.tokens;
    const reused = await rejection(bluesky.refresh!({ tokens: withoutAppPassword, grantData: grant.grantData }));
    expect(reused.code).toBe('reauth_required');
    expect(sandbox.state.refreshRejections).toBe(2);
  });
});
