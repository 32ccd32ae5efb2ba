import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FaultShape } from './sandbox-faults.js';
import type { OAuthServerProfile } from './sandbox-oauth.js';
import { SandboxHttpError, randomToken, readBody, sendJson, type SandboxRequest } from './sandbox-http.js';
import type { SandboxState } from './sandbox-state.js';

/**
 * What the Meta family's emulators (Facebook, Instagram, Threads) share, as the real Graph API
 * does: Graph-shaped errors, token checks with `appsecret_proof`, token lifetimes, the long-lived
 * swaps and refreshes, the media-container state machine and the rolling 24-hour publishing
 * limits. One instance serves all three emulators of a sandbox.
 */

export type MetaPlatform = 'facebook' | 'instagram' | 'threads';

/** Short-lived user tokens live an hour; long-lived ones 60 days; refresh is allowed once a token is a day old. */
export const META_TOKEN_LIFETIMES = {
  shortLivedSeconds: 3600,
  longLivedSeconds: 60 * 86_400,
  refreshMinimumAgeSeconds: 86_400,
} as const;

/**
 * The consent page and code exchange every Meta login shares: client secret in the form body, no
 * PKCE, a one-hour user token and no refresh token, comma-separated scopes.
 */
export function metaOAuthProfile(options: {
  platform: MetaPlatform;
  displayName: string;
  user: OAuthServerProfile['user'];
  codeLifetimeSeconds: number;
  codeExchangeAnswer?: OAuthServerProfile['codeExchangeAnswer'];
}): OAuthServerProfile {
  return {
    platform: options.platform,
    displayName: options.displayName,
    clientAuthentication: 'client_secret_post',
    pkceRequired: false,
    accessTokenLifetimeSeconds: META_TOKEN_LIFETIMES.shortLivedSeconds,
    refresh: 'none',
    invalidGrantError: 'invalid_grant',
    invalidGrantDescription: 'This authorization code has been used.',
    codeLifetimeSeconds: options.codeLifetimeSeconds,
    scopeSeparator: ',',
    user: options.user,
    ...(options.codeExchangeAnswer !== undefined && { codeExchangeAnswer: options.codeExchangeAnswer }),
  };
}

/** Rolling 24-hour publishing limits (fact sheets: Instagram 100 per account via the API, Threads 250, Reels 30 per Page). */
export const META_PUBLISHING_LIMITS: Record<string, number> = { instagram: 100, threads: 250, 'facebook-reels': 30 };

export type ContainerStatus = 'IN_PROGRESS' | 'FINISHED' | 'ERROR' | 'EXPIRED' | 'PUBLISHED';

export interface MetaContainer {
  id: string;
  platform: MetaPlatform;
  ownerId: string;
  /** `IMAGE`, `REELS`, `CAROUSEL`, `TEXT`, `STORIES`, … as the create call named it. */
  kind: string;
  params: Record<string, string>;
  status: ContainerStatus;
  /** Status reads left before an `IN_PROGRESS` container finishes. */
  readsUntilFinished: number;
  /** The media id `publish` answered with, once published. */
  publishedId?: string;
  /** The reason of an `ERROR` (Instagram `status`, Threads `error_message`). */
  errorMessage?: string;
}

/**
 * A fault for the container state machine, per platform: the next containers end `ERROR` or
 * `EXPIRED` instead of `FINISHED`, or stay `IN_PROGRESS` for `reads` more status reads.
 */
export type ContainerFault = { kind: 'error'; message?: string } | { kind: 'expired' } | { kind: 'slow'; reads: number };

/** A Graph error answer: `{ error: { message, type, code, error_subcode, fbtrace_id } }`. */
export function graphError(options: { status: number; code: number; subcode?: number; message: string; type?: string; transient?: boolean; headers?: Record<string, string> }): SandboxHttpError {
  return new SandboxHttpError({
    status: options.status,
    headers: options.headers ?? {},
    body: {
      error: {
        message: options.message,
        type: options.type ?? 'OAuthException',
        code: options.code,
        ...(options.subcode !== undefined && { error_subcode: options.subcode }),
        is_transient: options.transient ?? false,
        fbtrace_id: randomToken('Sbx', 6),
      },
    },
  });
}

/** Graph's answers to the sandbox's write faults: throttling with a BUC usage header, 5xx with code 2. */
export const metaFaultShape: FaultShape = {
  rateLimitHeaders: (_reset, resetSeconds) => ({
    'x-business-use-case-usage': JSON.stringify({ sandbox: [{ type: 'pages', call_count: 100, total_cputime: 12, total_time: 14, estimated_time_to_regain_access: Math.max(1, Math.ceil(resetSeconds / 60)) }] }),
  }),
  rateLimitBody: { error: { message: '(#32) Page request limit reached', type: 'OAuthException', code: 32, is_transient: false, fbtrace_id: 'SbxThrottle' } },
  serverErrorBody: () => ({ error: { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2, is_transient: true, fbtrace_id: 'SbxServer' } }),
};

/** The parameters of a Graph call: query, then a form or JSON body (later wins), as Graph merges them. */
export async function graphParams(request: SandboxRequest): Promise<Record<string, string>> {
  const params: Record<string, string> = Object.fromEntries(request.url.searchParams);
  const type = String(request.headers['content-type'] ?? '');
  if (request.method === 'GET' || request.method === 'DELETE') return params;
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const body = await readBody({ request: request.raw, maxBytes: 1024 * 1024 });
    return { ...params, ...Object.fromEntries(new URLSearchParams(body.bytes.toString('utf8'))) };
  }
  if (type.startsWith('application/json')) {
    const body = await readBody({ request: request.raw, maxBytes: 1024 * 1024 });
    const parsed = body.size === 0 ? {} : (JSON.parse(body.bytes.toString('utf8')) as Record<string, unknown>);
    return { ...params, ...Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)])) };
  }
  if (type.startsWith('multipart/form-data')) {
    // Large uploads are counted, not kept; the text fields come before the file part.
    const body = await readBody({ request: request.raw, maxBytes: 2 * 1024 * 1024 * 1024 });
    const boundary = /boundary=([^;]+)/.exec(type)?.[1];
    const fields: Record<string, string> = {};
    for (const part of boundary === undefined ? [] : body.bytes.toString('latin1').split(`--${boundary}`)) {
      const name = /name="([^"]+)"/.exec(part)?.[1];
      if (name === undefined) continue;
      fields[name] = /filename="/.test(part) ? `<file ${body.size} bytes>` : Buffer.from(part.slice(part.indexOf('\r\n\r\n') + 4, -2), 'latin1').toString('utf8');
    }
    return { ...params, ...fields };
  }
  return params;
}

export function createMetaGraph(options: { state: SandboxState }) {
  const { state } = options;
  const issuedAt = new Map<string, number>();
  const longLived = new Set<string>();
  const containers = new Map<string, MetaContainer>();
  const containerFaults = new Map<MetaPlatform, ContainerFault>();
  const publishes = new Map<string, number[]>();

  /** Registers a token the way the emulated platform issued it. */
  function issueToken(options: { platform: MetaPlatform; userId: string; scopes: string[]; clientId?: string; lifetimeSeconds: number; long?: boolean }): string {
    const token = randomToken(`sbx_${options.platform}_`);
    state.accessTokens.set(token, {
      platform: options.platform,
      userId: options.userId,
      scopes: options.scopes,
      expiresAt: state.now() + options.lifetimeSeconds * 1000,
      ...(options.clientId !== undefined && { clientId: options.clientId }),
    });
    issuedAt.set(token, state.now());
    if (options.long === true) longLived.add(token);
    return token;
  }

  /** Marks a token a platform's OAuth server issued as issued now (for the refresh age check). */
  function noteIssued(token: string): void {
    if (!issuedAt.has(token)) issuedAt.set(token, state.now());
  }

  /**
   * The token of a Graph call (`access_token` parameter, `Authorization: Bearer|OAuth`), checked
   * like Graph does: unknown → 190, expired → 190/463, a wrong `appsecret_proof` → 100.
   */
  function authenticate(options: { platform: MetaPlatform; request: SandboxRequest; params: Record<string, string> }) {
    const header = String(options.request.headers.authorization ?? '');
    const token = options.params.access_token ?? (/^(Bearer|OAuth)\s+/i.test(header) ? header.replace(/^(Bearer|OAuth)\s+/i, '').trim() : undefined);
    const stored = token === undefined ? undefined : state.accessTokens.get(token);
    if (token === undefined || stored === undefined || stored.platform !== options.platform) {
      throw graphError({ status: 400, code: 190, message: 'Invalid OAuth access token - Cannot parse access token' });
    }
    if (stored.expiresAt <= state.now()) throw graphError({ status: 400, code: 190, subcode: 463, message: 'Error validating access token: Session has expired.' });
    const proof = options.params.appsecret_proof;
    const app = state.apps.find((candidate) => candidate.platform === options.platform && candidate.clientId === stored.clientId);
    if (proof !== undefined && app !== undefined && proof !== createHmac('sha256', app.clientSecret).update(token).digest('hex')) {
      throw graphError({ status: 400, code: 100, message: 'Invalid appsecret_proof provided in the API argument', type: 'GraphMethodException' });
    }
    return { token, ...stored };
  }

  /** `GET …/access_token?grant_type=fb_exchange_token|ig_exchange_token|th_exchange_token`: a short-lived token → a 60-day one. */
  function longLivedSwap(options: { platform: MetaPlatform; params: Record<string, string>; response: ServerResponse; grantType: string; tokenParameter: string }): void {
    const { params, platform } = options;
    if (params.grant_type !== options.grantType) throw graphError({ status: 400, code: 100, message: `Unsupported grant_type ${params.grant_type ?? ''}`, type: 'GraphMethodException' });
    const app = state.apps.find((candidate) => candidate.platform === platform && candidate.clientSecret === params.client_secret && (params.client_id === undefined || candidate.clientId === params.client_id));
    if (app === undefined) throw graphError({ status: 400, code: 101, message: 'Error validating client secret.' });
    const shortToken = params[options.tokenParameter] ?? '';
    const stored = state.accessTokens.get(shortToken);
    if (stored === undefined || stored.platform !== platform) throw graphError({ status: 400, code: 190, message: 'Invalid OAuth access token.' });
    if (stored.expiresAt <= state.now()) throw graphError({ status: 400, code: 190, subcode: 463, message: 'Error validating access token: Session has expired.' });
    const token = issueToken({ platform, userId: stored.userId, scopes: stored.scopes, clientId: app.clientId, lifetimeSeconds: META_TOKEN_LIFETIMES.longLivedSeconds, long: true });
    state.record({ platform, kind: 'token', summary: `grant_type=${options.grantType}` });
    sendJson({ response: options.response, status: 200, body: { access_token: token, token_type: 'bearer', expires_in: META_TOKEN_LIFETIMES.longLivedSeconds } });
  }

  /** `GET refresh_access_token?grant_type=ig_refresh_token|th_refresh_token`: a long-lived token at least a day old → a new 60-day one. */
  function refreshLongLived(options: { platform: MetaPlatform; params: Record<string, string>; response: ServerResponse; grantType: string }): void {
    const { params, platform } = options;
    if (params.grant_type !== options.grantType) throw graphError({ status: 400, code: 100, message: `Unsupported grant_type ${params.grant_type ?? ''}`, type: 'GraphMethodException' });
    const token = params.access_token ?? '';
    const stored = state.accessTokens.get(token);
    if (stored === undefined || stored.platform !== platform || !longLived.has(token)) {
      state.refreshRejections += 1;
      throw graphError({ status: 400, code: 190, message: 'Invalid OAuth access token.' });
    }
    if (stored.expiresAt <= state.now()) {
      state.refreshRejections += 1;
      throw graphError({ status: 400, code: 190, subcode: 463, message: 'Error validating access token: Session has expired.' });
    }
    if (state.now() - (issuedAt.get(token) ?? 0) < META_TOKEN_LIFETIMES.refreshMinimumAgeSeconds * 1000) {
      throw graphError({ status: 400, code: 10, message: 'The access token can be refreshed once it is at least 24 hours old.' });
    }
    state.refreshCount += 1;
    const renewed = issueToken({ platform, userId: stored.userId, scopes: stored.scopes, ...(stored.clientId !== undefined && { clientId: stored.clientId }), lifetimeSeconds: META_TOKEN_LIFETIMES.longLivedSeconds, long: true });
    sendJson({ response: options.response, status: 200, body: { access_token: renewed, token_type: 'bearer', expires_in: META_TOKEN_LIFETIMES.longLivedSeconds } });
  }

  /** A new container: `IN_PROGRESS` for a few status reads (videos), at once `FINISHED` for images and text, unless a fault says otherwise. */
  function createContainer(options: { platform: MetaPlatform; ownerId: string; kind: string; params: Record<string, string>; processingReads?: number }): MetaContainer {
    const fault = containerFaults.get(options.platform);
    const reads = fault?.kind === 'slow' ? fault.reads : (options.processingReads ?? 0);
    const container: MetaContainer = {
      id: String(17_800_000_000_000_000n + BigInt(containers.size + 1)),
      platform: options.platform,
      ownerId: options.ownerId,
      kind: options.kind,
      params: options.params,
      status: 'IN_PROGRESS',
      readsUntilFinished: reads,
    };
    if (fault?.kind === 'error') {
      container.status = 'ERROR';
      container.errorMessage = fault.message ?? 'Error: 2207052 Media download has failed. The media URI doesn’t meet our requirements.';
    } else if (fault?.kind === 'expired') {
      container.status = 'EXPIRED';
    } else if (reads === 0) {
      container.status = 'FINISHED';
    }
    containers.set(container.id, container);
    state.record({ platform: options.platform, kind: 'container', summary: `${options.kind} ${container.id} ${container.status}` });
    return container;
  }

  /** One status read: an `IN_PROGRESS` container moves on after its reads run out. */
  function readContainer(options: { id: string; ownerPlatform: MetaPlatform }): MetaContainer {
    const container = containers.get(options.id);
    if (container === undefined || container.platform !== options.ownerPlatform) {
      throw graphError({ status: 400, code: 100, subcode: 33, message: `Unsupported get request. Object with ID '${options.id}' does not exist.`, type: 'GraphMethodException' });
    }
    if (container.status === 'IN_PROGRESS') {
      container.readsUntilFinished -= 1;
      if (container.readsUntilFinished <= 0) container.status = 'FINISHED';
    }
    return container;
  }

  /** The publishes of an account in the last 24 hours. */
  function publishingUsage(options: { key: string }): number {
    const since = state.now() - 86_400_000;
    const recent = (publishes.get(options.key) ?? []).filter((at) => at > since);
    publishes.set(options.key, recent);
    return recent.length;
  }

  /**
   * Publishes a container once: not `FINISHED` → Graph's "not ready" error (9007/2207027); over
   * the rolling limit → the limit error (9/2207042); otherwise `PUBLISHED`, counted.
   */
  function publishContainer(options: { id: string; ownerPlatform: MetaPlatform; ownerId: string; limitKey: string; limit: number; mediaId: () => string }): MetaContainer {
    const container = containers.get(options.id);
    if (container === undefined || container.platform !== options.ownerPlatform || container.ownerId !== options.ownerId) {
      throw graphError({ status: 400, code: 100, subcode: 33, message: `Object with ID '${options.id}' does not exist.`, type: 'GraphMethodException' });
    }
    if (container.status === 'EXPIRED') throw graphError({ status: 400, code: 9007, subcode: 2_207_020, message: 'The media container has expired.' });
    if (container.status !== 'FINISHED') throw graphError({ status: 400, code: 9007, subcode: 2_207_027, message: 'Media ID is not available. The media is not ready for publishing, please wait for a moment.' });
    if (publishingUsage({ key: options.limitKey }) >= options.limit) {
      throw graphError({ status: 400, code: 9, subcode: 2_207_042, message: 'Application request limit reached: the account reached its content publishing limit.' });
    }
    publishes.get(options.limitKey)?.push(state.now()) ?? publishes.set(options.limitKey, [state.now()]);
    container.status = 'PUBLISHED';
    container.publishedId = options.mediaId();
    return container;
  }

  return {
    issueToken,
    noteIssued,
    authenticate,
    longLivedSwap,
    refreshLongLived,
    createContainer,
    readContainer,
    publishContainer,
    publishingUsage,
    /** Counts a publish that has no container (Facebook Reels), for the same rolling limits. */
    countPublish: (options: { key: string; limit: number; platform: MetaPlatform }) => {
      if (publishingUsage({ key: options.key }) >= options.limit) {
        throw graphError({ status: 400, code: 368, subcode: 1_390_008, message: 'You are posting too fast: the daily publishing limit was reached.' });
      }
      publishes.get(options.key)?.push(state.now()) ?? publishes.set(options.key, [state.now()]);
    },
    containers,
    setContainerFault: (platform: MetaPlatform, fault: ContainerFault | undefined) => {
      if (fault === undefined) containerFaults.delete(platform);
      else containerFaults.set(platform, fault);
    },
  };
}

export type MetaGraph = ReturnType<typeof createMetaGraph>;
