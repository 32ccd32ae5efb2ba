import { LetmepostError, type Clock, type TokenSet } from '@letmepost/core';
import { graphTokenAnswerSchema, type GraphTokenAnswer } from './meta-graph-api.js';
import type { GraphHttpClient } from './meta-graph-http.js';

/** The family's non-standard token swaps: not OAuth grants, `grant_type` values of Meta's own. */
export type GraphExchangeGrantType = 'fb_exchange_token' | 'ig_exchange_token' | 'th_exchange_token';
export type GraphRefreshGrantType = 'ig_refresh_token' | 'th_refresh_token';

export interface ExchangeLongLivedTokenOptions {
  http: GraphHttpClient;
  /** Absolute, or relative to the client's versioned base (`oauth/access_token`, `access_token`). */
  url: string;
  grantType: GraphExchangeGrantType;
  /**
   * The swap's own parameters: Facebook `client_id`, `client_secret`, `fb_exchange_token`;
   * Instagram/Threads `client_secret`, `access_token`. Every value is masked in errors.
   */
  params: Record<string, string>;
  clock: Clock;
  /** Lifetime assumed when the answer has no `expires_in` (Facebook omits it at times). Absent: no `expiresAt`. */
  assumedLifetimeMs?: number;
  signal?: AbortSignal;
}

export interface RefreshLongLivedTokenOptions {
  http: GraphHttpClient;
  url: string;
  grantType: GraphRefreshGrantType;
  /** The long-lived token itself: Instagram and Threads refresh the access token, there is no refresh token. */
  accessToken: string;
  clock: Clock;
  assumedLifetimeMs?: number;
  signal?: AbortSignal;
}

/** A swap's answer as a core TokenSet, `expiresAt` from the injected clock. */
export function tokenSetFromGraphAnswer(options: { answer: GraphTokenAnswer; clock: Clock; assumedLifetimeMs?: number }): TokenSet {
  const { answer, clock } = options;
  const lifetimeMs = answer.expires_in !== undefined && answer.expires_in > 0 ? answer.expires_in * 1000 : options.assumedLifetimeMs;
  const scopes = typeof answer.permissions === 'string' ? answer.permissions.split(',').map((scope) => scope.trim()).filter(Boolean) : answer.permissions;
  return {
    accessToken: answer.access_token,
    tokenType: 'bearer',
    ...(lifetimeMs !== undefined && { expiresAt: clock.now() + lifetimeMs }),
    ...(scopes !== undefined && scopes.length > 0 && { scopes }),
  };
}

async function swap(options: {
  http: GraphHttpClient;
  url: string;
  query: Record<string, string>;
  clock: Clock;
  assumedLifetimeMs: number | undefined;
  signal: AbortSignal | undefined;
}): Promise<TokenSet> {
  const { value } = await options.http.json({
    method: 'GET',
    path: options.url,
    query: options.query,
    // A swap changes nothing a repeat would duplicate: the same token comes back or a newer one.
    retry: 'idempotent',
    isWrite: false,
    secrets: Object.values(options.query),
    schema: graphTokenAnswerSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return tokenSetFromGraphAnswer({ answer: value, clock: options.clock, ...(options.assumedLifetimeMs !== undefined && { assumedLifetimeMs: options.assumedLifetimeMs }) });
}

/** Swaps a short-lived token for a long-lived one (about 60 days). */
export function exchangeLongLivedToken(options: ExchangeLongLivedTokenOptions): Promise<TokenSet> {
  return swap({
    http: options.http,
    url: options.url,
    query: { grant_type: options.grantType, ...options.params },
    clock: options.clock,
    assumedLifetimeMs: options.assumedLifetimeMs,
    signal: options.signal,
  });
}

/**
 * Refreshes a long-lived Instagram or Threads token (allowed once it is 24 h old and unexpired);
 * the answer is a new 60-day token. A token that can no longer be refreshed (Graph 190, with or
 * without a subcode) is `reauth_required`: only a new connect gives a new one.
 */
export async function refreshLongLivedToken(options: RefreshLongLivedTokenOptions): Promise<TokenSet> {
  if (options.accessToken.length === 0) {
    throw new LetmepostError({ code: 'reauth_required', message: 'There is no token to refresh.', platform: options.http.platform });
  }
  try {
    return await swap({
      http: options.http,
      url: options.url,
      query: { grant_type: options.grantType, access_token: options.accessToken },
      clock: options.clock,
      assumedLifetimeMs: options.assumedLifetimeMs,
      signal: options.signal,
    });
  } catch (error) {
    // The refresh needs the token itself to be valid: once Graph calls it expired (190), no
    // refresh can revive it, and core must mark the grant for reconnection instead of retrying.
    if (LetmepostError.isInstance(error) && error.code === 'auth_expired') {
      throw new LetmepostError({
        code: 'reauth_required',
        message: `${error.message} The long-lived token expired before it was refreshed; connect the account again.`,
        platform: options.http.platform,
        ...(error.status !== undefined && { status: error.status }),
        ...(error.platformResponse !== undefined && { platformResponse: error.platformResponse }),
        remediation: 'Connect the account again, and refresh long-lived tokens before they expire (accounts.refreshDue).',
        cause: error,
      });
    }
    throw error;
  }
}
