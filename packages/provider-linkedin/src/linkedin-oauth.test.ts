import { LetmepostError } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import invalidGrant from './__fixtures__/oauth-invalid-grant.json' with { type: 'json' };
import tokenResponseRefreshable from './__fixtures__/token-response-refreshable.json' with { type: 'json' };
import tokenResponseRefreshed from './__fixtures__/token-response-refreshed.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import { createLinkedIn } from './linkedin-provider.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const clock = { now: () => NOW };
const CLIENT = { clientId: '86xyz123', clientSecret: 'client-secret-c4n4ry-3f9a' };
// A redirect URI with characters that change when re-encoded: it must go out byte-identical.
const REDIRECT_URI = 'https://app.example/v1/accounts/oauth/linkedin/callback?tenant=a%2Fb&x=1';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

function provider() {
  return createLinkedIn({ ...CLIENT, clock, http: { retry: { maxAttempts: 1 } } });
}

function callback(parameters: Record<string, string>): URL {
  const url = new URL(REDIRECT_URI);
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url;
}

function expectNoCanary(error: unknown, canaries: readonly string[]) {
  const renderings = [JSON.stringify(error), String(error), (error as Error).stack ?? '', String((error as Error).message)];
  for (const canary of canaries) for (const text of renderings) expect(text).not.toContain(canary);
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('authorizationUrl', () => {
  it('sends the member to LinkedIn’s consent page with space-separated scopes and the exact redirect URI', async () => {
    const url = await provider().authorizationUrl!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      state: 'state-0123456789',
      codeChallenge: CHALLENGE,
      scopes: ['openid', 'profile', 'w_member_social', 'w_organization_social'],
    });
    expect(url.origin + url.pathname).toBe('https://www.linkedin.com/oauth/v2/authorization');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: '86xyz123',
      redirect_uri: REDIRECT_URI,
      state: 'state-0123456789',
      scope: 'openid profile w_member_social w_organization_social',
      // Sent although LinkedIn's web flow does not verify it (harmless, as Auth.js shows).
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
    });
    expect(url.toString()).not.toContain(CLIENT.clientSecret);
  });

  it('honours oauthBaseUrl', async () => {
    const url = await createLinkedIn({ oauthBaseUrl: 'http://127.0.0.1:4010/linkedin/www/' }).authorizationUrl!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      state: 'state-0123456789',
      codeChallenge: CHALLENGE,
      scopes: ['openid'],
    });
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:4010/linkedin/www/oauth/v2/authorization');
  });
});

describe('exchangeCode', () => {
  it('posts the code with client_secret_post and the identical redirect_uri, and normalises LinkedIn’s answer', async () => {
    let sent: URLSearchParams | undefined;
    let authorization: string | null | undefined;
    const scope = nock('https://www.linkedin.com')
      .post('/oauth/v2/accessToken', (body: string) => {
        sent = new URLSearchParams(body);
        return true;
      })
      .reply(200, tokenResponse, { 'content-type': 'application/json' });
    scope.on('request', (request: { headers: Headers }) => {
      authorization = request.headers.get('authorization');
    });
    const tokens = await provider().exchangeCode!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      callbackUrl: callback({ code: 'AQTcode-c4n4ry', state: 'state-0123456789' }),
      state: 'state-0123456789',
      codeVerifier: VERIFIER,
    });
    scope.done();
    expect(authorization, 'LinkedIn refuses HTTP Basic client authentication').toBeNull();
    expect(Object.fromEntries(sent ?? [])).toEqual({
      grant_type: 'authorization_code',
      code: 'AQTcode-c4n4ry',
      redirect_uri: REDIRECT_URI,
      code_verifier: VERIFIER,
      client_id: '86xyz123',
      client_secret: CLIENT.clientSecret,
    });
    // No token_type in the answer, scopes joined with commas, an id_token we do not keep.
    expect(tokens).toEqual({
      accessToken: tokenResponse.access_token,
      tokenType: 'bearer',
      scopes: ['email', 'openid', 'profile', 'w_member_social'],
      expiresAt: NOW + tokenResponse.expires_in * 1000,
    });
  });

  it('records the refresh token and its own, shorter-lived expiry when LinkedIn issues one', async () => {
    nock('https://www.linkedin.com').post('/oauth/v2/accessToken').reply(200, tokenResponseRefreshable);
    const tokens = await provider().exchangeCode!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      callbackUrl: callback({ code: 'AQTcode', state: 'state-0123456789' }),
      state: 'state-0123456789',
      codeVerifier: VERIFIER,
    });
    expect(tokens).toEqual({
      accessToken: tokenResponseRefreshable.access_token,
      refreshToken: tokenResponseRefreshable.refresh_token,
      tokenType: 'bearer',
      scopes: ['openid', 'profile', 'r_organization_social', 'rw_organization_admin', 'w_member_social', 'w_organization_social'],
      expiresAt: NOW + 5_184_000_000,
      refreshTokenExpiresAt: NOW + 31_535_999_000,
    });
  });

  it('maps a refused code to platform_auth_failed without leaking the secret, code or verifier', async () => {
    nock('https://www.linkedin.com').post('/oauth/v2/accessToken').reply(400, invalidGrant);
    const error = await provider()
      .exchangeCode!({
        client: CLIENT,
        redirectUri: REDIRECT_URI,
        callbackUrl: callback({ code: 'AQTcode-c4n4ry-xyz', state: 'state-0123456789' }),
        state: 'state-0123456789',
        codeVerifier: VERIFIER,
      })
      .catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error) && error.code).toBe('platform_auth_failed');
    expectNoCanary(error, [CLIENT.clientSecret, 'AQTcode-c4n4ry-xyz', VERIFIER]);
  });
});

describe('refresh', () => {
  it('without a refresh token answers reauth_required with a remediation, sending nothing', async () => {
    const error = await provider()
      .refresh!({ tokens: { accessToken: 'AQX-old', expiresAt: NOW + 1000 } })
      .catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'reauth_required', platform: 'linkedin', retryable: false });
    expect((error as LetmepostError).remediation).toMatch(/connect LinkedIn again/);
  });

  it('with a refresh token posts grant_type=refresh_token with the app credentials in the body', async () => {
    let sent: URLSearchParams | undefined;
    let authorization: string | null | undefined;
    const scope = nock('https://www.linkedin.com')
      .post('/oauth/v2/accessToken', (body: string) => {
        sent = new URLSearchParams(body);
        return true;
      })
      .reply(200, tokenResponseRefreshed);
    scope.on('request', (request: { headers: Headers }) => {
      authorization = request.headers.get('authorization');
    });
    const tokens = await provider().refresh!({
      tokens: { accessToken: 'AQX-old', refreshToken: tokenResponseRefreshable.refresh_token, refreshTokenExpiresAt: NOW + 1 },
      client: CLIENT,
    });
    scope.done();
    expect(authorization).toBeNull();
    expect(Object.fromEntries(sent ?? [])).toEqual({
      grant_type: 'refresh_token',
      refresh_token: tokenResponseRefreshable.refresh_token,
      client_id: '86xyz123',
      client_secret: CLIENT.clientSecret,
    });
    expect(tokens).toEqual({
      accessToken: tokenResponseRefreshed.access_token,
      refreshToken: tokenResponseRefreshed.refresh_token,
      tokenType: 'bearer',
      scopes: ['openid', 'profile', 'w_member_social'],
      expiresAt: NOW + 5_184_000_000,
      // The refresh token's TTL keeps counting down from the first consent.
      refreshTokenExpiresAt: NOW + 26_438_400_000,
    });
  });

  it('uses the instance app when the account has no workspace app', async () => {
    nock('https://www.linkedin.com').post('/oauth/v2/accessToken', (body: string) => new URLSearchParams(body).get('client_id') === '86xyz123').reply(200, tokenResponseRefreshed);
    await expect(
      provider().refresh!({ tokens: { accessToken: 'AQX-old', refreshToken: 'AQW-r' } }),
    ).resolves.toMatchObject({ accessToken: tokenResponseRefreshed.access_token });
  });

  it('maps a dead refresh token to reauth_required without leaking it', async () => {
    nock('https://www.linkedin.com').post('/oauth/v2/accessToken').reply(400, invalidGrant);
    const error = await provider()
      .refresh!({ tokens: { accessToken: 'AQX-old', refreshToken: 'AQW-dead-refresh-c4n4ry' }, client: CLIENT })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'reauth_required' });
    expectNoCanary(error, ['AQW-dead-refresh-c4n4ry', CLIENT.clientSecret]);
  });

  it('refuses to refresh without app credentials', async () => {
    const error = await createLinkedIn({ clock })
      .refresh!({ tokens: { accessToken: 'AQX-old', refreshToken: 'AQW-r' } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'app_credentials_missing' });
  });
});

describe('revoke', () => {
  it('posts the access token with the app credentials in the body', async () => {
    let sent: URLSearchParams | undefined;
    const scope = nock('https://www.linkedin.com')
      .post('/oauth/v2/revoke', (body: string) => {
        sent = new URLSearchParams(body);
        return true;
      })
      .reply(200, '');
    await provider().revoke!({ tokens: { accessToken: 'AQX-to-revoke' }, client: CLIENT });
    scope.done();
    expect(Object.fromEntries(sent ?? [])).toEqual({
      token: 'AQX-to-revoke',
      client_id: '86xyz123',
      client_secret: CLIENT.clientSecret,
    });
  });

  it('reports a refusal without leaking the token or the secret', async () => {
    nock('https://www.linkedin.com').post('/oauth/v2/revoke').reply(400, { error: 'invalid_request', error_description: 'bad token' });
    const error = await provider()
      .revoke!({ tokens: { accessToken: 'AQX-revoke-c4n4ry-0001' }, client: CLIENT })
      .catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expectNoCanary(error, ['AQX-revoke-c4n4ry-0001', CLIENT.clientSecret]);
  });
});
