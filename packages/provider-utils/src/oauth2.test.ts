import nock from 'nock';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { closedPort, startLocalServer, type LocalServer } from './test-support/local-server.js';
import { createOAuth2Client, repairTokenResponse, type OAuth2ClientOptions } from './oauth2.js';
import { failure } from './test-support/letmepost-failure.js';

const AUTH = 'https://auth.example.com';
const NOW = Date.UTC(2025, 5, 1);
const CLIENT_SECRET = 'canary-client_secret-with-dash_and_underscore';
const client = { clientId: 'client-id_1', clientSecret: CLIENT_SECRET };
const REDIRECT = 'https://app.example.com/v1/accounts/oauth/linkedin/callback';
const STATE = 'state-0123456789abcdef';
const VERIFIER = 'canary-verifier-0123456789012345678901234567890123';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

function oauthClient(overrides: Partial<OAuth2ClientOptions> = {}) {
  return createOAuth2Client({
    platform: 'linkedin',
    endpoints: {
      authorizationEndpoint: `${AUTH}/oauth/v2/authorization?prompt=login`,
      tokenEndpoint: `${AUTH}/oauth/v2/accessToken`,
      revocationEndpoint: `${AUTH}/oauth/v2/revoke`,
    },
    clock: { now: () => NOW },
    ...overrides,
  });
}

function callback(parameters: Record<string, string | undefined>): URL {
  const url = new URL(REDIRECT);
  for (const [key, value] of Object.entries(parameters)) if (value !== undefined) url.searchParams.set(key, value);
  return url;
}

interface Seen {
  headers: Headers;
  body: URLSearchParams;
}

/** A token endpoint that records what it received and answers `status`/`body`. */
function tokenEndpoint(answer: { status: number; body: unknown }, path = '/oauth/v2/accessToken') {
  const seen: Seen[] = [];
  const scope = nock(AUTH)
    .post(path)
    .times(5)
    .reply(async (request: Request) => {
      seen.push({ headers: request.headers, body: new URLSearchParams(await request.text()) });
      return [answer.status, answer.body as Record<string, unknown>];
    });
  return { seen, scope };
}

describe('authorizationUrl', () => {
  test('code flow with PKCE S256, state, scopes; existing query kept', () => {
    const url = oauthClient().authorizationUrl({ client, redirectUri: REDIRECT, state: STATE, codeChallenge: CHALLENGE, scopes: ['openid', 'w_member_social'] });
    expect(url.origin + url.pathname).toBe(`${AUTH}/oauth/v2/authorization`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      prompt: 'login',
      response_type: 'code',
      client_id: 'client-id_1',
      redirect_uri: REDIRECT,
      state: STATE,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      scope: 'openid w_member_social',
    });
  });

  test('quirks: comma scopes, client_key, extra parameters that cannot override security ones', () => {
    const url = oauthClient({
      platform: 'tiktok',
      quirks: {
        scopeSeparator: ',',
        parameterNames: { clientId: 'client_key' },
        authorizationParameters: { disable_auto_auth: '1', state: 'attacker', code_challenge_method: 'plain' },
      },
    }).authorizationUrl({ client, redirectUri: REDIRECT, state: STATE, codeChallenge: CHALLENGE, scopes: ['user.info.basic', 'video.publish'] });
    expect(url.searchParams.get('client_key')).toBe('client-id_1');
    expect(url.searchParams.has('client_id')).toBe(false);
    expect(url.searchParams.get('scope')).toBe('user.info.basic,video.publish');
    expect(url.searchParams.get('disable_auto_auth')).toBe('1');
    expect(url.searchParams.get('state')).toBe(STATE);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
  });

  test.each([
    { field: 'codeChallenge', options: { codeChallenge: 'short' } },
    { field: 'state', options: { state: '' } },
    { field: 'redirectUri', options: { redirectUri: 'not a url' } },
    { field: 'client.clientId', options: { client: { clientId: '' } } },
  ])('validation_failed naming $field', ({ field, options }) => {
    try {
      oauthClient().authorizationUrl({ client, redirectUri: REDIRECT, state: STATE, codeChallenge: CHALLENGE, scopes: [], ...options });
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toMatchObject({ code: 'validation_failed', field, platform: 'linkedin' });
    }
  });
});

describe('exchangeCode', () => {
  test('client_secret_basic: exact request, token set with expiry, scopes and raw', async () => {
    const { seen, scope } = tokenEndpoint({
      status: 200,
      body: {
        access_token: 'AQV-access',
        expires_in: 5184000,
        refresh_token: 'AQX-refresh',
        refresh_token_expires_in: 31536000,
        scope: 'openid,w_member_social',
        token_type: 'Bearer',
        id_token: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      },
    });
    const tokens = await oauthClient({ quirks: { scopeSeparator: ',' } }).exchangeCode({
      client,
      redirectUri: REDIRECT,
      callbackUrl: callback({ code: 'auth-code-1', state: STATE }),
      state: STATE,
      codeVerifier: VERIFIER,
    });
    expect(scope.isDone()).toBe(false); // answered once of the allowed five: not re-sent
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    // Our encoding leaves `-` and `_` alone (oauth4webapi's would send %2D/%5F).
    expect(request.headers.get('authorization')).toBe(`Basic ${Buffer.from(`client-id_1:${CLIENT_SECRET}`).toString('base64')}`);
    expect(request.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(request.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'auth-code-1',
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
    });
    expect(tokens).toEqual({
      accessToken: 'AQV-access',
      refreshToken: 'AQX-refresh',
      tokenType: 'bearer',
      expiresAt: NOW + 5184000 * 1000,
      refreshTokenExpiresAt: NOW + 31536000 * 1000,
      scopes: ['openid', 'w_member_social'],
      raw: {
        access_token: 'AQV-access',
        expires_in: 5184000,
        refresh_token: 'AQX-refresh',
        refresh_token_expires_in: 31536000,
        scope: 'openid,w_member_social',
        token_type: 'Bearer',
        id_token: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      },
    });
  });

  test('client_secret_post with client_key, token parameters and a conform hook (TikTok-like)', async () => {
    const { seen } = tokenEndpoint({
      status: 200,
      body: { data: { access_token: 'act.1', expires_in: '86400', refresh_token: 'rft.1', scope: ['user.info.basic', 'video.publish'], open_id: 'o-1' } },
    });
    const tokens = await oauthClient({
      platform: 'tiktok',
      quirks: {
        clientAuthentication: 'client_secret_post',
        parameterNames: { clientId: 'client_key' },
        tokenParameters: { extra: 'yes' },
        scopeSeparator: ',',
        conform: repairTokenResponse,
      },
    }).exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER });
    const request = seen[0]!;
    expect(request.headers.get('authorization')).toBeNull();
    expect(Object.fromEntries(request.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'c',
      redirect_uri: REDIRECT,
      code_verifier: VERIFIER,
      extra: 'yes',
      client_key: 'client-id_1',
      client_secret: CLIENT_SECRET,
    });
    expect(tokens).toMatchObject({
      accessToken: 'act.1',
      refreshToken: 'rft.1',
      tokenType: 'bearer',
      expiresAt: NOW + 86_400_000,
      scopes: ['user.info.basic', 'video.publish'],
    });
    expect(tokens.raw.open_id).toBe('o-1');
  });

  test("'none' authentication (public client): client_id in the body, no secret needed", async () => {
    const { seen } = tokenEndpoint({ status: 200, body: { access_token: 'a', token_type: 'bearer' } });
    const tokens = await oauthClient({ quirks: { clientAuthentication: 'none' } }).exchangeCode({
      client: { clientId: 'public-app' },
      redirectUri: REDIRECT,
      callbackUrl: callback({ code: 'c', state: STATE }),
      state: STATE,
      codeVerifier: VERIFIER,
    });
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    expect(seen[0]!.body.get('client_id')).toBe('public-app');
    expect(seen[0]!.body.has('client_secret')).toBe(false);
    expect(tokens.scopes).toEqual([]);
    expect(tokens.expiresAt).toBeUndefined();
    expect(tokens.refreshToken).toBeUndefined();
  });

  test('callback error=access_denied → platform_auth_failed with the platform code, nothing sent', async () => {
    const { seen } = tokenEndpoint({ status: 200, body: {} });
    const error = await failure(
      oauthClient().exchangeCode({
        client,
        redirectUri: REDIRECT,
        callbackUrl: callback({ error: 'access_denied', error_description: 'The user cancelled', state: STATE }),
        state: STATE,
        codeVerifier: VERIFIER,
      }),
    );
    expect(error).toMatchObject({ code: 'platform_auth_failed', retryable: false, platform: 'linkedin' });
    expect(error.platformResponse).toMatchObject({ error: 'access_denied', error_description: 'The user cancelled' });
    expect(error.message).toContain('access_denied');
    expect(seen).toHaveLength(0);
  });

  test.each([
    { name: 'different state', parameters: { code: 'c', state: 'state-forged-000000' } },
    { name: 'missing state', parameters: { code: 'c' } },
    { name: 'error with a forged state', parameters: { error: 'access_denied', state: 'state-forged-000000' } },
  ])('$name → state_invalid, nothing sent', async ({ parameters }) => {
    const { seen } = tokenEndpoint({ status: 200, body: {} });
    const error = await failure(
      oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback(parameters), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error).toMatchObject({ code: 'state_invalid', retryable: false });
    expect(seen).toHaveLength(0);
  });

  test('an iss parameter is ignored without a declared issuer, checked with one', async () => {
    tokenEndpoint({ status: 200, body: { access_token: 'a', token_type: 'bearer' } });
    const url = callback({ code: 'c', state: STATE, iss: 'https://elsewhere.example' });
    await oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: url, state: STATE, codeVerifier: VERIFIER });
    const error = await failure(
      oauthClient({
        endpoints: { authorizationEndpoint: `${AUTH}/a`, tokenEndpoint: `${AUTH}/oauth/v2/accessToken`, issuer: AUTH },
      }).exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: url, state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error.code).toBe('platform_auth_failed');
    expect(error.message).toContain('iss');
  });

  test.each([
    { body: { error: 'invalid_grant', error_description: 'code expired' }, status: 400, code: 'platform_auth_failed' },
    { body: { error: 'invalid_client' }, status: 401, code: 'platform_auth_failed' },
    { body: { error: 'invalid_request', error_description: 'redirect_uri mismatch' }, status: 400, code: 'platform_auth_failed' },
  ])('token endpoint $body.error → $code', async ({ body, status, code }) => {
    const { seen } = tokenEndpoint({ status, body });
    const error = await failure(
      oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error).toMatchObject({ code, status, retryable: false, platform: 'linkedin' });
    expect(error.message).toContain(body.error);
    // Only a client the platform no longer knows carries the rule core acts on.
    expect(error.rule).toBe(body.error === 'invalid_client' ? 'oauth.invalid_client' : undefined);
    expect(seen).toHaveLength(1);
  });

  test('a 200 without an access token → platform_auth_failed naming the property', async () => {
    tokenEndpoint({ status: 200, body: { token_type: 'bearer' } });
    const error = await failure(
      oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error.code).toBe('platform_auth_failed');
    expect(error.message).toContain('access_token');
  });

  test('an error sent with status 200 is still an error', async () => {
    tokenEndpoint({ status: 200, body: { error: 'invalid_grant', error_description: 'Authorization code is expired' } });
    const error = await failure(
      oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error.code).toBe('platform_auth_failed');
    expect(error.message).toContain('invalid_grant');
  });

  test('missing client secret for basic authentication → validation_failed before any request', async () => {
    const { seen } = tokenEndpoint({ status: 200, body: {} });
    const error = await failure(
      oauthClient().exchangeCode({ client: { clientId: 'x' }, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error).toMatchObject({ code: 'validation_failed', field: 'client.clientSecret' });
    expect(seen).toHaveLength(0);
  });
});

describe('refresh', () => {
  test('exact request; rotated refresh token returned', async () => {
    const { seen } = tokenEndpoint({ status: 200, body: { access_token: 'new-access', refresh_token: 'new-refresh', expires_in: 7200, token_type: 'bearer', scope: 'tweet.write offline.access' } });
    const tokens = await oauthClient({ platform: 'twitter' }).refresh({ client, refreshToken: 'old-refresh' });
    expect(Object.fromEntries(seen[0]!.body)).toEqual({ grant_type: 'refresh_token', refresh_token: 'old-refresh' });
    expect(tokens).toMatchObject({ accessToken: 'new-access', refreshToken: 'new-refresh', expiresAt: NOW + 7_200_000, scopes: ['tweet.write', 'offline.access'] });
  });

  test.each([
    { quirks: {}, body: { error: 'invalid_grant', error_description: 'revoked' }, status: 400, code: 'reauth_required' },
    { quirks: { invalidGrantErrors: ['invalid_request'] }, body: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' }, status: 400, code: 'reauth_required' },
    { quirks: {}, body: { error: 'invalid_request' }, status: 400, code: 'platform_rejected' },
    { quirks: {}, body: { error: 'invalid_client' }, status: 401, code: 'platform_auth_failed' },
    { quirks: {}, body: { error: 'temporarily_unavailable' }, status: 400, code: 'platform_unavailable' },
  ])('$body.error ($status) with $quirks → $code, sent once', async ({ quirks, body, status, code }) => {
    const { seen } = tokenEndpoint({ status, body });
    const error = await failure(oauthClient({ platform: 'twitter', quirks }).refresh({ client, refreshToken: 'rt-1' }));
    expect(error).toMatchObject({ code, platform: 'twitter' });
    expect(error.platformResponse).toMatchObject({ status, body: { error: body.error } });
    expect(seen).toHaveLength(1);
  });

  test.each([
    { status: 500, code: 'platform_unavailable', retryable: true },
    { status: 502, code: 'platform_unavailable', retryable: true },
    { status: 503, code: 'platform_unavailable', retryable: true },
    { status: 429, code: 'rate_limited', retryable: true },
  ])('$status → $code, never re-sent (a rotating refresh token may have been consumed)', async ({ status, code, retryable }) => {
    const { seen } = tokenEndpoint({ status, body: { message: 'oops' } });
    const error = await failure(oauthClient().refresh({ client, refreshToken: 'rt-1' }));
    expect(error).toMatchObject({ code, retryable, platform: 'linkedin' });
    expect(seen).toHaveLength(1);
  });

  test('no refresh token → reauth_required without a request', async () => {
    const error = await failure(oauthClient().refresh({ client, refreshToken: '' }));
    expect(error.code).toBe('reauth_required');
  });

  test('a response without a refresh token leaves it undefined (core keeps the old one)', async () => {
    tokenEndpoint({ status: 200, body: { access_token: 'a2', token_type: 'bearer', expires_in: 60 } });
    const tokens = await oauthClient().refresh({ client, refreshToken: 'rt' });
    expect(tokens.refreshToken).toBeUndefined();
  });

  test('canary secrets echoed by the platform never surface', async () => {
    const refreshToken = 'canary-refresh-token-zyxwv';
    tokenEndpoint({
      status: 400,
      body: { error: 'invalid_grant', error_description: `token ${refreshToken} with secret ${CLIENT_SECRET} is revoked`, echo: VERIFIER },
    });
    const error = await failure(oauthClient().refresh({ client, refreshToken }));
    for (const surface of [error.message, JSON.stringify(error.toJSON()), inspect(error, { depth: 10 })]) {
      expect(surface).not.toContain(refreshToken);
      expect(surface).not.toContain(CLIENT_SECRET);
    }
  });
});

describe('canaries in code exchange errors', () => {
  test('client secret (also as Basic credentials), code and verifier never surface', async () => {
    const basic = Buffer.from(`client-id_1:${CLIENT_SECRET}`).toString('base64');
    tokenEndpoint({
      status: 400,
      body: { error: 'invalid_request', error_description: `bad ${CLIENT_SECRET} ${VERIFIER} canary-code-123456`, seen: basic },
    });
    const error = await failure(
      oauthClient().exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'canary-code-123456', state: STATE }), state: STATE, codeVerifier: VERIFIER }),
    );
    expect(error.code).toBe('platform_auth_failed');
    for (const surface of [error.message, JSON.stringify(error.toJSON()), inspect(error, { depth: 10 })]) {
      for (const secret of [CLIENT_SECRET, VERIFIER, 'canary-code-123456', basic]) expect(surface).not.toContain(secret);
    }
  });
});

describe('revoke', () => {
  test('exact request, with token type hint', async () => {
    const { seen } = tokenEndpoint({ status: 200, body: {} }, '/oauth/v2/revoke');
    await oauthClient().revoke({ client, token: 'tok-to-revoke', tokenTypeHint: 'refresh_token' });
    expect(Object.fromEntries(seen[0]!.body)).toEqual({ token: 'tok-to-revoke', token_type_hint: 'refresh_token' });
    expect(seen[0]!.headers.get('authorization')).toMatch(/^Basic /);
  });

  test('503 is retried (revocation is idempotent)', async () => {
    let hits = 0;
    nock(AUTH)
      .post('/oauth/v2/revoke')
      .times(2)
      .reply(() => {
        hits += 1;
        return hits === 1 ? [503, ''] : [200, ''];
      });
    await oauthClient().revoke({ client, token: 't' });
    expect(hits).toBe(2);
  });

  test('an OAuth error → mapped', async () => {
    tokenEndpoint({ status: 400, body: { error: 'unsupported_token_type' } }, '/oauth/v2/revoke');
    const error = await failure(oauthClient().revoke({ client, token: 't' }));
    expect(error).toMatchObject({ code: 'platform_rejected', status: 400 });
  });

  test('no revocation endpoint → not_supported', async () => {
    const error = await failure(
      oauthClient({ endpoints: { authorizationEndpoint: `${AUTH}/a`, tokenEndpoint: `${AUTH}/t` } }).revoke({ client, token: 't' }),
    );
    expect(error.code).toBe('not_supported');
  });
});

describe('transport', () => {
  let server: LocalServer | undefined;
  const agents: Agent[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await Promise.all(agents.splice(0).map((agent) => agent.destroy()));
  });

  test('token calls go through the injected dispatcher (plain-HTTP sandbox endpoint allowed)', async () => {
    nock.enableNetConnect('127.0.0.1');
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'sandbox-access', token_type: 'bearer' }));
    });
    const dispatcher = new Agent();
    agents.push(dispatcher);
    const connections: string[] = [];
    dispatcher.on('connect', (origin) => connections.push(String(origin)));
    const tokens = await oauthClient({
      dispatcher,
      endpoints: { authorizationEndpoint: `${server.origin}/authorize`, tokenEndpoint: `${server.origin}/token` },
    }).exchangeCode({ client, redirectUri: REDIRECT, callbackUrl: callback({ code: 'c', state: STATE }), state: STATE, codeVerifier: VERIFIER });
    expect(tokens.accessToken).toBe('sandbox-access');
    expect(connections).toEqual([`${server.origin}/`]);
    expect(server.requests[0]!.method).toBe('POST');
    expect(server.requests[0]!.url).toBe('/token');
    nock.disableNetConnect();
  });

  test('token endpoint unreachable → platform_unavailable (retryable)', async () => {
    nock.enableNetConnect('127.0.0.1');
    const port = await closedPort();
    const error = await failure(
      oauthClient({
        endpoints: { authorizationEndpoint: `http://127.0.0.1:${port}/a`, tokenEndpoint: `http://127.0.0.1:${port}/token` },
      }).refresh({ client, refreshToken: 'rt' }),
    );
    expect(error).toMatchObject({ code: 'platform_unavailable', retryable: true, platform: 'linkedin' });
    nock.disableNetConnect();
  });

  test('connection reset after the refresh was sent → platform_unavailable, sent once', async () => {
    nock.enableNetConnect('127.0.0.1');
    server = await startLocalServer((request) => request.socket.destroy());
    const error = await failure(
      oauthClient({ endpoints: { authorizationEndpoint: `${server.origin}/a`, tokenEndpoint: `${server.origin}/token` } }).refresh({ client, refreshToken: 'rt' }),
    );
    expect(error).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(error.message).toContain('may or may not have been processed');
    expect(server.requests).toHaveLength(1);
    nock.disableNetConnect();
  });
});

describe('repairTokenResponse', () => {
  test('unwraps data, fills token_type, coerces numbers, joins scope arrays', () => {
    expect(
      repairTokenResponse({ status: 200, body: { data: { access_token: 'a', expires_in: '3600', refresh_token_expires_in: '86400', scope: ['a', 'b'], refresh_token: '' } } }),
    ).toEqual({ status: 200, body: { access_token: 'a', token_type: 'bearer', expires_in: 3600, refresh_token_expires_in: 86400, scope: 'a b' } });
  });
  test('leaves errors and non-objects alone', () => {
    expect(repairTokenResponse({ status: 400, body: { error: 'invalid_grant' } })).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    expect(repairTokenResponse({ status: 502, body: 'Bad gateway' })).toEqual({ status: 502, body: 'Bad gateway' });
  });
});
