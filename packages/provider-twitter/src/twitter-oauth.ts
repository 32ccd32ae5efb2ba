import {
  LetmepostError,
  type AuthorizationUrlOptions,
  type ClientCredentials,
  type ExchangeCodeOptions,
  type Clock,
  type ConnectedAccountGrant,
  type ProviderAccount,
  type TokenSet,
} from '@letmepost/core';
import { createOAuth2Client, type HttpTimeouts, type OAuth2Client, type OAuth2TokenSet } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';
import { TWITTER_USER_FIELDS, twitterUsersMeResponseSchema, type TwitterUser } from './twitter-api.js';
import type { TwitterContext } from './twitter-context.js';
import {
  OAUTH1_TOKEN_TYPE,
  oauth1TokenSet,
  parseTwitterCredentials,
  resolveTwitterAuth,
  type TwitterCredentials,
} from './twitter-credentials.js';

/** Scopes a publishing app needs; `offline.access` is what yields a refresh token. */
export const TWITTER_WRITE_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'offline.access', 'media.write'] as const;

/** Write scopes plus hiding replies and reading likes and follows. */
export const TWITTER_EXTENDED_SCOPES = [...TWITTER_WRITE_SCOPES, 'tweet.moderate.write', 'like.read', 'follows.read'] as const;

export interface TwitterOAuth {
  authorizationUrl(options: AuthorizationUrlOptions): URL;
  exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet>;
  refresh(options: { tokens: TokenSet; client?: ClientCredentials; signal?: AbortSignal }): Promise<TokenSet>;
  revoke(options: { tokens: TokenSet; client?: ClientCredentials; signal?: AbortSignal }): Promise<void>;
}

/**
 * X's OAuth 2.0 Authorization Code flow with PKCE, on provider-utils (oauth4webapi).
 *
 * Quirks declared rather than patched: confidential clients authenticate with HTTP Basic
 * (`client_secret_basic`), public ones (no secret) send `client_id` in the body; X answers a
 * dead or reused refresh token with `invalid_request` instead of `invalid_grant`, so that code
 * also means "reconnect"; refresh tokens rotate on every use.
 */
export function createTwitterOAuth(options: {
  apiBaseUrl: string;
  authorizeUrl: string;
  defaultClient?: ClientCredentials;
  dispatcher?: Dispatcher;
  clock: Clock;
  timeouts?: HttpTimeouts;
}): TwitterOAuth {
  const endpoints = {
    authorizationEndpoint: options.authorizeUrl,
    tokenEndpoint: `${options.apiBaseUrl}/2/oauth2/token`,
    revocationEndpoint: `${options.apiBaseUrl}/2/oauth2/revoke`,
  };
  const common = {
    platform: 'twitter' as const,
    endpoints,
    clock: options.clock,
    dispatcher: options.dispatcher,
    timeouts: options.timeouts,
  };
  const confidential = createOAuth2Client({
    ...common,
    quirks: { clientAuthentication: 'client_secret_basic', invalidGrantErrors: ['invalid_request'] },
  });
  const publicClient = createOAuth2Client({
    ...common,
    quirks: { clientAuthentication: 'none', invalidGrantErrors: ['invalid_request'] },
  });
  const clientFor = (client: ClientCredentials): OAuth2Client => (client.clientSecret ? confidential : publicClient);
  const requireClient = (client: ClientCredentials | undefined): ClientCredentials => {
    const resolved = client ?? options.defaultClient;
    if (resolved === undefined) {
      throw new LetmepostError({
        code: 'app_credentials_missing',
        message: 'No X OAuth app (client id and secret) is configured for this account.',
        platform: 'twitter',
        remediation: 'Pass clientId/clientSecret to createTwitter(), or the workspace’s own X app.',
      });
    }
    return resolved;
  };

  return {
    authorizationUrl: (authorization) => clientFor(authorization.client).authorizationUrl(authorization),

    async exchangeCode(exchange) {
      return withoutRaw(await clientFor(exchange.client).exchangeCode(exchange));
    },

    async refresh({ tokens, client, signal }) {
      // Pasted OAuth 1.0a user keys do not expire and have nothing to refresh.
      if (tokens.tokenType === OAUTH1_TOKEN_TYPE) return tokens;
      if (!tokens.refreshToken) {
        throw new LetmepostError({
          code: 'reauth_required',
          message: 'The X grant has no refresh token (offline.access was not granted); the account must be connected again.',
          platform: 'twitter',
          remediation: 'Reconnect the account; letmepost requests offline.access so new grants can be refreshed.',
        });
      }
      const resolved = requireClient(client);
      const refreshed = await clientFor(resolved).refresh({ client: resolved, refreshToken: tokens.refreshToken, signal });
      // X rotates the refresh token; should an answer ever lack one, the old one is all there is.
      return { ...withoutRaw(refreshed), refreshToken: refreshed.refreshToken ?? tokens.refreshToken };
    },

    async revoke({ tokens, client, signal }) {
      if (tokens.tokenType === OAUTH1_TOKEN_TYPE) return;
      const resolved = requireClient(client);
      const oauth = clientFor(resolved);
      // The refresh token first: once it is gone no new access token can be minted.
      if (tokens.refreshToken) {
        await oauth.revoke({ client: resolved, token: tokens.refreshToken, tokenTypeHint: 'refresh_token', signal });
      }
      await oauth.revoke({ client: resolved, token: tokens.accessToken, tokenTypeHint: 'access_token', signal });
    },
  };
}

/** `GET /2/users/me`: the one account an X grant gives access to. */
export async function listTwitterAccounts(options: {
  context: TwitterContext;
  tokens: TokenSet;
  signal?: AbortSignal;
}): Promise<ProviderAccount[]> {
  const auth = resolveTwitterAuth({ type: 'account', account: { platformAccountId: '' }, tokens: options.tokens });
  const user = await fetchUser({ context: options.context, auth, signal: options.signal });
  return [toProviderAccount({ user, authentication: options.tokens.tokenType === OAUTH1_TOKEN_TYPE ? 'oauth1' : 'oauth2' })];
}

/** Connects an account with pasted OAuth 1.0a user keys, after checking them against X. */
export async function connectTwitterWithCredentials(options: {
  context: TwitterContext;
  credentials: TwitterCredentials;
  signal?: AbortSignal;
}): Promise<ConnectedAccountGrant> {
  const credentials = parseTwitterCredentials(options.credentials);
  const auth = resolveTwitterAuth({ type: 'credentials', credentials });
  const user = await fetchUser({ context: options.context, auth, signal: options.signal });
  return { account: toProviderAccount({ user, authentication: 'oauth1' }), tokens: oauth1TokenSet(credentials) };
}

async function fetchUser(options: {
  context: TwitterContext;
  auth: ReturnType<typeof resolveTwitterAuth>;
  signal?: AbortSignal;
}): Promise<TwitterUser> {
  const { context, auth } = options;
  const { value } = await context.http.json({
    method: 'GET',
    url: `${context.apiBaseUrl}/2/users/me`,
    query: { 'user.fields': TWITTER_USER_FIELDS },
    auth: auth.http,
    secrets: auth.secrets,
    schema: twitterUsersMeResponseSchema(),
    signal: options.signal,
  });
  return value.data;
}

function toProviderAccount(options: { user: TwitterUser; authentication: 'oauth1' | 'oauth2' }): ProviderAccount {
  const { user } = options;
  return {
    platformAccountId: user.id,
    kind: 'person',
    username: user.username,
    displayName: user.name,
    avatarUrl: user.profile_image_url,
    profileUrl: `https://x.com/${user.username}`,
    data: {
      authentication: options.authentication,
      verifiedType: user.verified_type,
      subscriptionType: user.subscription_type,
    },
  };
}

function withoutRaw(tokens: OAuth2TokenSet): TokenSet {
  const { raw: _raw, ...rest } = tokens;
  return rest;
}
