import { LetmepostError, type Clock, type PublishAuth, type TokenSet } from '@letmepost/core';
import { nodeCrypto } from '@letmepost/core/internal';
import type { HttpClient } from '@letmepost/provider-utils';
import { sessionResponseSchema, type SessionResponse } from './bluesky-api.js';
import type { BlueskyContext } from './bluesky-context.js';
import { blueskyAccountDataSchema, blueskyGrantDataSchema, type BlueskyCredentials } from './bluesky-credentials.js';
import type { IdentityResolver } from './bluesky-identity.js';

/** A logged-in session on the account's PDS. */
export interface BlueskySession {
  did: string;
  handle: string;
  pdsUrl: string;
  accessJwt: string;
  refreshJwt?: string;
  /** Epoch ms, from the access JWT's `exp`. */
  accessExpiresAt?: number;
  /** Epoch ms, from the refresh JWT's `exp`. */
  refreshExpiresAt?: number;
}

/**
 * `exp` of a JWT in epoch ms. The PDS decides lifetimes (reference PDS: 2 h access, 90 days
 * refresh), so they are read from the token rather than assumed. Not a verification: the PDS
 * checks its own tokens; we only need to know when to refresh.
 */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function sessionFromResponse(options: { response: SessionResponse; pdsUrl: string }): BlueskySession {
  const { response, pdsUrl } = options;
  return {
    did: response.did,
    handle: response.handle,
    pdsUrl,
    accessJwt: response.accessJwt,
    refreshJwt: response.refreshJwt,
    accessExpiresAt: jwtExpiresAt(response.accessJwt),
    refreshExpiresAt: jwtExpiresAt(response.refreshJwt),
  };
}

/** What core stores: the JWT pair, the access expiry, and the app password for re-login. */
export function tokenSetFromSession(options: { session: BlueskySession; appPassword?: string }): TokenSet {
  const { session, appPassword } = options;
  return {
    accessToken: session.accessJwt,
    refreshToken: session.refreshJwt,
    tokenType: 'Bearer',
    expiresAt: session.accessExpiresAt,
    refreshTokenExpiresAt: session.refreshExpiresAt,
    ...(appPassword === undefined ? {} : { secrets: { appPassword } }),
  };
}

export async function createSession(options: {
  http: HttpClient;
  pdsUrl: string;
  identifier: string;
  appPassword: string;
  signal?: AbortSignal;
}): Promise<BlueskySession> {
  const { value } = await options.http.json({
    method: 'POST',
    url: `${options.pdsUrl}/xrpc/com.atproto.server.createSession`,
    body: { json: { identifier: options.identifier, password: options.appPassword } },
    schema: sessionResponseSchema(),
    // A repeated login only opens a second session; it writes nothing the user sees.
    retry: 'idempotent',
    isWrite: false,
    secrets: [options.appPassword],
    signal: options.signal,
  });
  return sessionFromResponse({ response: value, pdsUrl: options.pdsUrl });
}

export async function refreshSession(options: {
  http: HttpClient;
  pdsUrl: string;
  refreshJwt: string;
  signal?: AbortSignal;
}): Promise<BlueskySession> {
  const { value } = await options.http.json({
    method: 'POST',
    url: `${options.pdsUrl}/xrpc/com.atproto.server.refreshSession`,
    auth: { bearer: options.refreshJwt },
    schema: sessionResponseSchema(),
    // The PDS keeps a rotated-out refresh token valid for a grace window and answers it with the
    // same successor, so repeating a refresh whose answer was lost is safe.
    retry: 'idempotent',
    isWrite: false,
    signal: options.signal,
  });
  return sessionFromResponse({ response: value, pdsUrl: options.pdsUrl });
}

/**
 * Logs in with an app password: resolves the identifier to its DID and PDS, then calls
 * `createSession` on that PDS (a PDS behind an entryway forwards it there).
 */
export async function loginWithAppPassword(options: {
  http: HttpClient;
  identity: IdentityResolver;
  credentials: BlueskyCredentials;
  signal?: AbortSignal;
}): Promise<BlueskySession> {
  const { credentials, signal } = options;
  const { did, pdsUrl } = await options.identity.resolveIdentity({
    identifier: credentials.identifier,
    service: credentials.service,
    signal,
  });
  const session = await createSession({
    http: options.http,
    pdsUrl,
    identifier: credentials.identifier,
    appPassword: credentials.appPassword,
    signal,
  });
  if (session.did !== did) {
    throw new LetmepostError({
      code: 'platform_auth_failed',
      platform: 'bluesky',
      message: `The PDS ${pdsUrl} logged in ${session.did}, but ${credentials.identifier} resolves to ${did}.`,
      field: 'identifier',
    });
  }
  return session;
}

export interface SessionCacheSettings {
  /** Sessions kept (least recently used evicted first). Default 500. */
  maxEntries?: number;
}

interface CacheEntry {
  session: BlueskySession;
}

/**
 * Sessions for pass-per-request credentials, kept in memory by the provider instance. Bluesky
 * allows 30 logins per 5 minutes per account, so logging in on every publish would lock busy
 * accounts out; entries are keyed by a SHA-256 of the credentials (never the credentials
 * themselves), concurrent publishes share one login, and nothing is written anywhere else.
 */
export class SessionCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<BlueskySession>>();
  private readonly maxEntries: number;

  constructor(settings: SessionCacheSettings = {}) {
    this.maxEntries = Math.max(1, settings.maxEntries ?? 500);
  }

  static keyFor(credentials: BlueskyCredentials): string {
    return nodeCrypto().createHash('sha256')
      .update(JSON.stringify([credentials.identifier, credentials.appPassword, credentials.service ?? '']))
      .digest('hex');
  }

  get(key: string): BlueskySession | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-insert to mark as recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.session;
  }

  set(key: string, session: BlueskySession): void {
    this.entries.delete(key);
    this.entries.set(key, { session });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Runs `load` once per key at a time; callers arriving meanwhile share its result. */
  async singleFlight(key: string, load: () => Promise<BlueskySession>): Promise<BlueskySession> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const promise = load().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }
}

/** Refresh a little before expiry so a token does not die between check and use. */
export const EXPIRY_SKEW_MS = 60_000;

export function isUsable(options: { expiresAt: number | undefined; clock: Clock; skewMs?: number }): boolean {
  return options.expiresAt === undefined || options.expiresAt - (options.skewMs ?? EXPIRY_SKEW_MS) > options.clock.now();
}

/** A session ready for a publish, with the one behaviour that differs by how it was obtained. */
export interface SessionHandle {
  readonly did: string;
  readonly handle: string;
  readonly pdsUrl: string;
  /**
   * Runs an authenticated call. For pass-per-request credentials an expired access token is
   * renewed (refresh, else login) and the call made once more; a stored account's expiry goes
   * back to core as `auth_expired`, because only core can persist rotated tokens.
   */
  call<T>(fn: (accessJwt: string) => Promise<T>): Promise<T>;
}

function isCode(error: unknown, code: string): boolean {
  return LetmepostError.isInstance(error) && error.code === code;
}

/** Refresh when possible, otherwise log in again; used for pass-per-request credentials. */
async function renewCredentialSession(options: {
  context: BlueskyContext;
  credentials: BlueskyCredentials;
  previous: BlueskySession | undefined;
  signal?: AbortSignal;
}): Promise<BlueskySession> {
  const { context, credentials, previous, signal } = options;
  if (previous?.refreshJwt && isUsable({ expiresAt: previous.refreshExpiresAt, clock: context.clock })) {
    try {
      return await refreshSession({ http: context.http, pdsUrl: previous.pdsUrl, refreshJwt: previous.refreshJwt, signal });
    } catch (error) {
      // A dead refresh token is what the app password is for; anything else is a real failure.
      if (!isCode(error, 'reauth_required')) throw error;
    }
  }
  return loginWithAppPassword({ http: context.http, identity: context.identity, credentials, signal });
}

export async function acquireSession(options: {
  context: BlueskyContext;
  auth: PublishAuth<BlueskyCredentials>;
  signal?: AbortSignal;
}): Promise<SessionHandle> {
  const { context, auth, signal } = options;

  if (auth.type === 'account') {
    const parsed = blueskyAccountDataSchema.safeParse(auth.account.data);
    if (!parsed.success) {
      throw new LetmepostError({
        code: 'reauth_required',
        platform: 'bluesky',
        message: 'The stored Bluesky account lacks its DID, handle or PDS URL; reconnect it.',
        field: 'account.data',
      });
    }
    const { did, handle, pdsUrl } = parsed.data;
    const accessJwt = auth.tokens.accessToken;
    const expiresAt = auth.tokens.expiresAt ?? jwtExpiresAt(accessJwt);
    // Checked before anything is sent: an expiry discovered halfway through a thread would leave
    // it half-posted, while one found here lets core refresh and retry the whole publish.
    if (!isUsable({ expiresAt, clock: context.clock })) {
      throw new LetmepostError({
        code: 'auth_expired',
        platform: 'bluesky',
        message: 'The Bluesky access token has expired; refresh the session.',
        knownSecrets: [accessJwt],
      });
    }
    return { did, handle, pdsUrl, call: (fn) => fn(accessJwt) };
  }

  const credentials = auth.credentials;
  const cache = context.sessionCache;
  const key = SessionCache.keyFor(credentials);
  let session: BlueskySession;
  const cached = cache?.get(key);
  if (cached && isUsable({ expiresAt: cached.accessExpiresAt, clock: context.clock })) {
    session = cached;
  } else {
    const load = async () => {
      const renewed = await renewCredentialSession({ context, credentials, previous: cached, signal });
      cache?.set(key, renewed);
      return renewed;
    };
    session = cache ? await cache.singleFlight(key, load) : await load();
  }

  let current = session;
  return {
    did: current.did,
    handle: current.handle,
    pdsUrl: current.pdsUrl,
    async call(fn) {
      try {
        return await fn(current.accessJwt);
      } catch (error) {
        if (!isCode(error, 'auth_expired')) throw error;
        const stale = current;
        const renew = async () => {
          // Another publish may have renewed this session meanwhile; then its result is reused.
          const latest = cache?.get(key);
          if (latest && latest.accessJwt !== stale.accessJwt && isUsable({ expiresAt: latest.accessExpiresAt, clock: context.clock })) {
            return latest;
          }
          const renewed = await renewCredentialSession({ context, credentials, previous: stale, signal });
          cache?.set(key, renewed);
          return renewed;
        };
        current = cache ? await cache.singleFlight(key, renew) : await renew();
        return fn(current.accessJwt);
      }
    },
  };
}

/**
 * Refresh for a stored account: `refreshSession` with the refresh JWT; when that token is dead,
 * a new login with the stored app password; when the app password is refused too (revoked),
 * `reauth_required`. Outages and rate limits pass through unchanged, so a blip never ends a
 * connection.
 */
export async function refreshAccountTokens(options: {
  http: HttpClient;
  tokens: TokenSet;
  /** The grant's `{ pdsUrl, did }` (account data of the same shape is accepted too). */
  grantData: Record<string, unknown> | undefined;
  signal?: AbortSignal;
}): Promise<TokenSet> {
  const { http, tokens, signal } = options;
  const data = blueskyGrantDataSchema().safeParse(options.grantData);
  if (!data.success) {
    throw new LetmepostError({
      code: 'reauth_required',
      platform: 'bluesky',
      message: 'The stored Bluesky grant lacks its DID or PDS URL; reconnect the account.',
    });
  }
  const { did, pdsUrl } = data.data;
  const appPassword = tokens.secrets?.appPassword;

  const relogin = async (cause: LetmepostError): Promise<TokenSet> => {
    if (!appPassword) throw cause;
    let session: BlueskySession;
    try {
      session = await createSession({ http, pdsUrl, identifier: did, appPassword, signal });
    } catch (error) {
      if (!isCode(error, 'platform_auth_failed')) throw error;
      throw new LetmepostError({
        code: 'reauth_required',
        platform: 'bluesky',
        message: 'Bluesky refused the stored app password; it was probably revoked.',
        status: (error as LetmepostError).status,
        remediation: 'Create a new app password and reconnect the account.',
        knownSecrets: [appPassword],
        cause: error,
      });
    }
    if (session.did !== did) {
      throw new LetmepostError({ code: 'reauth_required', platform: 'bluesky', message: 'The PDS logged in a different account.' });
    }
    return tokenSetFromSession({ session, appPassword });
  };

  if (!tokens.refreshToken) {
    return relogin(
      new LetmepostError({ code: 'reauth_required', platform: 'bluesky', message: 'No Bluesky refresh token is stored; reconnect the account.' }),
    );
  }
  try {
    const session = await refreshSession({ http, pdsUrl, refreshJwt: tokens.refreshToken, signal });
    return tokenSetFromSession({ session, appPassword });
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'reauth_required') return relogin(error);
    throw error;
  }
}
