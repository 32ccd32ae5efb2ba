import { LetmepostError, type ClientCredentials, type Clock, type TokenSet } from '@letmepost/core';
import { exchangeLongLivedToken, refreshLongLivedToken, type GraphHttpClient } from '@letmepost/meta-graph';
import { createOAuth2Client, repairTokenResponse, type HttpTimeouts, type OAuth2TokenSet } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';

/** What publishing needs: `threads_basic` (every call) and `threads_content_publish`. */
export const THREADS_WRITE_SCOPES: readonly string[] = ['threads_basic', 'threads_content_publish'];
/** Adds reply management and reading, for hosts that manage conversations. */
export const THREADS_EXTENDED_SCOPES: readonly string[] = [...THREADS_WRITE_SCOPES, 'threads_manage_replies', 'threads_read_replies'];

export interface ThreadsOAuth {
  authorizationUrl: ReturnType<typeof createOAuth2Client>['authorizationUrl'];
  /** Code → 1-hour token → 60-day token (`th_exchange_token`). */
  exchangeCode(options: Parameters<ReturnType<typeof createOAuth2Client>['exchangeCode']>[0]): Promise<TokenSet>;
  /** The 60-day token renewed for 60 more days (`th_refresh_token`); the token refreshes itself. */
  refresh(options: { tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }): Promise<TokenSet>;
}

/**
 * Threads Login through provider-utils' OAuth client, its deviations declared as quirks: the
 * client authenticates in the form body, scopes are comma-separated, and the code exchange
 * answers `{ access_token, user_id }` without `token_type`. The short-lived token is swapped at
 * once for the long-lived one; refresh renews that token (there is no refresh token).
 */
export function createThreadsOAuth(options: {
  authorizationEndpoint: string;
  apiBaseUrl: string;
  /** The Graph client the long-lived swaps go through (their URLs are absolute: they are not versioned). */
  http: GraphHttpClient;
  clock: Clock;
  dispatcher?: Dispatcher;
  timeouts?: HttpTimeouts;
}): ThreadsOAuth {
  const client = createOAuth2Client({
    platform: 'threads',
    endpoints: { authorizationEndpoint: options.authorizationEndpoint, tokenEndpoint: `${options.apiBaseUrl}/oauth/access_token` },
    quirks: { clientAuthentication: 'client_secret_post', scopeSeparator: ',', conform: repairTokenResponse },
    clock: options.clock,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
  });
  const { http, clock } = options;
  return {
    authorizationUrl: (authorization) => client.authorizationUrl(authorization),
    async exchangeCode(exchange) {
      const shortLived: OAuth2TokenSet = await client.exchangeCode(exchange);
      let longLived: TokenSet;
      try {
        longLived = await exchangeLongLivedToken({
          http,
          url: `${options.apiBaseUrl}/access_token`,
          grantType: 'th_exchange_token',
          params: { client_secret: exchange.client.clientSecret ?? '', access_token: shortLived.accessToken },
          clock,
          ...(exchange.signal !== undefined && { signal: exchange.signal }),
        });
      } catch (error) {
        // A refused swap (wrong app secret, a token of another app) fails the connect itself;
        // outages and throttling keep their own codes, since trying again may help.
        if (!LetmepostError.isInstance(error) || error.code === 'platform_unavailable' || error.code === 'rate_limited') throw error;
        throw new LetmepostError({
          code: 'platform_auth_failed',
          message: `Threads refused to swap the new token for a long-lived one: ${error.message}`,
          platform: 'threads',
          ...(error.status !== undefined && { status: error.status }),
          ...(error.platformResponse !== undefined && { platformResponse: error.platformResponse }),
          retryable: false,
          remediation: 'Check the Threads App Secret configured for this app (THREADS_CLIENT_SECRET), then connect again.',
          cause: error,
        });
      }
      // The granted scopes come with the code exchange only (`scope`, when sent); keep them.
      return { ...longLived, ...(shortLived.scopes.length > 0 && longLived.scopes === undefined && { scopes: shortLived.scopes }) };
    },
    async refresh({ tokens, signal }) {
      return refreshLongLivedToken({
        http,
        url: `${options.apiBaseUrl}/refresh_access_token`,
        grantType: 'th_refresh_token',
        accessToken: tokens.accessToken,
        clock,
        ...(signal !== undefined && { signal }),
      });
    },
  };
}
