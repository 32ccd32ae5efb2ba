import { CONFORMANCE_NOW, runProviderConformance } from '@letmepost/testing';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import error401 from './__fixtures__/error-401.json' with { type: 'json' };
import error403 from './__fixtures__/error-403.json' with { type: 'json' };
import refusedIn200 from './__fixtures__/refused-in-200.json' with { type: 'json' };
import statusCreated from './__fixtures__/status-created.json' with { type: 'json' };
import tokenRefreshed from './__fixtures__/token-refreshed.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import verifyCredentials from './__fixtures__/verify-credentials.json' with { type: 'json' };
import { createTemplate } from './template-provider.js';

const API = 'https://social.example';
const CLIENT_ID = 'template-client-id';
const CLIENT_SECRET = 'template-client-secret-c4n4ry-0b1c';
const ACCESS_TOKEN = 'template-access-token-c4n4ry-5d6e';
const REFRESH_TOKEN = 'template-refresh-token-c4n4ry-7f80';
const json = { headers: { 'content-type': 'application/json' } };

// The whole contract, as every provider runs it: shape, preflight with canonical rule ids,
// OAuth, publish failures, 2xx refusals, refresh rotation, accounts and deletes.
runProviderConformance({
  createProvider: ({ dispatcher, clock }) => createTemplate({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dispatcher, clock }),
  oauth: {
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    redirectUri: 'https://app.example/v1/accounts/oauth/mastodon/callback',
    authorizationEndpoint: `${API}/oauth/authorize`,
    tokenEndpoint: { origin: API, path: '/oauth/token' },
    tokenResponse: { status: 200, body: tokenResponse },
    expected: { accessToken: tokenResponse.access_token, refreshToken: tokenResponse.refresh_token, scopes: ['read:accounts', 'write:statuses'] },
  },
  credentials: { valid: { accessToken: ACCESS_TOKEN } },
  publish: {
    auth: { type: 'account', account: { platformAccountId: '109876', username: 'letmepost' }, tokens: { accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN } },
    post: { text: 'Shipping letmepost today' },
    canarySecrets: [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET],
    writeEndpoint: { origin: API, method: 'POST', path: '/api/v1/statuses', success: { status: 200, body: statusCreated } },
    expected: { postId: statusCreated.id, url: statusCreated.url },
    rateLimit: { headers: { 'retry-after': '30' }, body: { error: 'Too many requests' }, retryAfterMs: 30_000 },
    errorBodies: { 401: error401, 403: error403 },
    successErrorBody: { status: 200, body: refusedIn200, codes: ['duplicate_content'] },
  },
  validation: [
    { post: { text: 'a'.repeat(501) }, rule: 'mastodon.text.max_length' },
    { post: { text: 'a', link: 'https://example.com' }, options: { visibility: 'private' }, rule: 'mastodon.link.private_visibility' },
    { post: { text: 'a' }, options: { visibility: 'secret' }, rule: 'mastodon.options.invalid' },
  ],
  refresh: {
    tokens: { accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN },
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    endpoint: { origin: API, path: '/oauth/token' },
    rotated: { status: 200, body: tokenRefreshed },
    expected: { accessToken: tokenRefreshed.access_token, refreshToken: tokenRefreshed.refresh_token },
    withoutRefreshToken: { status: 200, body: { ...tokenRefreshed, refresh_token: undefined } },
  },
  accounts: {
    tokens: { accessToken: ACCESS_TOKEN },
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    setup: (mockAgent) => {
      mockAgent.get(API).intercept({ method: 'GET', path: '/api/v1/accounts/verify_credentials' }).reply(200, JSON.stringify(verifyCredentials), json);
    },
    expectedAccountIds: ['109876'],
  },
  delete: {
    auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN } },
    postId: statusCreated.id,
    endpoint: { origin: API, method: 'DELETE', path: `/api/v1/statuses/${statusCreated.id}`, success: { status: 200, body: statusCreated } },
    notFound: { status: 404, body: { error: 'Record not found' } },
  },
});

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

describe('template provider at the wire', () => {
  it('sends the status with its link appended and the visibility option', async () => {
    const scope = nock(API, { reqheaders: { authorization: `Bearer ${ACCESS_TOKEN}`, 'content-type': 'application/json' } })
      .post('/api/v1/statuses', { status: 'Read this\n\nhttps://letmepost.dev/a', visibility: 'unlisted' })
      .reply(200, statusCreated);
    const result = await createTemplate({ clock: { now: () => CONFORMANCE_NOW } }).publish({
      post: { text: 'Read this', link: 'https://letmepost.dev/a' },
      auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN } },
      options: { visibility: 'unlisted' },
    });
    scope.done();
    expect(result).toMatchObject({ status: 'published', postId: statusCreated.id, url: statusCreated.url });
  });

  it('maps a duplicate refused with a 200 to duplicate_content with its rule, never an unknown outcome', async () => {
    nock(API).post('/api/v1/statuses').reply(200, refusedIn200);
    const error = await createTemplate()
      .publish({ post: { text: 'again' }, auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN } }, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'duplicate_content', rule: 'mastodon.post.duplicate', status: 200, platform: 'mastodon' });
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
  });

  it('moves every host with apiBaseUrl and refuses a malformed one naming the setting', async () => {
    const url = await createTemplate({ apiBaseUrl: 'https://mastodon.example/' }).authorizationUrl!({
      client: { clientId: CLIENT_ID },
      redirectUri: 'https://app.example/callback',
      state: 'state-0123456789abcdef',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: ['write:statuses'],
    });
    expect(url.origin + url.pathname).toBe('https://mastodon.example/oauth/authorize');
    expect(() => createTemplate({ apiBaseUrl: 'mastodon.example' })).toThrow(expect.objectContaining({ field: 'settings.apiBaseUrl' }));
  });
});
