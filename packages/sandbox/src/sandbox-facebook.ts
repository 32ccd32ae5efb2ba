import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection } from './sandbox-faults.js';
import { readBody, sendJson, type SandboxRequest } from './sandbox-http.js';
import { graphError, graphParams, META_PUBLISHING_LIMITS, metaFaultShape, metaOAuthProfile, type MetaGraph } from './sandbox-meta-graph.js';
import { createOAuthServer } from './sandbox-oauth.js';
import type { SandboxState } from './sandbox-state.js';

export const facebookUser = { id: '10000000000001', username: 'sandbox.user', name: 'Sandbox User' };
/** The user's own Page, and a Page reached only through a Business Portfolio. */
export const facebookPages = [
  { id: '880001', name: 'Sandbox Bakery', username: 'sandboxbakery', source: 'user' as const },
  { id: '880002', name: 'Sandbox Portfolio Page', username: 'sandboxportfolio', source: 'business' as const },
];
export const facebookBusiness = { id: '770001', name: 'Sandbox Holdings' };

/**
 * Facebook Pages as the Graph API serves them, under `/facebook`: the Login dialog
 * (`/facebook/www/<v>/dialog/oauth`), the token endpoint with the `fb_exchange_token` swap,
 * `/me/accounts`, `/me/businesses` → `owned_pages`, and publishing as a Page (feed, photos with
 * `attached_media`, Page videos on `/facebook/graph-video`, Reels with the byte upload on
 * `/facebook/rupload`), comments and deletes, each checked with the Page's own token.
 */
export function createFacebookEmulator(options: { state: SandboxState; meta: MetaGraph; baseUrl: () => string }) {
  const { state, meta } = options;
  const oauth = createOAuthServer({
    state,
    profile: metaOAuthProfile({ platform: 'facebook', displayName: 'Facebook', user: facebookUser, codeLifetimeSeconds: 600 }),
  });
  /** Page id → its Page token, minted when a user token lists the Pages. */
  const pageTokens = new Map<string, string>();
  const unpublishedPhotos = new Map<string, string>();
  const reels = new Map<string, { pageId: string; uploaded: boolean }>();
  let nextId = 1;
  const newId = () => String(5_000_000 + nextId++);

  function pageToken(options: { pageId: string; clientId: string | undefined }): string {
    const existing = pageTokens.get(options.pageId);
    if (existing !== undefined && state.accessTokens.has(existing)) return existing;
    // Page tokens from a long-lived user token do not expire.
    const token = meta.issueToken({ platform: 'facebook', userId: options.pageId, scopes: ['page'], ...(options.clientId !== undefined && { clientId: options.clientId }), lifetimeSeconds: 100 * 365 * 86_400 });
    pageTokens.set(options.pageId, token);
    return token;
  }

  function pageEntry(options: { page: (typeof facebookPages)[number]; clientId: string | undefined; withTasks: boolean }) {
    const { page } = options;
    return {
      id: page.id,
      name: page.name,
      username: page.username,
      access_token: pageToken({ pageId: page.id, clientId: options.clientId }),
      picture: { data: { url: `https://sandbox.invalid/${page.id}.png` } },
      ...(options.withTasks && { tasks: ['ANALYZE', 'ADVERTISE', 'MODERATE', 'CREATE_CONTENT', 'MANAGE'] }),
    };
  }

  /** A Page call must carry that Page's own token. */
  function asPage(options: { request: SandboxRequest; params: Record<string, string>; pageId: string }) {
    const auth = meta.authenticate({ platform: 'facebook', request: options.request, params: options.params });
    if (auth.userId !== options.pageId) throw graphError({ status: 403, code: 200, message: '(#200) The user hasn’t authorized the application to perform this action, or this is not a Page access token for this Page.' });
    return auth;
  }

  /** The armed write fault, in Graph's shape; `true` when the connection must drop after the write. */
  function writeFault(): Promise<boolean> {
    return applyWriteFault({ state, platform: 'facebook', shape: metaFaultShape });
  }

  function finish(options: { response: ServerResponse; drop: boolean; status: number; body: unknown }): void {
    if (options.drop) dropConnection(options.response);
    else sendJson({ response: options.response, status: options.status, body: options.body });
  }

  function addPost(options: { id: string; pageId: string; text: string; mediaIds: string[]; replyTo?: string; raw: unknown }): void {
    state.addPost({ platform: 'facebook', id: options.id, authorId: options.pageId, text: options.text, mediaIds: options.mediaIds, ...(options.replyTo !== undefined && { replyTo: options.replyTo }), raw: options.raw });
  }

  function refuseDuplicate(options: { pageId: string; text: string }): void {
    const last = [...state.posts].reverse().find((post) => post.platform === 'facebook' && post.authorId === options.pageId && !post.replyTo && !post.deleted);
    if (options.text !== '' && last?.text === options.text) throw graphError({ status: 400, code: 506, subcode: 1_455_006, message: 'Duplicate status message' });
  }

  async function graph(request: SandboxRequest, response: ServerResponse, path: string): Promise<boolean> {
    const segments = path.split('/').filter(Boolean);
    // segments[0] is the version (`v26.0`); Graph accepts any current one.
    if (!/^v\d+\.\d+$/.test(segments[0] ?? '')) return false;
    const rest = segments.slice(1);
    const route = `${request.method} ${rest.join('/')}`;
    if (route === 'POST oauth/access_token') {
      await oauth.token(request, response);
      return true;
    }
    const params = await graphParams(request);
    if (route === 'GET oauth/access_token') {
      meta.longLivedSwap({ platform: 'facebook', params, response, grantType: 'fb_exchange_token', tokenParameter: 'fb_exchange_token' });
      return true;
    }
    if (rest[0] === 'me') {
      const user = meta.authenticate({ platform: 'facebook', request, params });
      if (user.userId !== facebookUser.id) throw graphError({ status: 400, code: 190, message: 'A user access token is required.' });
      const clientId = user.clientId;
      if (route === 'GET me/accounts') {
        const data = user.scopes.includes('pages_show_list') ? facebookPages.filter((page) => page.source === 'user').map((page) => pageEntry({ page, clientId, withTasks: true })) : [];
        sendJson({ response, status: 200, body: { data, paging: { cursors: { before: 'QVFI', after: 'QVFI' } } } });
        return true;
      }
      if (route === 'GET me/businesses') {
        if (!user.scopes.includes('business_management')) throw graphError({ status: 403, code: 200, message: '(#200) Requires business_management permission to manage the object' });
        sendJson({ response, status: 200, body: { data: [facebookBusiness] } });
        return true;
      }
      if (route === 'GET me/permissions') {
        const known = ['pages_show_list', 'pages_manage_posts', 'pages_read_engagement', 'business_management', 'pages_manage_engagement'];
        sendJson({ response, status: 200, body: { data: known.map((permission) => ({ permission, status: user.scopes.includes(permission) ? 'granted' : 'declined' })) } });
        return true;
      }
      if (route === 'DELETE me/permissions') {
        for (const [token, stored] of state.accessTokens) if (stored.platform === 'facebook' && (stored.userId === facebookUser.id || pageTokens.get(stored.userId) === token)) state.accessTokens.delete(token);
        sendJson({ response, status: 200, body: { success: true } });
        return true;
      }
      return false;
    }
    const businessEdge = /^GET (\d+)\/(owned_pages|client_pages)$/.exec(route);
    if (businessEdge !== null) {
      const user = meta.authenticate({ platform: 'facebook', request, params });
      if (businessEdge[1] !== facebookBusiness.id) throw graphError({ status: 400, code: 100, subcode: 33, message: 'Object does not exist', type: 'GraphMethodException' });
      const data = businessEdge[2] === 'owned_pages' ? facebookPages.filter((page) => page.source === 'business').map((page) => pageEntry({ page, clientId: user.clientId, withTasks: false })) : [];
      sendJson({ response, status: 200, body: { data } });
      return true;
    }
    const pageEdge = /^POST (\d+)\/(feed|photos|videos|video_reels)$/.exec(route);
    if (pageEdge !== null) {
      const pageId = pageEdge[1]!;
      asPage({ request, params, pageId });
      if (!facebookPages.some((page) => page.id === pageId)) throw graphError({ status: 400, code: 100, subcode: 33, message: 'Page does not exist', type: 'GraphMethodException' });
      return pageWrite({ response, pageId, edge: pageEdge[2]!, params });
    }
    const comment = /^POST (\d+(?:_\d+)?)\/comments$/.exec(route);
    if (comment !== null) {
      const target = state.posts.find((post) => post.platform === 'facebook' && post.id === comment[1] && !post.deleted);
      if (target === undefined) throw graphError({ status: 400, code: 100, subcode: 33, message: 'Object does not exist', type: 'GraphMethodException' });
      asPage({ request, params, pageId: target.authorId });
      const drop = await writeFault();
      const id = `${comment[1]}_${newId()}`;
      addPost({ id, pageId: target.authorId, text: params.message ?? '', mediaIds: [], replyTo: target.id, raw: params });
      finish({ response, drop, status: 200, body: { id } });
      return true;
    }
    const remove = /^DELETE (\d+(?:_\d+)?)$/.exec(route);
    if (remove !== null) {
      const target = state.posts.find((post) => post.platform === 'facebook' && post.id === remove[1] && !post.deleted);
      if (target === undefined) throw graphError({ status: 400, code: 100, subcode: 33, message: 'Unsupported delete request. Object does not exist.', type: 'GraphMethodException' });
      asPage({ request, params, pageId: target.authorId });
      target.deleted = true;
      sendJson({ response, status: 200, body: { success: true } });
      return true;
    }
    return false;
  }

  async function pageWrite(write: { response: ServerResponse; pageId: string; edge: string; params: Record<string, string> }): Promise<boolean> {
    const { response, pageId, edge, params } = write;
    if (edge === 'feed') {
      const attached = params.attached_media === undefined ? [] : (JSON.parse(params.attached_media) as Array<{ media_fbid: string }>).map((entry) => entry.media_fbid);
      for (const id of attached) if (unpublishedPhotos.get(id) !== pageId) throw graphError({ status: 400, code: 100, message: `(#100) Invalid attached_media ${id}` });
      const text = params.message ?? '';
      if (text === '' && params.link === undefined && attached.length === 0) throw graphError({ status: 400, code: 100, message: '(#100) A post needs a message, a link or media.' });
      refuseDuplicate({ pageId, text });
      const drop = await writeFault();
      const id = `${pageId}_${newId()}`;
      addPost({ id, pageId, text: params.link === undefined ? text : `${text}\n${params.link}`.trim(), mediaIds: attached, raw: params });
      finish({ response, drop, status: 200, body: { id, permalink_url: `https://www.facebook.com/${pageId}/posts/${id.split('_')[1]}` } });
      return true;
    }
    if (edge === 'photos') {
      if (params.url === undefined && params.source === undefined) throw graphError({ status: 400, code: 324, message: '(#324) Requires upload file' });
      const photoId = newId();
      if (params.published === 'false') {
        unpublishedPhotos.set(photoId, pageId);
        sendJson({ response, status: 200, body: { id: photoId } });
        return true;
      }
      refuseDuplicate({ pageId, text: params.message ?? '' });
      const drop = await writeFault();
      const postId = `${pageId}_${newId()}`;
      addPost({ id: postId, pageId, text: params.message ?? '', mediaIds: [photoId], raw: params });
      finish({ response, drop, status: 200, body: { id: photoId, post_id: postId } });
      return true;
    }
    if (edge === 'videos') {
      if (params.file_url === undefined && params.source === undefined) throw graphError({ status: 400, code: 390, message: 'There was a problem uploading your video file. Please try again.' });
      const drop = await writeFault();
      const videoId = newId();
      addPost({ id: videoId, pageId, text: params.description ?? '', mediaIds: [videoId], raw: params });
      finish({ response, drop, status: 200, body: { id: videoId } });
      return true;
    }
    // video_reels: start → upload (rupload) → finish, limited to 30 per Page per 24 h.
    if (params.upload_phase?.toLowerCase() === 'start') {
      const videoId = newId();
      reels.set(videoId, { pageId, uploaded: false });
      sendJson({ response, status: 200, body: { video_id: videoId, upload_url: `${options.baseUrl()}/facebook/rupload/video-upload/v26.0/${videoId}` } });
      return true;
    }
    if (params.upload_phase?.toLowerCase() === 'finish') {
      const reel = reels.get(params.video_id ?? '');
      if (reel === undefined || reel.pageId !== pageId) throw graphError({ status: 400, code: 100, message: 'Invalid video_id' });
      if (!reel.uploaded) throw graphError({ status: 400, code: 6000, message: 'There was a problem uploading your video file: no bytes were received.' });
      meta.countPublish({ key: `facebook-reels:${pageId}`, limit: META_PUBLISHING_LIMITS['facebook-reels'] ?? 30, platform: 'facebook' });
      const drop = await writeFault();
      addPost({ id: params.video_id!, pageId, text: params.description ?? '', mediaIds: [params.video_id!], raw: params });
      finish({ response, drop, status: 200, body: { success: true } });
      return true;
    }
    throw graphError({ status: 400, code: 100, message: 'upload_phase must be start or finish', type: 'GraphMethodException' });
  }


  /** `POST /facebook/rupload/video-upload/<v>/<video-id>`: the Reel's bytes (or a `file_url` header), `Authorization: OAuth <page token>`. */
  async function rupload(request: SandboxRequest, response: ServerResponse, path: string): Promise<boolean> {
    const match = /^\/video-upload\/v\d+\.\d+\/(\d+)$/.exec(path);
    if (match === null || request.method !== 'POST') return false;
    const reel = reels.get(match[1]!);
    if (reel === undefined) throw graphError({ status: 400, code: 100, message: 'Unknown upload session' });
    asPage({ request, params: Object.fromEntries(request.url.searchParams), pageId: reel.pageId });
    const body = await readBody({ request: request.raw, maxBytes: 2 * 1024 * 1024 * 1024, keepBytes: 0 });
    const fileUrl = request.headers.file_url;
    if (fileUrl === undefined) {
      if (request.headers.offset !== '0' || Number(request.headers.file_size) !== body.size || body.size === 0) {
        throw graphError({ status: 400, code: 6001, message: `The upload's offset/file_size headers do not match the ${body.size} bytes received.` });
      }
    }
    reel.uploaded = true;
    sendJson({ response, status: 200, body: { success: true } });
    return true;
  }

  return {
    prefix: 'facebook',
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const [, host = '', ...rest] = request.path.split('/');
      const path = `/${rest.join('/')}`;
      if (host === 'www') {
        if (request.method === 'GET' && /^\/v\d+\.\d+\/dialog\/oauth$/.test(path)) {
          oauth.authorize(request, response);
          return true;
        }
        if (request.method === 'POST' && /^\/v\d+\.\d+\/dialog\/consent$/.test(path)) {
          await oauth.consent(request, response);
          return true;
        }
        return false;
      }
      if (host === 'graph' || host === 'graph-video') return graph(request, response, path);
      if (host === 'rupload') return rupload(request, response, path);
      return false;
    },
  };
}
