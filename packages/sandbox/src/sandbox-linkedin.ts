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

export function createLinkedInEmulator(options: { state: SandboxState; baseUrl: () => string }) {
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

  function checkAuthor(author: unknown, userId: string, scopes: string[]): void {
    if (author === `urn:li:person:${userId}`) return;
    if (author === `urn:li:organization:${linkedinOrganization.id}` && scopes.includes('w_organization_social')) return;
    throw liError(403, 'ACCESS_DENIED', 'Not enough permissions to post as this author', 100);
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
    for (const id of mediaIds) {
      const image = images.get(id);
      if (!image || !image.uploaded) throw liError(422, 'UNPROCESSABLE_ENTITY', `Media ${id} is not available`);
    }
    if (state.posts.some((post) => post.platform === 'linkedin' && !post.deleted && post.authorId === String(body.author) && post.text === commentary)) {
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

  return {
    prefix: 'linkedin',
    faultShape,
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const { method, path } = request;
      const upload = /^\/uploads\/images\/([A-Za-z0-9_-]+)$/.exec(path);
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
      else return false;
      return true;
    },
  };
}
