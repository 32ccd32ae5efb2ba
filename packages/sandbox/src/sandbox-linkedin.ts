import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection, type FaultShape } from './sandbox-faults.js';
import { SandboxHttpError, bearerToken, readBody, readJson, sendJson, type SandboxRequest } from './sandbox-http.js';
import { createOAuthServer } from './sandbox-oauth.js';
import type { SandboxState } from './sandbox-state.js';

export const linkedinUser = { id: 'sbxMember01', username: 'sandbox-member', name: 'Sandbox Member' };
export const linkedinOrganization = { id: '90000001', name: 'Sandbox Org', vanityName: 'sandbox-org' };

const liError = (status: number, code: string, message: string, serviceErrorCode?: number) =>
  new SandboxHttpError({ status, body: { status, code, message, ...(serviceErrorCode ? { serviceErrorCode } : {}) } });

const faultShape: FaultShape = {
  rateLimitHeaders: (_reset, resetSeconds) => ({ 'retry-after': String(resetSeconds) }),
  rateLimitBody: { status: 429, code: 'TOO_MANY_REQUESTS', message: 'Resource level throttle limit exceeded' },
  serverErrorBody: (status) => ({ status, message: 'Internal Server Error' }),
};

/** Versions the emulated API accepts; anything else answers 426 like LinkedIn does. */
const ACTIVE_VERSION = /^20(2[5-9])(0[1-9]|1[0-2])$/;

/** LinkedIn's video part size (4 MiB); the sandbox lets tests shrink it to get several parts from a few KB. */
const VIDEO_PART_BYTES = 4 * 1024 * 1024;
const VIDEO_MAX_BYTES = 500 * 1000 * 1000;

interface LinkedInVideo {
  urn: string;
  owner: string;
  size: number;
  uploadToken: string;
  /** Secret path segment of the part URLs, standing in for LinkedIn's signed upload URLs. */
  uploadKey: string;
  parts: Array<{ firstByte: number; lastByte: number; etag?: string }>;
  status: 'WAITING_UPLOAD' | 'PROCESSING' | 'AVAILABLE' | 'PROCESSING_FAILED';
  statusChecks: number;
}

export function createLinkedInEmulator(options: { state: SandboxState; baseUrl: () => string; videoPartBytes?: number }) {
  const { state } = options;
  const oauth = createOAuthServer({
    state,
    profile: {
      platform: 'linkedin',
      displayName: 'LinkedIn',
      clientAuthentication: 'client_secret_post',
      pkceRequired: false,
      accessTokenLifetimeSeconds: 60 * 86400,
      refresh: 'none',
      invalidGrantError: 'invalid_grant',
      invalidGrantDescription: 'The provided authorization grant or refresh token is invalid, expired or revoked.',
      codeLifetimeSeconds: 1800,
      scopeSeparator: ' ',
      user: linkedinUser,
    },
  });
  const images = new Map<string, { urn: string; owner: string; uploaded: boolean; size: number }>();
  const videos = new Map<string, LinkedInVideo>();
  const partBytes = options.videoPartBytes ?? VIDEO_PART_BYTES;

  function authenticate(request: SandboxRequest, options: { versioned: boolean; scope?: string }): { userId: string; scopes: string[] } {
    const token = bearerToken(request);
    const stored = token ? state.accessTokens.get(token) : undefined;
    if (!stored || stored.platform !== 'linkedin') throw liError(401, 'INVALID_ACCESS_TOKEN', 'Invalid access token', 65600);
    if (stored.expiresAt <= state.now()) throw liError(401, 'EXPIRED_ACCESS_TOKEN', 'The token used in the request has expired', 65602);
    if (options.versioned) {
      const version = String(request.headers['linkedin-version'] ?? '');
      if (!ACTIVE_VERSION.test(version)) throw liError(426, 'NONEXISTENT_VERSION', `Requested version ${version} is not active`);
      if (request.headers['x-restli-protocol-version'] !== '2.0.0') throw liError(400, 'PROTOCOL_VERSION_MISSING', 'X-Restli-Protocol-Version 2.0.0 is required');
    }
    if (options.scope && !stored.scopes.includes(options.scope)) throw liError(403, 'ACCESS_DENIED', `Not enough permissions to access: ${options.scope}`, 100);
    return { userId: stored.userId, scopes: stored.scopes };
  }

  function mayActAs(author: unknown, userId: string, scopes: string[]): boolean {
    if (author === `urn:li:person:${userId}`) return true;
    return author === `urn:li:organization:${linkedinOrganization.id}` && scopes.includes('w_organization_social');
  }

  function checkAuthor(author: unknown, userId: string, scopes: string[]): void {
    if (!mayActAs(author, userId, scopes)) throw liError(403, 'ACCESS_DENIED', 'Not enough permissions to post as this author', 100);
  }

  async function createPost(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const { userId, scopes } = authenticate(request, { versioned: true, scope: 'w_member_social' });
    const drop = await applyWriteFault({ state, platform: 'linkedin', shape: faultShape });
    const body = (await readJson({ request: request.raw })) as Record<string, unknown> | undefined;
    if (!body) throw liError(422, 'UNPROCESSABLE_ENTITY', 'Body is required');
    checkAuthor(body.author, userId, scopes);
    for (const field of ['commentary', 'visibility', 'distribution', 'lifecycleState']) {
      if (body[field] === undefined) throw liError(422, 'UNPROCESSABLE_ENTITY', `/${field} is required`);
    }
    const commentary = String(body.commentary);
    if (commentary.length > 3000) throw liError(422, 'UNPROCESSABLE_ENTITY', '/commentary exceeds 3000 characters');
    const content = body.content as { media?: { id?: string }; multiImage?: { images?: Array<{ id?: string }> } } | undefined;
    const mediaIds = [content?.media?.id, ...(content?.multiImage?.images?.map((image) => image.id) ?? [])].filter((id): id is string => typeof id === 'string');
    if (content?.multiImage?.images !== undefined && (content.multiImage.images.length < 2 || content.multiImage.images.length > 20)) {
      throw liError(422, 'UNPROCESSABLE_ENTITY', '/content/multiImage/images must have 2 to 20 elements');
    }
    for (const id of mediaIds) {
      if (id.startsWith('urn:li:video:')) {
        const video = videos.get(id);
        // LinkedIn holds a post on a video still processing; one never finalized is refused.
        if (!video || video.status === 'WAITING_UPLOAD' || video.status === 'PROCESSING_FAILED' || video.owner !== String(body.author)) {
          throw liError(422, 'UNPROCESSABLE_ENTITY', `Media ${id} is not available`);
        }
        continue;
      }
      const image = images.get(id);
      if (!image || !image.uploaded || image.owner !== String(body.author)) throw liError(422, 'UNPROCESSABLE_ENTITY', `Media ${id} is not available`);
    }
    if (state.posts.some((post) => post.platform === 'linkedin' && !post.deleted && !post.replyTo && post.authorId === String(body.author) && post.text === commentary)) {
      // LinkedIn names the duplicate in errorDetails.inputErrors, not in the top-level code.
      throw new SandboxHttpError({
        status: 422,
        body: {
          status: 422,
          code: 'UNPROCESSABLE_ENTITY',
          message: 'Content is a duplicate',
          errorDetails: { inputErrors: [{ code: 'DUPLICATE_POST', description: 'Content is a duplicate', input: { inputPath: { fieldPath: '/commentary' } } }] },
        },
      });
    }
    const urn = `urn:li:share:${BigInt('7300000000000000000') + BigInt(state.posts.length + 1)}`;
    state.addPost({ platform: 'linkedin', id: urn, url: `https://www.linkedin.com/feed/update/${urn}/`, authorId: String(body.author), text: commentary, mediaIds, raw: body });
    if (drop) return dropConnection(response);
    response.writeHead(201, { 'x-restli-id': urn, 'content-length': 0 });
    response.end();
  }

  async function initializeImage(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const { userId, scopes } = authenticate(request, { versioned: true, scope: 'w_member_social' });
    const body = (await readJson({ request: request.raw })) as { initializeUploadRequest?: { owner?: string } } | undefined;
    checkAuthor(body?.initializeUploadRequest?.owner, userId, scopes);
    const id = randomBytes(9).toString('base64url');
    const urn = `urn:li:image:${id}`;
    images.set(urn, { urn, owner: String(body?.initializeUploadRequest?.owner), uploaded: false, size: 0 });
    sendJson({
      response,
      status: 200,
      body: { value: { uploadUrlExpiresAt: state.now() + 3600_000, uploadUrl: `${options.baseUrl()}/linkedin/uploads/images/${id}`, image: urn } },
    });
  }

  async function uploadImage(request: SandboxRequest, response: ServerResponse, id: string): Promise<void> {
    authenticate(request, { versioned: false });
    const image = images.get(`urn:li:image:${id}`);
    if (!image) throw liError(404, 'NOT_FOUND', 'Upload URL not found');
    const body = await readBody({ request: request.raw, maxBytes: 50 * 1024 * 1024, keepBytes: 0 });
    image.uploaded = true;
    image.size = body.size;
    state.record({ platform: 'linkedin', kind: 'media', summary: `image upload ${body.size} bytes` });
    response.writeHead(201, { etag: `"${body.sha256.slice(0, 16)}"`, 'content-length': 0 });
    response.end();
  }

  function getImage(request: SandboxRequest, response: ServerResponse, urn: string): void {
    const { userId, scopes } = authenticate(request, { versioned: true });
    const image = images.get(urn);
    if (!image) throw liError(404, 'NOT_FOUND', `Image ${urn} not found`);
    if (!mayActAs(image.owner, userId, scopes)) throw new SandboxHttpError({ status: 403, body: { message: 'Accessing this image resource is forbidden. Please check your permissions for this resource', status: 403 } });
    sendJson({
      response,
      status: 200,
      body: {
        owner: image.owner,
        id: image.urn,
        status: image.uploaded ? 'AVAILABLE' : 'WAITING_UPLOAD',
        ...(image.uploaded ? { downloadUrl: `${options.baseUrl()}/linkedin/media/${encodeURIComponent(image.urn)}`, downloadUrlExpiresAt: state.now() + 3600_000 } : {}),
      },
    });
  }

  async function initializeVideo(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const { userId, scopes } = authenticate(request, { versioned: true, scope: 'w_member_social' });
    const body = (await readJson({ request: request.raw })) as
      | { initializeUploadRequest?: { owner?: string; fileSizeBytes?: unknown; uploadCaptions?: unknown; uploadThumbnail?: unknown } }
      | undefined;
    const upload = body?.initializeUploadRequest;
    if (!upload) throw liError(422, 'UNPROCESSABLE_ENTITY', '/initializeUploadRequest is required');
    checkAuthor(upload.owner, userId, scopes);
    const size = upload.fileSizeBytes;
    if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) throw liError(422, 'UNPROCESSABLE_ENTITY', '/initializeUploadRequest/fileSizeBytes is required');
    if (size > VIDEO_MAX_BYTES) throw liError(422, 'UNPROCESSABLE_ENTITY', `/initializeUploadRequest/fileSizeBytes exceeds ${VIDEO_MAX_BYTES}`);
    const id = randomBytes(9).toString('base64url');
    const video: LinkedInVideo = {
      urn: `urn:li:video:${id}`,
      owner: String(upload.owner),
      size,
      uploadToken: randomBytes(12).toString('base64url'),
      uploadKey: randomBytes(12).toString('base64url'),
      parts: [],
      status: 'WAITING_UPLOAD',
      statusChecks: 0,
    };
    for (let firstByte = 0; firstByte < size; firstByte += partBytes) {
      video.parts.push({ firstByte, lastByte: Math.min(firstByte + partBytes, size) - 1 });
    }
    videos.set(video.urn, video);
    state.record({ platform: 'linkedin', kind: 'media', summary: `video initializeUpload ${size} bytes (${video.parts.length} parts)`, detail: { video: video.urn } });
    sendJson({
      response,
      status: 200,
      body: {
        value: {
          uploadUrlsExpireAt: state.now() + 3600_000,
          video: video.urn,
          uploadInstructions: video.parts.map((part, index) => ({
            uploadUrl: `${options.baseUrl()}/linkedin/uploads/videos/${id}/${index}?sig=${video.uploadKey}`,
            firstByte: part.firstByte,
            lastByte: part.lastByte,
          })),
          uploadToken: video.uploadToken,
        },
      },
    });
  }

  async function uploadVideoPart(request: SandboxRequest, response: ServerResponse, id: string, index: number): Promise<void> {
    const video = videos.get(`urn:li:video:${id}`);
    // The part URLs are signed; a wrong signature is as good as an unknown URL.
    if (!video || request.url.searchParams.get('sig') !== video.uploadKey) throw liError(404, 'NOT_FOUND', 'Upload URL not found');
    const part = video.parts[index];
    if (!part) throw liError(404, 'NOT_FOUND', 'Upload URL not found');
    const expected = part.lastByte - part.firstByte + 1;
    const body = await readBody({ request: request.raw, maxBytes: expected + 1, keepBytes: 0 }).catch(() => undefined);
    if (!body || body.size !== expected) {
      request.raw.resume();
      throw liError(400, 'BAD_REQUEST', `Part ${index} must be exactly ${expected} bytes (bytes ${part.firstByte}-${part.lastByte})`);
    }
    // A re-sent part replaces the previous one, with a new ETag when the bytes differ.
    part.etag = `/ambry-video/signedId/${body.sha256.slice(0, 24)}`;
    state.record({ platform: 'linkedin', kind: 'media', summary: `video part ${index} ${body.size} bytes` });
    response.writeHead(200, { etag: part.etag, 'content-length': 0 });
    response.end();
  }

  async function finalizeVideo(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const { userId, scopes } = authenticate(request, { versioned: true, scope: 'w_member_social' });
    const body = (await readJson({ request: request.raw })) as { finalizeUploadRequest?: { video?: string; uploadToken?: unknown; uploadedPartIds?: unknown } } | undefined;
    const finalize = body?.finalizeUploadRequest;
    if (!finalize) throw liError(422, 'UNPROCESSABLE_ENTITY', '/finalizeUploadRequest is required');
    const video = finalize.video ? videos.get(finalize.video) : undefined;
    if (!video) throw liError(404, 'NOT_FOUND', `Video ${String(finalize.video)} not found`);
    if (!mayActAs(video.owner, userId, scopes)) throw new SandboxHttpError({ status: 403, body: { message: 'Accessing this video resource is forbidden. Please check your permissions for this resource', status: 403 } });
    if (finalize.uploadToken !== video.uploadToken) throw liError(400, 'BAD_REQUEST', '/finalizeUploadRequest/uploadToken does not match the upload');
    const etags = video.parts.map((part) => part.etag);
    const sent = finalize.uploadedPartIds;
    if (!Array.isArray(sent) || etags.some((etag) => etag === undefined) || sent.length !== etags.length || sent.some((etag, index) => etag !== etags[index])) {
      throw liError(400, 'BAD_REQUEST', 'uploadedPartIds must list the ETag of every uploaded part, in order');
    }
    if (video.status === 'WAITING_UPLOAD') video.status = 'PROCESSING';
    state.record({ platform: 'linkedin', kind: 'media', summary: `video finalizeUpload ${video.urn}`, detail: { video: video.urn, uploadedPartIds: sent } });
    response.writeHead(200, { 'content-length': 0 });
    response.end();
  }

  function getVideo(request: SandboxRequest, response: ServerResponse, urn: string): void {
    const { userId, scopes } = authenticate(request, { versioned: true });
    const video = videos.get(urn);
    if (!video) throw liError(404, 'NOT_FOUND', `Video ${urn} not found`);
    if (!mayActAs(video.owner, userId, scopes)) throw new SandboxHttpError({ status: 403, body: { message: 'Accessing this video resource is forbidden. Please check your permissions for this resource', status: 403 } });
    // Processing takes one status read, so a provider sees PROCESSING once and then AVAILABLE.
    if (video.status === 'PROCESSING') {
      video.statusChecks += 1;
      if (video.statusChecks >= 2) video.status = 'AVAILABLE';
    }
    sendJson({
      response,
      status: 200,
      body: {
        owner: video.owner,
        id: video.urn,
        status: video.status,
        ...(video.status === 'AVAILABLE' ? { duration: 4000, aspectRatioWidth: 16, aspectRatioHeight: 9, downloadUrl: `${options.baseUrl()}/linkedin/media/${encodeURIComponent(video.urn)}` } : {}),
      },
    });
  }

  async function createComment(request: SandboxRequest, response: ServerResponse, target: string): Promise<void> {
    const { userId, scopes } = authenticate(request, { versioned: true, scope: 'w_member_social' });
    const drop = await applyWriteFault({ state, platform: 'linkedin', shape: faultShape });
    const body = (await readJson({ request: request.raw })) as { actor?: unknown; object?: unknown; message?: { text?: unknown } } | undefined;
    if (!body) throw liError(422, 'UNPROCESSABLE_ENTITY', 'Body is required');
    checkAuthor(body.actor, userId, scopes);
    if (body.object !== undefined && body.object !== target) throw liError(400, 'BAD_REQUEST', '/object must be the URN in the path');
    const text = body.message?.text;
    if (typeof text !== 'string' || text.length === 0) throw liError(422, 'UNPROCESSABLE_ENTITY', '/message/text is required');
    if (text.length > 1250) throw liError(422, 'UNPROCESSABLE_ENTITY', '/message/text exceeds 1250 characters');
    const post = state.posts.find((candidate) => candidate.platform === 'linkedin' && candidate.id === target && !candidate.deleted && !candidate.replyTo);
    if (!post) throw liError(404, 'NOT_FOUND', `${target} not found`);
    const activity = `urn:li:activity:${target.replace(/^urn:li:(share|ugcPost):/, '')}`;
    const commentId = String(BigInt('7400000000000000000') + BigInt(state.posts.length + 1));
    const urn = `urn:li:comment:(${activity},${commentId})`;
    state.addPost({ platform: 'linkedin', id: urn, authorId: String(body.actor), text, mediaIds: [], replyTo: target, raw: body });
    if (drop) return dropConnection(response);
    sendJson({
      response,
      status: 201,
      headers: { 'x-restli-id': urn },
      body: { actor: body.actor, object: activity, message: { text }, id: commentId, commentUrn: urn, created: { actor: body.actor, time: state.now() } },
    });
  }

  return {
    prefix: 'linkedin',
    faultShape,
    videos,
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const { method, path } = request;
      const upload = /^\/uploads\/images\/([A-Za-z0-9_-]+)$/.exec(path);
      const videoPart = /^\/uploads\/videos\/([A-Za-z0-9_-]+)\/(\d+)$/.exec(path);
      const imageMatch = /^\/api\/rest\/images\/([^/]+)$/.exec(path);
      const videoMatch = /^\/api\/rest\/videos\/([^/]+)$/.exec(path);
      const commentsMatch = /^\/api\/rest\/socialActions\/([^/]+)\/comments$/.exec(path);
      const action = request.url.searchParams.get('action');
      const postMatch = /^\/api\/rest\/posts\/(.+)$/.exec(path);
      if (method === 'GET' && path === '/www/oauth/v2/authorization') oauth.authorize(request, response);
      else if (method === 'POST' && path === '/www/oauth/v2/consent') await oauth.consent(request, response);
      else if (method === 'POST' && path === '/www/oauth/v2/accessToken') await oauth.token(request, response);
      else if (method === 'POST' && path === '/www/oauth/v2/revoke') await oauth.revoke(request, response);
      else if (method === 'GET' && path === '/api/v2/userinfo') {
        authenticate(request, { versioned: false, scope: 'openid' });
        sendJson({ response, status: 200, body: { sub: linkedinUser.id, name: linkedinUser.name, given_name: 'Sandbox', family_name: 'Member', picture: 'https://media.licdn.com/sandbox.jpg', locale: { country: 'US', language: 'en' } } });
      } else if (method === 'GET' && path === '/api/rest/organizationAcls') {
        const { scopes } = authenticate(request, { versioned: true });
        const elements = scopes.includes('r_organization_social') || scopes.includes('rw_organization_admin')
          ? [{ organization: `urn:li:organization:${linkedinOrganization.id}`, role: 'ADMINISTRATOR', state: 'APPROVED', roleAssignee: `urn:li:person:${linkedinUser.id}` }]
          : [];
        sendJson({ response, status: 200, body: { elements, paging: { count: 10, start: 0, total: elements.length } } });
      } else if (method === 'GET' && path === `/api/rest/organizations/${linkedinOrganization.id}`) {
        authenticate(request, { versioned: true });
        sendJson({ response, status: 200, body: { id: Number(linkedinOrganization.id), localizedName: linkedinOrganization.name, vanityName: linkedinOrganization.vanityName } });
      } else if (method === 'POST' && path === '/api/rest/posts') await createPost(request, response);
      else if (method === 'DELETE' && postMatch) {
        authenticate(request, { versioned: true, scope: 'w_member_social' });
        const urn = decodeURIComponent(postMatch[1]!);
        const post = state.posts.find((candidate) => candidate.platform === 'linkedin' && candidate.id === urn);
        if (post) post.deleted = true;
        state.record({ platform: 'linkedin', kind: 'delete', summary: urn });
        response.writeHead(204);
        response.end();
      } else if (method === 'POST' && path === '/api/rest/images' && request.url.searchParams.get('action') === 'initializeUpload') await initializeImage(request, response);
      else if (method === 'PUT' && upload) await uploadImage(request, response, upload[1]!);
      else if (method === 'GET' && imageMatch) getImage(request, response, decodeURIComponent(imageMatch[1]!));
      else if (method === 'POST' && path === '/api/rest/videos' && action === 'initializeUpload') await initializeVideo(request, response);
      else if (method === 'POST' && path === '/api/rest/videos' && action === 'finalizeUpload') await finalizeVideo(request, response);
      else if (method === 'PUT' && videoPart) await uploadVideoPart(request, response, videoPart[1]!, Number(videoPart[2]));
      else if (method === 'GET' && videoMatch) getVideo(request, response, decodeURIComponent(videoMatch[1]!));
      else if (method === 'POST' && commentsMatch) await createComment(request, response, decodeURIComponent(commentsMatch[1]!));
      else return false;
      return true;
    },
  };
}
