import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection } from './sandbox-faults.js';
import { sendJson, type SandboxRequest } from './sandbox-http.js';
import { graphError, graphParams, META_PUBLISHING_LIMITS, metaFaultShape, metaOAuthProfile, type MetaContainer, type MetaGraph } from './sandbox-meta-graph.js';
import { createOAuthServer } from './sandbox-oauth.js';
import type { SandboxState } from './sandbox-state.js';

/** The professional account the consent page signs in as; `appScopedId` is what `/me`'s `id` says. */
export const instagramUser = { id: '17841400000099001', appScopedId: '7200000000099', username: 'sandbox.bakery', name: 'Sandbox Bakery' };

/** Status reads a video container stays `IN_PROGRESS` for; images are `FINISHED` at once. */
const VIDEO_PROCESSING_READS = 2;
const MEDIA_TYPES = new Set(['REELS', 'STORIES', 'CAROUSEL', 'VIDEO', 'IMAGE']);

/**
 * Instagram API with Instagram Login under `/instagram`: the consent page
 * (`/instagram/oauth/authorize`), the code exchange with Instagram's own answer
 * (`{ access_token, user_id, permissions }`), the `ig_exchange_token` swap and `ig_refresh_token`
 * refresh, and Graph (`/instagram/v<NN>/…`): `/me`, `content_publishing_limit`, containers for
 * images, carousel items, carousels, Reels and Stories (videos process for a few reads),
 * `media_publish` once per container with the rolling limit, permalinks, the account's media and
 * Stories, and comments (with `instagram_business_manage_comments`). Tokens, containers and
 * limits are the shared Meta pieces'.
 */
export function createInstagramEmulator(options: { state: SandboxState; meta: MetaGraph; baseUrl: () => string }) {
  const { state, meta } = options;
  const oauth = createOAuthServer({
    state,
    // Instagram answers the code exchange in its own shape, not RFC 6749's.
    profile: metaOAuthProfile({
      platform: 'instagram',
      displayName: 'Instagram',
      user: { id: instagramUser.id, username: instagramUser.username, name: instagramUser.name },
      codeLifetimeSeconds: 3600,
      codeExchangeAnswer: ({ standard, userId, scopes }) => ({ access_token: standard.access_token, user_id: userId, permissions: scopes.join(',') }),
    }),
  });
  const limitKey = (userId: string) => `instagram:${userId}`;
  const mediaIds = new Map<string, { userId: string; kind: string; caption: string; at: number }>();
  let nextMedia = 1;

  function asAccount(options: { request: SandboxRequest; params: Record<string, string>; userId?: string; scope?: string }) {
    const auth = meta.authenticate({ platform: 'instagram', request: options.request, params: options.params });
    if (options.userId !== undefined && auth.userId !== options.userId) {
      throw graphError({ status: 400, code: 100, subcode: 33, message: `Unsupported request. Object with ID '${options.userId}' does not exist or cannot be loaded due to missing permissions.`, type: 'GraphMethodException' });
    }
    if (options.scope !== undefined && !auth.scopes.includes(options.scope)) {
      throw graphError({ status: 403, code: 10, message: `(#10) Application does not have permission for this action (${options.scope}).` });
    }
    return auth;
  }

  /** Checks a container request the way Instagram does before it accepts one. */
  function containerKind(params: Record<string, string>, userId: string): { kind: string; reads: number } {
    const type = params.media_type;
    if (type !== undefined && !MEDIA_TYPES.has(type)) throw graphError({ status: 400, code: 100, message: `(#100) The parameter media_type must be one of ${[...MEDIA_TYPES].join(', ')}.` });
    if (type === 'CAROUSEL') {
      const children = (params.children ?? '').split(',').filter(Boolean);
      if (children.length < 2 || children.length > 10) throw graphError({ status: 400, code: 100, subcode: 2_207_028, message: 'Carousels take 2 to 10 items.' });
      for (const id of children) {
        const child: MetaContainer | undefined = meta.containers.get(id);
        if (child === undefined || child.ownerId !== userId || child.kind.startsWith('carousel-item') === false) {
          throw graphError({ status: 400, code: 100, subcode: 2_207_028, message: `The carousel item ${id} is not a carousel item container of this account.` });
        }
        if (child.status !== 'FINISHED') throw graphError({ status: 400, code: 9007, subcode: 2_207_027, message: `The carousel item ${id} is not ready.` });
      }
      return { kind: 'carousel', reads: 0 };
    }
    const video = params.video_url !== undefined;
    if (!video && params.image_url === undefined) throw graphError({ status: 400, code: 100, message: '(#100) image_url or video_url is required.' });
    if (video && type === undefined) throw graphError({ status: 400, code: 100, message: '(#100) media_type is required for videos (REELS, STORIES, or VIDEO for carousel items).' });
    if (type === 'VIDEO' && params.is_carousel_item !== 'true') throw graphError({ status: 400, code: 100, subcode: 2_207_023, message: 'The VIDEO media type is only for carousel items; publish Reels with REELS.' });
    if (params.alt_text !== undefined && video) throw graphError({ status: 400, code: 100, message: '(#100) alt_text is for images only.' });
    const prefix = params.is_carousel_item === 'true' ? 'carousel-item-' : '';
    const kind = `${prefix}${type === 'STORIES' ? 'story' : type === 'REELS' ? 'reel' : video ? 'video' : 'image'}`;
    return { kind, reads: video ? VIDEO_PROCESSING_READS : 0 };
  }

  function mediaEntry(id: string) {
    const media = mediaIds.get(id);
    if (media === undefined) throw graphError({ status: 400, code: 100, subcode: 33, message: `Unsupported get request. Object with ID '${id}' does not exist.`, type: 'GraphMethodException' });
    const shortcode = `SBX${id.slice(-8)}`;
    return { media, body: { id, permalink: `${options.baseUrl()}/posts/instagram/${id}`, shortcode, media_product_type: media.kind === 'reel' ? 'REELS' : media.kind === 'story' ? 'STORY' : 'FEED' } };
  }

  async function graph(request: SandboxRequest, response: ServerResponse, segments: string[]): Promise<boolean> {
    const route = `${request.method} ${segments.join('/')}`;
    const params = await graphParams(request);
    const [first = '', edge] = segments;
    if (route === 'GET me') {
      const auth = asAccount({ request, params });
      sendJson({ response, status: 200, body: { id: instagramUser.appScopedId, user_id: auth.userId, username: instagramUser.username, name: instagramUser.name, account_type: 'BUSINESS', profile_picture_url: `${options.baseUrl()}/instagram/avatar.jpg` } });
      return true;
    }
    if (route === `GET ${first}/content_publishing_limit`) {
      asAccount({ request, params, userId: first });
      sendJson({ response, status: 200, body: { data: [{ quota_usage: meta.publishingUsage({ key: limitKey(first) }), config: { quota_total: META_PUBLISHING_LIMITS.instagram, quota_duration: 86_400 } }] } });
      return true;
    }
    if (route === `POST ${first}/media`) {
      asAccount({ request, params, userId: first, scope: 'instagram_business_content_publish' });
      const { kind, reads } = containerKind(params, first);
      const container = meta.createContainer({ platform: 'instagram', ownerId: first, kind, params, processingReads: reads });
      sendJson({ response, status: 200, body: { id: container.id } });
      return true;
    }
    if (route === `POST ${first}/media_publish`) {
      asAccount({ request, params, userId: first, scope: 'instagram_business_content_publish' });
      const drop = await applyWriteFault({ state, platform: 'instagram', shape: metaFaultShape });
      const container = meta.publishContainer({
        id: params.creation_id ?? '',
        ownerPlatform: 'instagram',
        ownerId: first,
        limitKey: limitKey(first),
        limit: META_PUBLISHING_LIMITS.instagram ?? 50,
        mediaId: () => String(17_918_000_000_000_000n + BigInt(nextMedia++)),
      });
      const id = container.publishedId!;
      const kind = container.kind;
      const caption = container.params.caption ?? '';
      mediaIds.set(id, { userId: first, kind, caption, at: state.now() });
      const items = kind === 'carousel' ? (container.params.children ?? '').split(',') : [container.id];
      state.addPost({ platform: 'instagram', id, authorId: first, text: caption, mediaIds: items, raw: { kind, params: container.params } });
      if (drop) dropConnection(response);
      else sendJson({ response, status: 200, body: { id } });
      return true;
    }
    if (request.method === 'GET' && (edge === 'media' || edge === 'stories') && segments.length === 2) {
      asAccount({ request, params, userId: first });
      const data = [...mediaIds.entries()]
        .filter(([, media]) => media.userId === first && (edge === 'stories') === (media.kind === 'story'))
        .reverse()
        .map(([id, media]) => ({ id, caption: media.caption, timestamp: new Date(media.at).toISOString().replace('Z', '+0000'), permalink: mediaEntry(id).body.permalink }));
      sendJson({ response, status: 200, body: { data: data.slice(0, Number(params.limit ?? 25)) } });
      return true;
    }
    if (route === `POST ${first}/comments`) {
      const { media } = mediaEntry(first);
      asAccount({ request, params, userId: media.userId, scope: 'instagram_business_manage_comments' });
      const id = String(17_870_000_000_000_000n + BigInt(nextMedia++));
      state.addPost({ platform: 'instagram', id, authorId: media.userId, text: params.message ?? '', mediaIds: [], replyTo: first, raw: params });
      sendJson({ response, status: 200, body: { id } });
      return true;
    }
    if (request.method === 'GET' && segments.length === 1) {
      asAccount({ request, params });
      const container = meta.containers.get(first);
      if (container !== undefined && container.platform === 'instagram') {
        const read = meta.readContainer({ id: first, ownerPlatform: 'instagram' });
        sendJson({ response, status: 200, body: { id: read.id, status_code: read.status, ...(read.errorMessage !== undefined && { status: read.errorMessage }) } });
        return true;
      }
      sendJson({ response, status: 200, body: mediaEntry(first).body });
      return true;
    }
    return false;
  }

  async function handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
    const segments = request.path.split('/').filter(Boolean);
    const route = `${request.method} ${segments.join('/')}`;
    if (route === 'GET oauth/authorize') {
      oauth.authorize(request, response);
      return true;
    }
    if (route === 'POST oauth/consent') {
      await oauth.consent(request, response);
      return true;
    }
    if (route === 'POST oauth/access_token') {
      await oauth.token(request, response);
      return true;
    }
    if (route === 'GET access_token') {
      meta.longLivedSwap({ platform: 'instagram', params: await graphParams(request), response, grantType: 'ig_exchange_token', tokenParameter: 'access_token' });
      return true;
    }
    if (route === 'GET refresh_access_token') {
      meta.refreshLongLived({ platform: 'instagram', params: await graphParams(request), response, grantType: 'ig_refresh_token' });
      return true;
    }
    // segments[0] is the Graph version (`v26.0`); any current one is accepted.
    if (/^v\d+\.\d+$/.test(segments[0] ?? '')) return graph(request, response, segments.slice(1));
    return false;
  }

  return { prefix: 'instagram', handle };
}
