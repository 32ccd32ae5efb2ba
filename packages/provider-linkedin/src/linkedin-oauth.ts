import { LetmepostError, type AuthorizationUrlOptions, type ClientCredentials, type Clock, type ExchangeCodeOptions, type TokenSet } from '@letmepost/core';
import { createOAuth2Client, repairTokenResponse, type HttpTimeouts, type OAuth2Client, type OAuth2TokenSet } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';

/** What posting as the member needs: OpenID Connect for the member id, plus "Share on LinkedIn". */
export const LINKEDIN_WRITE_SCOPES = ['openid', 'profile', 'w_member_social'] as const;

/**
 * Added on top of the write scopes for company pages (Community Management API, approval
 * required): post and read as an organization, and list the organizations the member manages
 * (`organizationAcls` needs `rw_organization_admin`).
 */
export const LINKEDIN_EXTENDED_SCOPES = ['r_organization_social', 'w_organization_social', 'rw_organization_admin'] as const;

/**
 * Repairs LinkedIn's token answers before oauth4webapi validates them: the usual repairs
 * (`token_type` is missing from many answers, panva/openid-client#826), plus `scope`, which
 * LinkedIn joins with commas ("openid,profile,w_member_social") while the authorization URL
 * takes spaces.
 */
export function conformLinkedInTokenResponse(response: { status: number; body: unknown }): {
  status: number;
  body: unknown;
} {
  const repaired = repairTokenResponse(response);
  const body = repaired.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return repaired;
  const record = body as Record<string, unknown>;
  if (typeof record.scope !== 'string') return repaired;
  return {
    status: repaired.status,
    body: {
      ...record,
      scope: record.scope
        .split(/[\s,]+/)
        .filter((scope) => scope.length > 0)
        .join(' '),
    },
  };
}

/** What refreshing an account LinkedIn gave no refresh token means: connect it again. */
export function noRefreshTokenError(): LetmepostError {
  return new LetmepostError({
    code: 'reauth_required',
    message: 'LinkedIn issued no refresh token for this account, so its access token cannot be renewed.',
    platform: 'linkedin',
    remediation:
      'Ask the member to connect LinkedIn again before the 60-day token expires (see the account’s expiresAt). Programmatic refresh tokens are only issued to apps LinkedIn approved for them.',
  });
}

export interface LinkedInOAuth {
  authorizationUrl(options: AuthorizationUrlOptions): URL;
  exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet>;
  refresh(options: { client: ClientCredentials; tokens: TokenSet; signal?: AbortSignal }): Promise<TokenSet>;
  revoke(options: { client: ClientCredentials; tokens: TokenSet; signal?: AbortSignal }): Promise<void>;
}

export function createLinkedInOAuth(options: {
  oauthBaseUrl: string;
  clock: Clock;
  dispatcher?: Dispatcher;
  timeouts?: HttpTimeouts;
}): LinkedInOAuth {
  const { clock } = options;
  const base = options.oauthBaseUrl.replace(/\/+$/, '');
  const client: OAuth2Client = createOAuth2Client({
    platform: 'linkedin',
    endpoints: {
      authorizationEndpoint: `${base}/oauth/v2/authorization`,
      tokenEndpoint: `${base}/oauth/v2/accessToken`,
      // Not in Microsoft's docs, but served (form `token` + client credentials) and used by
      // LinkedIn's own client libraries' discovery documents; revocation is best effort anyway.
      revocationEndpoint: `${base}/oauth/v2/revoke`,
    },
    quirks: {
      // LinkedIn rejects HTTP Basic ("A required parameter client_id is missing").
      clientAuthentication: 'client_secret_post',
      conform: conformLinkedInTokenResponse,
    },
    clock,
    ...(options.dispatcher !== undefined ? { dispatcher: options.dispatcher } : {}),
    ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
  });

  /** Strips `raw` (it would be stored twice) and adds the refresh token's own lifetime. */
  const toTokenSet = (tokens: OAuth2TokenSet, previous?: TokenSet): TokenSet => {
    const refreshTokenExpiresIn = Number(tokens.raw.refresh_token_expires_in);
    const result: TokenSet = {
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      scopes: tokens.scopes,
    };
    if (tokens.expiresAt !== undefined) result.expiresAt = tokens.expiresAt;
    if (tokens.refreshToken !== undefined) result.refreshToken = tokens.refreshToken;
    if (tokens.refreshTokenExpiresAt !== undefined) {
      result.refreshTokenExpiresAt = tokens.refreshTokenExpiresAt;
    } else if (Number.isFinite(refreshTokenExpiresIn) && refreshTokenExpiresIn > 0) {
      result.refreshTokenExpiresAt = clock.now() + refreshTokenExpiresIn * 1000;
    } else if (previous?.refreshTokenExpiresAt !== undefined && tokens.refreshToken === undefined) {
      // The refresh token keeps counting down from the first consent; keep its known end.
      result.refreshTokenExpiresAt = previous.refreshTokenExpiresAt;
    }
    return result;
  };

  return {
    authorizationUrl: (authorizationOptions) => client.authorizationUrl(authorizationOptions),
    async exchangeCode(exchangeOptions) {
      return toTokenSet(await client.exchangeCode(exchangeOptions));
    },
    async refresh(refreshOptions) {
      const { tokens } = refreshOptions;
      if (tokens.refreshToken === undefined || tokens.refreshToken.length === 0) throw noRefreshTokenError();
      const refreshed = await client.refresh({
        client: refreshOptions.client,
        refreshToken: tokens.refreshToken,
        ...(refreshOptions.signal !== undefined ? { signal: refreshOptions.signal } : {}),
      });
      return toTokenSet(refreshed, tokens);
    },
    async revoke(revokeOptions) {
      // Revoking the access token ends the member's grant to the app, refresh token included.
      await client.revoke({
        client: revokeOptions.client,
        token: revokeOptions.tokens.accessToken,
        ...(revokeOptions.signal !== undefined ? { signal: revokeOptions.signal } : {}),
      });
    },
  };
}
