import { LetmepostError, type ClientCredentials, type Clock, type TokenSet } from '@letmepost/core';
import { createOAuth2Client, type HttpTimeouts, type OAuth2TokenSet } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';

export const TEMPLATE_WRITE_SCOPES: readonly string[] = ['read:accounts', 'write:statuses'];
export const TEMPLATE_EXTENDED_SCOPES: readonly string[] = ['read:accounts', 'write:statuses', 'read:statuses'];

export interface TemplateOAuth {
  authorizationUrl: ReturnType<typeof createOAuth2Client>['authorizationUrl'];
  exchangeCode(options: Parameters<ReturnType<typeof createOAuth2Client>['exchangeCode']>[0]): Promise<TokenSet>;
  refresh(options: { tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }): Promise<TokenSet>;
  revoke(options: { tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }): Promise<void>;
}

/**
 * The OAuth 2.0 flow through provider-utils' client: the platform's deviations are declared as
 * `quirks` (none here), never a fork of the flow.
 */
export function createTemplateOAuth(options: { baseUrl: string; clock: Clock; dispatcher?: Dispatcher; timeouts?: HttpTimeouts }): TemplateOAuth {
  const client = createOAuth2Client({
    platform: 'mastodon',
    endpoints: {
      authorizationEndpoint: `${options.baseUrl}/oauth/authorize`,
      tokenEndpoint: `${options.baseUrl}/oauth/token`,
      revocationEndpoint: `${options.baseUrl}/oauth/revoke`,
    },
    quirks: { clientAuthentication: 'client_secret_post' },
    clock: options.clock,
    ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    ...(options.timeouts !== undefined && { timeouts: options.timeouts }),
  });
  // `raw` is the whole answer; it is not stored.
  const toTokenSet = ({ raw: _raw, ...tokens }: OAuth2TokenSet): TokenSet => tokens;
  return {
    authorizationUrl: (authorization) => client.authorizationUrl(authorization),
    exchangeCode: async (exchange) => toTokenSet(await client.exchangeCode(exchange)),
    async refresh({ tokens, client: app, signal }) {
      if (tokens.refreshToken === undefined) {
        throw new LetmepostError({ code: 'reauth_required', platform: 'mastodon', message: 'The grant has no refresh token; connect the account again.' });
      }
      const refreshed = toTokenSet(await client.refresh({ client: app, refreshToken: tokens.refreshToken, ...(signal !== undefined && { signal }) }));
      // An answer without a refresh token leaves the stored one in force; none is made up.
      return { ...refreshed, ...(refreshed.refreshToken === undefined && { refreshToken: tokens.refreshToken }) };
    },
    async revoke({ tokens, client: app, signal }) {
      await client.revoke({ client: app, token: tokens.accessToken, ...(signal !== undefined && { signal }) });
    },
  };
}
