import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { applyWriteFault, dropConnection, type FaultShape } from './sandbox-faults.js';
import { SandboxHttpError, bearerToken, readBody, readJson, sendJson, type SandboxRequest } from './sandbox-http.js';
import type { SandboxState } from './sandbox-state.js';

export interface BlueskyUser {
  did: string;
  handle: string;
  appPassword: string;
}

export const blueskyUser: BlueskyUser = {
  did: 'did:plc:sandboxalice00000000000a',
  handle: 'alice.sandbox.test',
  appPassword: 'sbx1-alic-e000-demo',
};

const xrpcError = (status: number, error: string, message: string) =>
  new SandboxHttpError({ status, body: { error, message } });

const faultShape: FaultShape = {
  rateLimitHeaders: (reset) => ({ 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(reset), 'ratelimit-policy': '5000;w=3600' }),
  rateLimitBody: { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' },
  serverErrorBody: () => ({ error: 'InternalServerError', message: 'Internal Server Error' }),
};

const BLOB_LIMIT_BYTES = 2_000_000;
const VIDEO_LIMIT_BYTES = 100 * 1024 * 1024;

/** A CID-shaped identifier derived from content, stable for identical bytes. */
function fakeCid(seed: string): string {
  return `bafyrei${createHash('sha256').update(seed).digest('hex').slice(0, 52)}`;
}

function tid(now: number, counter: number): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz';
  let value = BigInt(now) * 1000n + BigInt(counter % 1000);
  let output = '';
  for (let index = 0; index < 13; index += 1) {
    output = alphabet[Number(value & 31n)] + output;
    value >>= 5n;
  }
  return output;
}

export function createBlueskyEmulator(options: { state: SandboxState; baseUrl: () => string; accessLifetimeSeconds?: number }) {
  const { state } = options;
  const users: BlueskyUser[] = [blueskyUser];
  const secret = randomBytes(32);
  const refreshUsed = new Set<string>();
  const blobs = new Map<string, { cid: string; mimeType: string; size: number; did: string }>();
  const records = new Map<string, { uri: string; cid: string; value: Record<string, unknown>; did: string }>();
  const videoJobs = new Map<string, { jobId: string; did: string; checks: number; blob: { cid: string; mimeType: string; size: number } }>();
  let counter = 0;

  const pdsUrl = () => `${options.baseUrl()}/bluesky/pds`;

  function signJwt(payload: Record<string, unknown>): string {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: payload.scope === 'com.atproto.refresh' ? 'refresh+jwt' : 'at+jwt' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
    return `${header}.${body}.${signature}`;
  }

  function verifyJwt(token: string): Record<string, unknown> | undefined {
    const [header, body, signature] = token.split('.');
    if (!header || !body || !signature) return undefined;
    const expected = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
    if (expected !== signature) return undefined;
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  }

  function didDocument(user: BlueskyUser) {
    return {
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: user.did,
      alsoKnownAs: [`at://${user.handle}`],
      verificationMethod: [],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: pdsUrl() }],
    };
  }

  function session(user: BlueskyUser) {
    const now = Math.floor(state.now() / 1000);
    const accessJwt = signJwt({ scope: 'com.atproto.appPass', sub: user.did, aud: 'did:web:sandbox', iat: now, exp: now + (options.accessLifetimeSeconds ?? 7200), jti: randomBytes(8).toString('hex') });
    const refreshJwt = signJwt({ scope: 'com.atproto.refresh', sub: user.did, aud: 'did:web:sandbox', iat: now, exp: now + 90 * 86400, jti: randomBytes(8).toString('hex') });
    return { accessJwt, refreshJwt, handle: user.handle, did: user.did, didDoc: didDocument(user), active: true };
  }

  function authenticate(request: SandboxRequest, expectedScope = 'com.atproto.appPass'): BlueskyUser {
    const token = bearerToken(request);
    if (!token) throw xrpcError(401, 'AuthenticationRequired', 'Authentication Required');
    const payload = verifyJwt(token);
    if (!payload || payload.scope !== expectedScope) throw xrpcError(400, 'InvalidToken', 'Token could not be verified');
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= state.now()) throw xrpcError(400, 'ExpiredToken', 'Token has expired');
    const user = users.find((candidate) => candidate.did === payload.sub);
    if (!user) throw xrpcError(400, 'InvalidToken', 'Token could not be verified');
    return user;
  }

  async function createSession(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const body = (await readJson({ request: request.raw })) as { identifier?: string; password?: string } | undefined;
    if (!body?.identifier || !body.password) throw xrpcError(400, 'InvalidRequest', 'Input must have the property "identifier"');
    const user = users.find((candidate) => (candidate.handle === body.identifier || candidate.did === body.identifier) && candidate.appPassword === body.password);
    state.record({ platform: 'bluesky', kind: 'session', summary: `createSession ${body.identifier}` });
    if (!user) throw xrpcError(401, 'AuthenticationRequired', 'Invalid identifier or password');
    sendJson({ response, status: 200, body: session(user) });
  }

  function refreshSession(request: SandboxRequest, response: ServerResponse): void {
    const token = bearerToken(request) ?? '';
    const user = authenticate(request, 'com.atproto.refresh');
    if (refreshUsed.has(token)) {
      state.refreshRejections += 1;
      throw xrpcError(400, 'ExpiredToken', 'Token has been revoked');
    }
    refreshUsed.add(token);
    state.refreshCount += 1;
    state.record({ platform: 'bluesky', kind: 'session', summary: 'refreshSession' });
    sendJson({ response, status: 200, body: session(user) });
  }

  async function uploadBlob(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const user = authenticate(request);
    const mimeType = request.headers['content-type'] ?? '';
    if (!mimeType || mimeType === 'application/json') throw xrpcError(400, 'InvalidRequest', 'A Content-Type for the blob is required');
    const body = await readBody({ request: request.raw, maxBytes: 50 * 1024 * 1024, keepBytes: 0 });
    if (body.size > BLOB_LIMIT_BYTES && !mimeType.startsWith('video/')) throw xrpcError(400, 'BlobTooLarge', `This file is too large. It is ${body.size} bytes but the maximum size is ${BLOB_LIMIT_BYTES} bytes.`);
    const cid = fakeCid(body.sha256);
    blobs.set(cid, { cid, mimeType, size: body.size, did: user.did });
    state.record({ platform: 'bluesky', kind: 'media', summary: `uploadBlob ${mimeType} ${body.size} bytes` });
    sendJson({ response, status: 200, body: { blob: { $type: 'blob', ref: { $link: cid }, mimeType, size: body.size } } });
  }

  function checkBlob(value: unknown, did: string): void {
    const blob = value as { ref?: { $link?: string }; mimeType?: string; size?: number } | undefined;
    const stored = blob?.ref?.$link ? blobs.get(blob.ref.$link) : undefined;
    if (!stored || stored.did !== did) throw xrpcError(400, 'InvalidRequest', 'Could not find blob');
    if (stored.mimeType !== blob?.mimeType) throw xrpcError(400, 'InvalidMimeType', 'Referenced Mimetype does not match stored blob');
    if (stored.size !== blob?.size) throw xrpcError(400, 'InvalidSize', 'Referenced size does not match stored blob');
  }

  function validatePost(record: Record<string, unknown>, did: string): void {
    if (record.$type !== 'app.bsky.feed.post') throw xrpcError(400, 'InvalidRequest', 'Invalid $type: must be app.bsky.feed.post');
    const text = record.text;
    if (typeof text !== 'string') throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record must have the property "text"');
    const graphemes = [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment(text)].length;
    if (graphemes > 300 || Buffer.byteLength(text) > 3000) throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes');
    if (typeof record.createdAt !== 'string' || Number.isNaN(Date.parse(record.createdAt))) throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/createdAt must be an valid atproto datetime');
    const byteLength = Buffer.byteLength(text);
    for (const facet of (record.facets as Array<{ index?: { byteStart?: number; byteEnd?: number } }> | undefined) ?? []) {
      const { byteStart, byteEnd } = facet.index ?? {};
      if (typeof byteStart !== 'number' || typeof byteEnd !== 'number' || byteStart < 0 || byteEnd > byteLength || byteStart >= byteEnd) {
        throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: facet index out of range');
      }
    }
    const embed = record.embed as Record<string, unknown> | undefined;
    if (embed?.$type === 'app.bsky.embed.images') {
      const images = embed.images as Array<{ image?: unknown; alt?: unknown }>;
      if (!Array.isArray(images) || images.length === 0 || images.length > 4) throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/embed/images must not have more than 4 elements');
      for (const image of images) {
        if (typeof image.alt !== 'string') throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/embed/images/0 must have the property "alt"');
        checkBlob(image.image, did);
      }
    } else if (embed?.$type === 'app.bsky.embed.video') {
      checkBlob(embed.video, did);
    } else if (embed?.$type === 'app.bsky.embed.external') {
      const external = embed.external as { uri?: unknown; title?: unknown; description?: unknown; thumb?: unknown } | undefined;
      if (typeof external?.uri !== 'string' || typeof external.title !== 'string' || typeof external.description !== 'string') {
        throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: Record/embed/external must have uri, title and description');
      }
      if (external.thumb !== undefined) checkBlob(external.thumb, did);
    }
    const reply = record.reply as { root?: { uri?: string; cid?: string }; parent?: { uri?: string; cid?: string } } | undefined;
    if (reply) {
      for (const reference of [reply.root, reply.parent]) {
        const target = reference?.uri ? records.get(reference.uri) : undefined;
        if (!target || target.cid !== reference?.cid) throw xrpcError(400, 'InvalidRequest', 'Invalid app.bsky.feed.post record: reply reference not found');
      }
    }
  }

  async function createRecord(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const user = authenticate(request);
    const drop = await applyWriteFault({ state, platform: 'bluesky', shape: faultShape });
    const body = (await readJson({ request: request.raw })) as { repo?: string; collection?: string; record?: Record<string, unknown>; rkey?: string } | undefined;
    if (!body?.repo || !body.collection || !body.record) throw xrpcError(400, 'InvalidRequest', 'Input must have the properties "repo", "collection" and "record"');
    if (body.repo !== user.did && body.repo !== user.handle) throw xrpcError(400, 'InvalidRequest', 'Input/repo must be the authenticated account');
    if (body.collection !== 'app.bsky.feed.post') throw xrpcError(400, 'InvalidRequest', 'Only app.bsky.feed.post is emulated');
    validatePost(body.record, user.did);
    const rkey = body.rkey ?? tid(state.now(), (counter += 1));
    const uri = `at://${user.did}/app.bsky.feed.post/${rkey}`;
    if (records.has(uri)) throw xrpcError(400, 'InvalidRequest', 'Record already exists');
    const cid = fakeCid(JSON.stringify(body.record) + uri);
    records.set(uri, { uri, cid, value: body.record, did: user.did });
    const embed = body.record.embed as { images?: Array<{ image: { ref: { $link: string } } }>; video?: { ref: { $link: string } } } | undefined;
    const replyParent = (body.record.reply as { parent?: { uri?: string } } | undefined)?.parent?.uri;
    state.addPost({
      platform: 'bluesky',
      id: uri,
      url: `https://bsky.app/profile/${user.handle}/post/${rkey}`,
      authorId: user.did,
      text: String(body.record.text),
      mediaIds: [...(embed?.images?.map((image) => image.image.ref.$link) ?? []), ...(embed?.video ? [embed.video.ref.$link] : [])],
      ...(replyParent ? { replyTo: replyParent } : {}),
      raw: body.record,
    });
    if (drop) return dropConnection(response);
    sendJson({ response, status: 200, body: { uri, cid, commit: { cid: fakeCid(`commit${uri}`), rev: tid(state.now(), counter) }, validationStatus: 'valid' } });
  }

  function getRecord(request: SandboxRequest, response: ServerResponse): void {
    const query = request.url.searchParams;
    const repo = query.get('repo') ?? '';
    const did = users.find((user) => user.handle === repo)?.did ?? repo;
    const uri = `at://${did}/${query.get('collection')}/${query.get('rkey')}`;
    const record = records.get(uri);
    if (!record) throw xrpcError(400, 'RecordNotFound', `Could not locate record: ${uri}`);
    sendJson({ response, status: 200, body: { uri, cid: record.cid, value: record.value } });
  }

  async function deleteRecord(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const user = authenticate(request);
    const body = (await readJson({ request: request.raw })) as { repo?: string; collection?: string; rkey?: string } | undefined;
    const uri = `at://${user.did}/${body?.collection}/${body?.rkey}`;
    records.delete(uri);
    const post = state.posts.find((candidate) => candidate.platform === 'bluesky' && candidate.id === uri);
    if (post) post.deleted = true;
    state.record({ platform: 'bluesky', kind: 'delete', summary: uri });
    sendJson({ response, status: 200, body: { commit: { cid: fakeCid(`delete${uri}`), rev: tid(state.now(), (counter += 1)) } } });
  }

  function getServiceAuth(request: SandboxRequest, response: ServerResponse): void {
    const user = authenticate(request);
    const aud = request.url.searchParams.get('aud');
    if (!aud) throw xrpcError(400, 'InvalidRequest', 'Params must have the property "aud"');
    const now = Math.floor(state.now() / 1000);
    const expiry = Number(request.url.searchParams.get('exp') ?? now + 60);
    const token = signJwt({ scope: 'service', iss: user.did, aud, lxm: request.url.searchParams.get('lxm'), iat: now, exp: expiry });
    sendJson({ response, status: 200, body: { token } });
  }

  /** The did:web the sandbox host answers to (PDS and video service share one host and port). */
  const hostDid = () => {
    const { hostname, port } = new URL(options.baseUrl());
    return `did:web:${hostname}${port ? `%3A${port}` : ''}`;
  };

  /**
   * Service auth as the video service checks it (@atproto/xrpc-server): a live token from a
   * known issuer, for this audience, bound to the called method with `lxm`.
   */
  function serviceUser(request: SandboxRequest, lexiconMethod: string): BlueskyUser {
    const token = bearerToken(request);
    const payload = token ? verifyJwt(token) : undefined;
    if (!payload || payload.scope !== 'service' || (typeof payload.exp === 'number' && payload.exp * 1000 <= state.now())) {
      throw xrpcError(401, 'AuthenticationRequired', 'Service auth token required');
    }
    if (payload.aud !== hostDid()) throw xrpcError(401, 'BadJwtAudience', `jwt audience does not match service did: ${String(payload.aud)}`);
    if (payload.lxm !== lexiconMethod) throw xrpcError(401, 'BadJwtLexiconMethod', `bad jwt lexicon method ("lxm"). must match: ${lexiconMethod}`);
    const user = users.find((candidate) => candidate.did === payload.iss);
    if (!user) throw xrpcError(401, 'AuthenticationRequired', 'Unknown issuer');
    return user;
  }

  async function uploadVideo(request: SandboxRequest, response: ServerResponse): Promise<void> {
    // The service writes the processed blob into the account's repo, so the token is for uploadBlob.
    const user = serviceUser(request, 'com.atproto.repo.uploadBlob');
    if (request.url.searchParams.get('did') !== user.did) throw xrpcError(400, 'InvalidRequest', 'Params must have the property "did" of the uploading account');
    if (!request.url.searchParams.get('name')) throw xrpcError(400, 'InvalidRequest', 'Params must have the property "name"');
    const body = await readBody({ request: request.raw, maxBytes: VIDEO_LIMIT_BYTES, keepBytes: 0 });
    const cid = fakeCid(body.sha256);
    const mimeType = request.headers['content-type'] ?? 'video/mp4';
    blobs.set(cid, { cid, mimeType, size: body.size, did: user.did });
    const jobId = randomBytes(8).toString('hex');
    videoJobs.set(jobId, { jobId, did: user.did, checks: 0, blob: { cid, mimeType, size: body.size } });
    state.record({ platform: 'bluesky', kind: 'media', summary: `uploadVideo ${body.size} bytes` });
    sendJson({ response, status: 200, body: { jobId, did: user.did, state: 'JOB_STATE_CREATED' } });
  }

  function getJobStatus(request: SandboxRequest, response: ServerResponse): void {
    const job = videoJobs.get(request.url.searchParams.get('jobId') ?? '');
    if (!job) throw xrpcError(400, 'InvalidRequest', 'Job not found');
    job.checks += 1;
    const done = job.checks >= 2;
    sendJson({
      response,
      status: 200,
      body: {
        jobStatus: {
          jobId: job.jobId,
          did: job.did,
          state: done ? 'JOB_STATE_COMPLETED' : 'JOB_STATE_ENCODING',
          progress: done ? 100 : 50,
          ...(done ? { blob: { $type: 'blob', ref: { $link: job.blob.cid }, mimeType: job.blob.mimeType, size: job.blob.size } } : {}),
        },
      },
    });
  }

  return {
    prefix: 'bluesky',
    faultShape,
    users,
    async handle(request: SandboxRequest, response: ServerResponse): Promise<boolean> {
      const { method, path } = request;
      const plc = /^\/plc\/(did:plc:[a-z0-9]+)$/.exec(path);
      if (method === 'GET' && plc) {
        const user = users.find((candidate) => candidate.did === plc[1]);
        if (!user) throw new SandboxHttpError({ status: 404, body: { message: `DID not registered: ${plc[1]}` } });
        sendJson({ response, status: 200, body: didDocument(user) });
        return true;
      }
      const xrpc = /^\/(pds|video)\/xrpc\/([a-zA-Z0-9.]+)$/.exec(path);
      if (!xrpc) return false;
      const [, host, nsid] = xrpc;
      if (host === 'video') {
        if (method === 'POST' && nsid === 'app.bsky.video.uploadVideo') await uploadVideo(request, response);
        else if (method === 'GET' && nsid === 'app.bsky.video.getJobStatus') getJobStatus(request, response);
        else if (method === 'GET' && nsid === 'app.bsky.video.getUploadLimits') {
          serviceUser(request, 'app.bsky.video.getUploadLimits');
          sendJson({ response, status: 200, body: { canUpload: true, remainingDailyVideos: 25, remainingDailyBytes: 10 * 1024 * 1024 * 1024 } });
        } else return false;
        return true;
      }
      switch (`${method} ${nsid}`) {
        case 'GET com.atproto.server.describeServer':
          sendJson({ response, status: 200, body: { did: 'did:web:sandbox.test', availableUserDomains: ['.sandbox.test'], inviteCodeRequired: true, links: {} } });
          break;
        case 'GET com.atproto.identity.resolveHandle': {
          const user = users.find((candidate) => candidate.handle === request.url.searchParams.get('handle'));
          if (!user) throw xrpcError(400, 'InvalidRequest', 'Unable to resolve handle');
          sendJson({ response, status: 200, body: { did: user.did } });
          break;
        }
        case 'POST com.atproto.server.createSession':
          await createSession(request, response);
          break;
        case 'POST com.atproto.server.refreshSession':
          refreshSession(request, response);
          break;
        case 'GET com.atproto.server.getSession': {
          const user = authenticate(request);
          sendJson({ response, status: 200, body: { handle: user.handle, did: user.did, active: true } });
          break;
        }
        case 'POST com.atproto.repo.uploadBlob':
          await uploadBlob(request, response);
          break;
        case 'POST com.atproto.repo.createRecord':
          await createRecord(request, response);
          break;
        case 'GET com.atproto.repo.getRecord':
          getRecord(request, response);
          break;
        case 'POST com.atproto.repo.deleteRecord':
          await deleteRecord(request, response);
          break;
        case 'GET com.atproto.server.getServiceAuth':
          getServiceAuth(request, response);
          break;
        case 'GET app.bsky.feed.getPosts': {
          // AppView: public, hydrated views; URIs it does not know are left out, not errors.
          const uris = request.url.searchParams.getAll('uris');
          if (uris.length > 25) throw xrpcError(400, 'InvalidRequest', 'uris must not have more than 25 elements');
          const posts = uris.flatMap((uri) => {
            const record = records.get(uri);
            const author = record ? users.find((user) => user.did === record.did) : undefined;
            if (!record || !author) return [];
            return [{ uri, cid: record.cid, author: { did: author.did, handle: author.handle }, record: record.value, indexedAt: new Date(state.now()).toISOString(), replyCount: 0, repostCount: 0, likeCount: 0, quoteCount: 0 }];
          });
          sendJson({ response, status: 200, body: { posts } });
          break;
        }
        case 'GET app.bsky.actor.getProfile': {
          const actor = request.url.searchParams.get('actor');
          const user = users.find((candidate) => candidate.did === actor || candidate.handle === actor);
          if (!user) throw xrpcError(400, 'InvalidRequest', 'Profile not found');
          sendJson({ response, status: 200, body: { did: user.did, handle: user.handle, displayName: 'Alice (sandbox)' } });
          break;
        }
        default:
          throw xrpcError(501, 'MethodNotImplemented', `Method Not Implemented: ${nsid}`);
      }
      return true;
    },
  };
}
