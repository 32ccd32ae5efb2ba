import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection } from './sandbox-faults.js';
import { sendJson, type SandboxRequest } from './sandbox-http.js';
import { graphError, graphParams, META_PUBLISHING_LIMITS, META_TOKEN_LIFETIMES, metaFaultShape, type MetaGraph } from './sandbox-meta-graph.js';
import { createOAuthServer } from './sandbox-oauth.js';
import type { SandboxState } from './sandbox-state.js';

export const threadsUser = { id: '27000000000000001', username: 'sandbox.threads', name: 'Sandbox Threads' };

/** Threads allows 1,000 API replies per profile per rolling 24 hours (beside the 250 posts). */
const THREADS_REPLY_LIMIT = 1000;
const MEDIA_TYPES = ['TEXT', 'IMAGE', 'VIDEO', 'CAROUSEL'];
const REPLY_CONTROLS = ['everyone', 'accounts_you_follow', 'mentioned_only', 'parent_post_author_only', 'followers_only'];
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** Threads' count: one per character, an emoji as its UTF-8 bytes. */
function threadsLength(text: string): number {
  let length = 0;
  for (const { segment } of graphemes.segment(text)) length += /\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(segment) ? Buffer.byteLength(segment) : 1;
  return length;
}

/**
 * Threads as `graph.threads.net` serves it, under `/threads`: the consent page
 * (`/threads/oauth/authorize`), the code exchange, the `th_exchange_token` swap and
 * `th_refresh_token` refresh (the family's shared Graph pieces), `/v1.0/me`, media containers
 * (TEXT, IMAGE, VIDEO processing for a few reads, carousels of 2–20 FINISHED items, replies),
 * `threads_publish` once per container within the 250-posts / 1,000-replies rolling limits,
 * `threads_publishing_limit`, permalinks and deletes. Scopes are checked per endpoint.
 */
export function createThreadsEmulator(options: { state: SandboxState; meta: MetaGraph; baseUrl: () => string }) {
  const { state, meta } = options;
  const oauth = createOAuthServer({
    state,
    profile: {
      platform: 'threads',
      displayName: 'Threads',
      clientAuthentication: 'client_secret_post',
      pkceRequired: false,
      accessTokenLifetimeSeconds: META_TOKEN_LIFETIMES.shortLivedSeconds,
      refresh: 'none',
      invalidGrantError: 'invalid_grant',
      invalidGrantDescription: 'Invalid verification code format.',
      codeLifetimeSeconds: 600,
      scopeSeparator: ',',
      user: threadsUser,
    },
  });
  let nextMedia = 1;
  const newMediaId = () => String(18_100_000_000_000_000n + BigInt(nextMedia++));

  function post(id: string) {
    return state.posts.find((candidate) => candidate.platform === 'threads' && candidate.id === id && !candidate.deleted);
  }

  function requireScope(options: { scopes: string[]; scope: string }): void {
    if (!options.scopes.includes('threads_basic') || !options.scopes.includes(options.scope)) {
      throw graphError({ status: 403, code: 10, message: `(#10) Application does not have permission for this action: ${options.scope} is required.`, type: 'THApiException' });
    }
  }

  function invalidParameter(message: string): never {
    throw graphError({ status: 400, code: 100, message: `(#100) ${message}`, type: 'THApiException' });
  }

  function createContainer(options: { userId: string; params: Record<string, string> }) {
    const { params, userId } = options;
    const mediaType = params.media_type ?? '';
    if (!MEDIA_TYPES.includes(mediaType)) invalidParameter(`media_type must be one of ${MEDIA_TYPES.join(', ')}.`);
    if (params.text !== undefined && threadsLength(params.text) > 500) invalidParameter('The text is longer than 500 characters.');
    if (params.reply_control !== undefined && !REPLY_CONTROLS.includes(params.reply_control)) invalidParameter('Invalid reply_control.');
    if (mediaType === 'TEXT' && (params.text ?? '') === '') invalidParameter('text is required for TEXT posts.');
    if (mediaType === 'IMAGE' && !/^https?:\/\//.test(params.image_url ?? '')) invalidParameter('image_url is required for IMAGE posts.');
    if (mediaType === 'VIDEO' && !/^https?:\/\//.test(params.video_url ?? '')) invalidParameter('video_url is required for VIDEO posts.');
    if (params.link_attachment !== undefined && mediaType !== 'TEXT') invalidParameter('link_attachment is only available on text posts.');
    if (mediaType === 'CAROUSEL') {
      const children = (params.children ?? '').split(',').filter(Boolean);
      if (children.length < 2 || children.length > 20) invalidParameter('A carousel has 2 to 20 children.');
      for (const childId of children) {
        const child = meta.containers.get(childId);
        if (child === undefined || child.ownerId !== userId || child.params.is_carousel_item !== 'true' || child.status !== 'FINISHED') {
          invalidParameter(`Child ${childId} is not a finished carousel item of this profile.`);
        }
      }
    }
    if (params.reply_to_id !== undefined && post(params.reply_to_id) === undefined) {
      throw graphError({ status: 400, code: 100, subcode: 33, message: `Object with ID '${params.reply_to_id}' does not exist.`, type: 'THApiException' });
    }
    // Videos process for a few status reads; text and images are ready at once.
    return meta.createContainer({ platform: 'threads', ownerId: userId, kind: mediaType, params, processingReads: mediaType === 'VIDEO' ? 2 : 0 });
  }

  async function publish(options: { userId: string; params: Record<string, string>; response: ServerResponse }): Promise<void> {
    const { userId, params } = options;
    const creationId = params.creation_id ?? '';
    const container = meta.containers.get(creationId);
    if (container?.params.is_carousel_item === 'true') invalidParameter('A carousel item is published through its carousel.');
    const reply = container?.params.reply_to_id !== undefined;
    const drop = await applyWriteFault({ state, platform: 'threads', shape: metaFaultShape });
    const published = meta.publishContainer({
      id: creationId,
      ownerPlatform: 'threads',
      ownerId: userId,
      limitKey: reply ? `threads-replies:${userId}` : `threads:${userId}`,
      limit: reply ? THREADS_REPLY_LIMIT : (META_PUBLISHING_LIMITS.threads ?? 250),
      mediaId: newMediaId,
    });
    const children = (published.params.children ?? '').split(',').filter(Boolean);
    state.addPost({
      platform: 'threads',
      id: published.publishedId!,
      authorId: userId,
      text: published.params.text ?? '',
      mediaIds: published.kind === 'CAROUSEL' ? children : published.kind === 'TEXT' ? [] : [published.id],
      ...(published.params.reply_to_id !== undefined && { replyTo: published.params.reply_to_id }),
      raw: published.params,
    });
    if (drop) dropConnection(options.response);
    else sendJson({ response: options.response, status: 200, body: { id: published.publishedId } });
  }

  async function graph(request: SandboxRequest, response: ServerResponse, segments: string[]): Promise<boolean> {
    const params = await graphParams(request);
    const user = meta.authenticate({ platform: 'threads', request, params });
    const route = `${request.method} ${segments.join('/')}`;
    const own = (id: string) => (id === 'me' ? user.userId : id);
    if (route === 'GET me') {
      sendJson({ response, status: 200, body: { id: user.userId, username: threadsUser.username, name: threadsUser.name, threads_profile_picture_url: `${options.baseUrl()}/threads/avatar.png` } });
      return true;
    }
    const edge = /^(GET|POST) (\w+)\/(threads|threads_publish|threads_publishing_limit)$/.exec(route);
    if (edge !== null) {
      const userId = own(edge[2]!);
      if (userId !== user.userId) throw graphError({ status: 403, code: 10, message: '(#10) The token does not belong to this profile.', type: 'THApiException' });
      if (edge[1] === 'GET' && edge[3] === 'threads_publishing_limit') {
        const total = META_PUBLISHING_LIMITS.threads ?? 250;
        sendJson({
          response,
          status: 200,
          body: {
            data: [
              {
                quota_usage: meta.publishingUsage({ key: `threads:${userId}` }),
                config: { quota_total: total, quota_duration: 86_400 },
                reply_quota_usage: meta.publishingUsage({ key: `threads-replies:${userId}` }),
                reply_config: { quota_total: THREADS_REPLY_LIMIT, quota_duration: 86_400 },
              },
            ],
          },
        });
        return true;
      }
      if (edge[1] === 'POST' && edge[3] === 'threads') {
        requireScope({ scopes: user.scopes, scope: 'threads_content_publish' });
        const container = createContainer({ userId, params });
        sendJson({ response, status: 200, body: { id: container.id } });
        return true;
      }
      if (edge[1] === 'POST' && edge[3] === 'threads_publish') {
        requireScope({ scopes: user.scopes, scope: 'threads_content_publish' });
        await publish({ userId, params, response });
        return true;
      }
      return false;
    }
    const node = /^(GET|DELETE) (\d+)$/.exec(route);
    if (node === null) return false;
    const id = node[2]!;
    if (node[1] === 'GET' && meta.containers.has(id)) {
      const container = meta.readContainer({ id, ownerPlatform: 'threads' });
      sendJson({ response, status: 200, body: { id, status: container.status, ...(container.errorMessage !== undefined && { error_message: container.errorMessage }) } });
      return true;
    }
    const existing = post(id);
    if (existing === undefined) throw graphError({ status: 400, code: 100, subcode: 33, message: `Unsupported ${node[1] === 'GET' ? 'get' : 'delete'} request. Object with ID '${id}' does not exist.`, type: 'THApiException' });
    if (node[1] === 'GET') {
      sendJson({ response, status: 200, body: { id, permalink: `${options.baseUrl()}/posts/threads/${id}` } });
      return true;
    }
    if (existing.authorId !== user.userId) throw graphError({ status: 403, code: 10, message: '(#10) Only the author can delete a post.', type: 'THApiException' });
    existing.deleted = true;
    state.record({ platform: 'threads', kind: 'delete', summary: id });
    sendJson({ response, status: 200, body: { success: true, deleted_id: id } });
    return true;
  }

  return {
    prefix: 'threads',
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const path = request.path;
      if (request.method === 'GET' && path === '/oauth/authorize') {
        oauth.authorize(request, response);
        return true;
      }
      if (request.method === 'POST' && path === '/oauth/consent') {
        await oauth.consent(request, response);
        return true;
      }
      if (request.method === 'POST' && path === '/oauth/access_token') {
        await oauth.token(request, response);
        return true;
      }
      if (request.method === 'GET' && path === '/access_token') {
        meta.longLivedSwap({ platform: 'threads', params: await graphParams(request), response, grantType: 'th_exchange_token', tokenParameter: 'access_token' });
        return true;
      }
      if (request.method === 'GET' && path === '/refresh_access_token') {
        meta.refreshLongLived({ platform: 'threads', params: await graphParams(request), response, grantType: 'th_refresh_token' });
        return true;
      }
      const [, version = '', ...segments] = path.split('/');
      // v1.0 is the only version Threads serves.
      if (version !== 'v1.0') return false;
      return graph(request, response, segments);
    },
  };
}
