import { LetmepostError, type ClientCredentials, type ExchangeCodeOptions, type TokenSet } from '@letmepost/core';
import { computeAppSecretProof, exchangeLongLivedToken, graphErrorBodySchema, type GraphHttpClient } from '@letmepost/meta-graph';
import { createOAuth2Client, resolveAppClient, type OAuth2Client } from '@letmepost/provider-utils';
import type { Clock } from '@letmepost/core';
import type { HttpTimeouts } from '@letmepost/provider-utils';
import type { FacebookContext } from './facebook-context.js';
import { APPSECRET_PROOF_SECRET } from './facebook-credentials.js';

/** What publishing to Pages needs (fact sheet § Scopes); `business_management` reaches Pages of a Business Portfolio. */
export const FACEBOOK_WRITE_SCOPES = ['pages_show_list', 'pages_manage_posts', 'pages_read_engagement', 'business_management'] as const;
/** First comments (`pages_manage_engagement`) and insights. */
export const FACEBOOK_EXTENDED_SCOPES = [...FACEBOOK_WRITE_SCOPES, 'pages_manage_engagement', 'read_insights'] as const;

/** A long-lived user token lives about 60 days; Facebook sometimes leaves `expires_in` out. */
const LONG_LIVED_USER_TOKEN_MS = 60 * 24 * 60 * 60 * 1000;

/**
 * The token endpoint answers errors in Graph's shape (`{ error: { code, error_subcode } }`), not
 * RFC 6749's: they are rewritten to OAuth errors so the shared OAuth client classifies them
 * (a used or expired code, 100/36007 and the like → `invalid_grant`; a bad app, 101 → `invalid_client`).
 */
export function conformFacebookTokenResponse(response: { status: number; body: unknown }): { status: number; body: unknown } {
  const parsed = graphErrorBodySchema().safeParse(response.body);
  if (!parsed.success) return response;
  const { code, message, is_transient: transient } = parsed.data.error;
  if (code === 1 || code === 2 || transient === true) return { status: response.status >= 500 ? response.status : 503, body: { error: 'temporarily_unavailable', error_description: message } };
  const error = code === 101 ? 'invalid_client' : 'invalid_grant';
  return { status: response.status >= 400 ? response.status : 400, body: { error, error_description: message ?? `Graph error ${code ?? ''}`.trim() } };
}

export function createFacebookOAuth(options: {
  /** The Login dialog, e.g. `https://www.facebook.com/v26.0/dialog/oauth`. */
  authorizationEndpoint: string;
  graphBaseUrl: string;
  graphVersion: string;
  clock: Clock;
  dispatcher?: Parameters<typeof createOAuth2Client>[0]['dispatcher'];
  timeouts?: HttpTimeouts;
}): OAuth2Client {
  return createOAuth2Client({
    platform: 'facebook',
    endpoints: {
      authorizationEndpoint: options.authorizationEndpoint,
      tokenEndpoint: `${options.graphBaseUrl}/${options.graphVersion}/oauth/access_token`,
    },
    quirks: { clientAuthentication: 'client_secret_post', scopeSeparator: ',', conform: conformFacebookTokenResponse },
    clock: options.clock,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
  });
}

/** The proof for a token made with this app, kept beside the token (publishing then needs no secret). */
export function withAppSecretProof(options: { tokens: TokenSet; client: ClientCredentials }): TokenSet {
  const { tokens, client } = options;
  if (client.clientSecret === undefined) return tokens;
  return { ...tokens, secrets: { ...tokens.secrets, [APPSECRET_PROOF_SECRET]: computeAppSecretProof({ accessToken: tokens.accessToken, appSecret: client.clientSecret }) } };
}

/**
 * Code → short-lived user token (the shared OAuth client: state, callback errors, PKCE) →
 * long-lived user token (`fb_exchange_token`, server-side, about 60 days), with its
 * `appsecret_proof`. Pages listed with a long-lived user token get Page tokens that do not expire.
 */
export async function exchangeFacebookCode(options: { context: FacebookContext } & ExchangeCodeOptions): Promise<TokenSet> {
  const { context, ...exchange } = options;
  const client = resolveAppClient({ platform: 'facebook', client: exchange.client, defaultClient: context.defaultClient, requireSecret: true });
  const shortLived = await context.oauth.exchangeCode({ ...exchange, client });
  const longLived = await exchangeLongLivedToken({
    http: context.graph,
    url: 'oauth/access_token',
    grantType: 'fb_exchange_token',
    params: { client_id: client.clientId, client_secret: client.clientSecret ?? '', fb_exchange_token: shortLived.accessToken },
    clock: context.clock,
    assumedLifetimeMs: LONG_LIVED_USER_TOKEN_MS,
    ...(exchange.signal !== undefined && { signal: exchange.signal }),
  });
  return withAppSecretProof({ tokens: { ...longLived, ...(shortLived.scopes.length > 0 && { scopes: shortLived.scopes }) }, client });
}

/** Ends the consent: `DELETE /me/permissions` with the user token. */
export async function revokeFacebookGrant(options: { graph: GraphHttpClient; tokens: TokenSet; signal?: AbortSignal }): Promise<void> {
  const { graph, tokens } = options;
  if (tokens.accessToken.length === 0) {
    throw new LetmepostError({ code: 'reauth_required', message: 'There is no Facebook user token to revoke.', platform: 'facebook' });
  }
  const proof = tokens.secrets?.[APPSECRET_PROOF_SECRET];
  await graph.request({
    method: 'DELETE',
    path: 'me/permissions',
    accessToken: tokens.accessToken,
    ...(proof !== undefined && { appSecretProof: proof }),
    // Revoking twice ends in the same state.
    retry: 'idempotent',
    ...(options.signal !== undefined && { signal: options.signal }),
  });
}
