import type { ClientCredentials, Clock, ExchangeCodeOptions, TokenSet } from '@letmepost/core';
import { exchangeLongLivedToken, refreshLongLivedToken, type GraphHttpClient } from '@letmepost/meta-graph';
import { createOAuth2Client, type HttpTimeouts } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';
import { conformInstagramTokenAnswer } from './instagram-oauth-answer.js';

/** What publishing needs (Instagram Login's "business" scopes, named so since 2025-01-27). */
export const INSTAGRAM_WRITE_SCOPES: readonly string[] = ['instagram_business_basic', 'instagram_business_content_publish'];
/** Adds comments: the first comment needs `instagram_business_manage_comments`. */
export const INSTAGRAM_EXTENDED_SCOPES: readonly string[] = [...INSTAGRAM_WRITE_SCOPES, 'instagram_business_manage_comments'];

export interface InstagramOAuthEndpoints {
  /** `https://www.instagram.com/oauth/authorize`. */
  authorizationEndpoint: string;
  /** `https://api.instagram.com/oauth/access_token` (code → short-lived token). */
  tokenEndpoint: string;
}

export interface InstagramOAuth {
  authorizationUrl: ReturnType<typeof createOAuth2Client>['authorizationUrl'];
  /** Code → short-lived token (1 h) → long-lived token (60 days), both server-side. */
  exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet>;
  /** A new 60-day token for the long-lived one (allowed once it is 24 h old and unexpired). */
  refresh(options: { tokens: TokenSet; signal?: AbortSignal }): Promise<TokenSet>;
}

/**
 * Instagram Login on provider-utils' OAuth client: the code exchange's non-standard answer is
 * repaired by the declared `conform` quirk, scopes are comma-separated, the client authenticates
 * in the form body; the long-lived swap (`ig_exchange_token`) and the refresh
 * (`ig_refresh_token`) are the Graph family's.
 */
export function createInstagramOAuth(options: {
  endpoints: InstagramOAuthEndpoints;
  graph: GraphHttpClient;
  clock: Clock;
  dispatcher?: Dispatcher;
  timeouts?: HttpTimeouts;
}): InstagramOAuth {
  const { graph, clock } = options;
  const client = createOAuth2Client({
    platform: 'instagram',
    endpoints: options.endpoints,
    quirks: { clientAuthentication: 'client_secret_post', scopeSeparator: ',', conform: conformInstagramTokenAnswer },
    clock,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
  });
  return {
    authorizationUrl: (authorization) => client.authorizationUrl(authorization),
    async exchangeCode(exchange) {
      // Instagram appends `#_` to the redirect; a URL copied whole keeps it, and it is not part of the code.
      const callbackUrl = new URL(exchange.callbackUrl);
      callbackUrl.hash = '';
      const shortLived = await client.exchangeCode({ ...exchange, callbackUrl });
      const longLived = await exchangeLongLivedToken({
        http: graph,
        // Unversioned, as Meta documents the swap.
        url: `${graph.baseUrl}/access_token`,
        grantType: 'ig_exchange_token',
        params: { client_secret: requireSecret(exchange.client), access_token: shortLived.accessToken },
        clock,
        ...(exchange.signal !== undefined && { signal: exchange.signal }),
      });
      return { ...longLived, scopes: longLived.scopes ?? shortLived.scopes };
    },
    async refresh({ tokens, signal }) {
      const refreshed = await refreshLongLivedToken({
        http: graph,
        url: `${graph.baseUrl}/refresh_access_token`,
        grantType: 'ig_refresh_token',
        accessToken: tokens.accessToken,
        clock,
        ...(signal !== undefined && { signal }),
      });
      // Refreshing keeps the grant's permissions; the answer does not repeat them.
      return { ...refreshed, ...(refreshed.scopes === undefined && tokens.scopes !== undefined && { scopes: tokens.scopes }) };
    },
  };
}

function requireSecret(client: ClientCredentials): string {
  // createOAuth2Client refused the exchange already without a secret (client_secret_post).
  return client.clientSecret ?? '';
}
