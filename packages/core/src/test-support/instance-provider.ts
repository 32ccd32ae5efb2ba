/**
 * Test-only: a Mastodon-shaped provider (every server its own OAuth provider, apps registered at
 * `POST /api/v1/apps`) that talks HTTP to whatever server `instanceUrl` names, so connect tests
 * can assert registration, consent and token requests on a loopback wire.
 */
import { z } from 'zod';
import { LetmepostError } from '../letmepost-error.js';
import { INVALID_CLIENT_RULE } from '../registered-clients.js';
import { createTestProvider, type TestProvider } from './test-provider.js';

export const instanceParamsSchema = z.object({ instanceUrl: z.url({ protocol: /^https?$/ }) });

async function call({ url, init }: { url: string; init: RequestInit }): Promise<unknown> {
  const response = await fetch(url, init);
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const oauthError = (body as { error?: unknown } | null)?.error;
    throw new LetmepostError({
      code: 'platform_auth_failed',
      platform: 'mastodon',
      status: response.status,
      // As provider-utils' OAuth client marks it.
      ...(oauthError === 'invalid_client' && { rule: INVALID_CLIENT_RULE }),
      message: `The instance answered ${response.status}.`,
      platformResponse: body,
    });
  }
  return body;
}

export function createInstanceProvider(): TestProvider {
  const instanceUrlOf = (params: unknown): string => instanceParamsSchema.parse(params).instanceUrl.replace(/\/+$/, '');
  return createTestProvider({
    id: 'mastodon',
    defaultClient: null,
    auth: { kind: 'oauth2', scopes: { write: ['write:statuses', 'profile'], extended: ['read'] }, pkce: true, refresh: 'none' },
    connectParamsSchema: instanceParamsSchema,
    connectInstance: ({ params }) => new URL(instanceUrlOf(params)).host,
    async registerClient({ params, redirectUri, signal }) {
      const body = await call({
        url: `${instanceUrlOf(params)}/api/v1/apps`,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ client_name: 'letmepost test', redirect_uris: [redirectUri], scopes: 'write:statuses profile read' }),
          ...(signal !== undefined && { signal }),
        },
      });
      const app = z.object({ client_id: z.string(), client_secret: z.string() }).parse(body);
      return { client: { clientId: app.client_id, clientSecret: app.client_secret } };
    },
    async authorizationUrl(args) {
      // Async like a real discovery; the URL is at the instance the params name.
      await Promise.resolve();
      const url = new URL(`${instanceUrlOf(args.params)}/oauth/authorize`);
      url.searchParams.set('client_id', args.client.clientId);
      url.searchParams.set('redirect_uri', args.redirectUri);
      url.searchParams.set('state', args.state);
      url.searchParams.set('code_challenge', args.codeChallenge);
      url.searchParams.set('scope', args.scopes.join(' '));
      return url;
    },
    async exchangeCode(args) {
      const body = await call({
        url: `${instanceUrlOf(args.params)}/oauth/token`,
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: args.callbackUrl.searchParams.get('code') ?? '',
            redirect_uri: args.redirectUri,
            code_verifier: args.codeVerifier,
            client_id: args.client.clientId,
            client_secret: args.client.clientSecret ?? '',
          }).toString(),
        },
      });
      return { accessToken: z.object({ access_token: z.string() }).parse(body).access_token };
    },
    async listAccounts(args) {
      const body = await call({
        url: `${instanceUrlOf(args.params)}/api/v1/accounts/verify_credentials`,
        init: { headers: { authorization: `Bearer ${args.tokens.accessToken}` } },
      });
      const account = z.object({ id: z.string(), username: z.string() }).parse(body);
      return [{ platformAccountId: account.id, username: account.username, kind: 'person', data: { instanceUrl: instanceUrlOf(args.params) } }];
    },
  });
}
