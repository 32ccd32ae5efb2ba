import { LetmepostError, type TokenSet } from '@letmepost/core';
import nock from 'nock';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import createPostFixture from './__fixtures__/create-post.json' with { type: 'json' };
import error401 from './__fixtures__/error-401-unauthorized.json' with { type: 'json' };
import invalidCode from './__fixtures__/token-invalid-code.json' with { type: 'json' };
import invalidRequest from './__fixtures__/token-invalid-request.json' with { type: 'json' };
import tokenRefreshed from './__fixtures__/token-refreshed.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import usersMe from './__fixtures__/users-me.json' with { type: 'json' };
import { interceptX, parseOAuthHeader, referenceOAuth1Signature, type WireCall } from './test-support/x-wire.js';
import { createTwitter } from './twitter-provider.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CLIENT = { clientId: 'M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ', clientSecret: 'x-client-secret-c4n4ry-4e2b7d' };
const REDIRECT_URI = 'https://app.example/v1/accounts/oauth/twitter/callback';
const OLD_REFRESH_TOKEN = 'x-old-refresh-token-c4n4ry-93d1';
const ACCESS_TOKEN = 'x-access-token-c4n4ry-0c7a55';
const CONSUMER_SECRET = 'x-consumer-secret-c4n4ry-1d2e';
const TOKEN_SECRET = 'x-token-secret-c4n4ry-3f4a';

const provider = (settings: Parameters<typeof createTwitter>[0] = {}) =>
  createTwitter({ ...CLIENT, clock: { now: () => NOW }, ...settings });

const basic = (client: { clientId: string; clientSecret: string }) =>
  `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;

let calls: WireCall[];

beforeEach(() => {
  calls = [];
  nock.disableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.enableNetConnect();
  expect(pending, 'every registered X answer was used').toEqual([]);
});

function expectNoSecrets(value: unknown, secrets: readonly string[]): void {
  const rendered = [JSON.stringify(value), inspect(value, { depth: 8 }), value instanceof Error ? value.message : ''].join('\n');
  for (const secret of secrets) expect(rendered).not.toContain(secret);
}

describe('authorizationUrl', () => {
  it('sends the user to x.com with PKCE S256 and the write scopes, space-separated (form-encoded in the query)', async () => {
    const twitter = provider();
    const url = await twitter.authorizationUrl!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      state: 'state-123',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: twitter.auth.kind === 'oauth2' ? twitter.auth.scopes.write : [],
    });

    expect(`${url.origin}${url.pathname}`).toBe('https://x.com/i/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'tweet.read tweet.write users.read offline.access media.write',
      state: 'state-123',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
  });

  it('honours an oauthAuthorizeUrl override (sandbox)', async () => {
    const url = await provider({ oauthAuthorizeUrl: 'http://127.0.0.1:4010/i/oauth2/authorize' }).authorizationUrl!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      state: 'state-0123456789',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: ['tweet.read'],
    });
    expect(url.href.startsWith('http://127.0.0.1:4010/i/oauth2/authorize?')).toBe(true);
  });
});

describe('exchangeCode', () => {
  it('exchanges the code with HTTP Basic client authentication and normalises the tokens', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 200, body: tokenResponse } });

    const tokens = await provider().exchangeCode!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      callbackUrl: new URL(`${REDIRECT_URI}?state=state-123&code=VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hQRjdaRzJQOjE2MjIxNjA4MjU`),
      state: 'state-123',
      codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });

    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.authorization).toBe(basic(CLIENT));
    expect(calls[0]!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(calls[0]!.text))).toEqual({
      grant_type: 'authorization_code',
      code: 'VGNibzFWSWREZm01bjN1N3dicWlNUG1oa2xRRVNNdmVHelJGY2hQRjdaRzJQOjE2MjIxNjA4MjU',
      redirect_uri: REDIRECT_URI,
      code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });
    expect(tokens).toEqual({
      accessToken: tokenResponse.access_token,
      refreshToken: tokenResponse.refresh_token,
      tokenType: 'bearer',
      expiresAt: NOW + 7_200_000,
      scopes: ['tweet.write', 'users.read', 'tweet.read', 'offline.access', 'media.write'],
    });
  });

  it('talks to the token endpoint of an overridden API host (sandbox, TWITTER_API_BASE)', async () => {
    interceptX({ calls, origin: 'http://127.0.0.1:4010', method: 'POST', path: '/x/2/oauth2/token', reply: { status: 200, body: tokenResponse } });

    await provider({ apiBaseUrl: 'http://127.0.0.1:4010/x/' }).exchangeCode!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      callbackUrl: new URL(`${REDIRECT_URI}?state=state-0123456789&code=abc`),
      state: 'state-0123456789',
      codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });

    expect(calls.map((call) => call.path)).toEqual(['/x/2/oauth2/token']);
  });

  it('sends client_id in the body for a public client (no secret)', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 200, body: tokenResponse } });

    await provider().exchangeCode!({
      client: { clientId: CLIENT.clientId },
      redirectUri: REDIRECT_URI,
      callbackUrl: new URL(`${REDIRECT_URI}?state=s&code=abc`),
      state: 's',
      codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
    });

    expect(calls[0]!.headers.authorization).toBeUndefined();
    expect(new URLSearchParams(calls[0]!.text).get('client_id')).toBe(CLIENT.clientId);
  });

  it('maps X’s invalid_request for a stale code to platform_auth_failed', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 400, body: invalidCode } });

    const error = await provider()
      .exchangeCode!({
        client: CLIENT,
        redirectUri: REDIRECT_URI,
        callbackUrl: new URL(`${REDIRECT_URI}?state=s&code=expired-code`),
        state: 's',
        codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
      })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'platform_auth_failed', platform: 'twitter', status: 400 });
    expectNoSecrets(error, [CLIENT.clientSecret, 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk']);
  });
});

describe('refresh', () => {
  const tokens: TokenSet = { accessToken: ACCESS_TOKEN, refreshToken: OLD_REFRESH_TOKEN, tokenType: 'bearer', expiresAt: NOW - 1 };

  it('refreshes with the refresh token and returns the rotated pair', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 200, body: tokenRefreshed } });

    const refreshed = await provider().refresh!({ tokens, client: CLIENT });

    expect(calls[0]!.headers.authorization).toBe(basic(CLIENT));
    expect(Object.fromEntries(new URLSearchParams(calls[0]!.text))).toEqual({
      grant_type: 'refresh_token',
      refresh_token: OLD_REFRESH_TOKEN,
    });
    expect(refreshed).toEqual({
      accessToken: tokenRefreshed.access_token,
      refreshToken: tokenRefreshed.refresh_token,
      tokenType: 'bearer',
      expiresAt: NOW + 7_200_000,
      scopes: ['tweet.write', 'users.read', 'tweet.read', 'offline.access', 'media.write'],
    });
    expect(refreshed.refreshToken).not.toBe(OLD_REFRESH_TOKEN);
  });

  it('keeps the previous refresh token if an answer omits it', async () => {
    const { refresh_token: _dropped, ...withoutRefresh } = tokenRefreshed;
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 200, body: withoutRefresh } });

    const refreshed = await provider().refresh!({ tokens, client: CLIENT });

    expect(refreshed.refreshToken).toBe(OLD_REFRESH_TOKEN);
    expect(refreshed.accessToken).toBe(tokenRefreshed.access_token);
  });

  it('uses the instance app when the account has no client of its own', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 200, body: tokenRefreshed } });

    await provider().refresh!({ tokens });

    expect(calls[0]!.headers.authorization).toBe(basic(CLIENT));
  });

  it('maps X’s invalid_request for a dead refresh token to reauth_required, without leaking it', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/token', reply: { status: 400, body: invalidRequest } });

    const error = await provider().refresh!({ tokens, client: CLIENT }).catch((caught: unknown) => caught);

    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'reauth_required', platform: 'twitter', status: 400, retryable: false });
    expectNoSecrets(error, [OLD_REFRESH_TOKEN, ACCESS_TOKEN, CLIENT.clientSecret]);
  });

  it('asks for reconnection without a request when the grant has no refresh token', async () => {
    const error = await provider()
      .refresh!({ tokens: { accessToken: ACCESS_TOKEN, tokenType: 'bearer' }, client: CLIENT })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'reauth_required' });
    expect(calls).toEqual([]);
  });

  it('refuses to refresh without any app credentials', async () => {
    const error = await createTwitter({ clock: { now: () => NOW } })
      .refresh!({ tokens })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'app_credentials_missing' });
    expect(calls).toEqual([]);
  });
});

describe('revoke', () => {
  it('revokes the refresh token, then the access token', async () => {
    interceptX({ calls, method: 'POST', path: '/2/oauth2/revoke', reply: { status: 200, body: { revoked: true } } });
    interceptX({ calls, method: 'POST', path: '/2/oauth2/revoke', reply: { status: 200, body: { revoked: true } } });

    await provider().revoke!({ tokens: { accessToken: ACCESS_TOKEN, refreshToken: OLD_REFRESH_TOKEN }, client: CLIENT });

    expect(calls.map((call) => [call.headers.authorization, Object.fromEntries(new URLSearchParams(call.text))])).toEqual([
      [basic(CLIENT), { token: OLD_REFRESH_TOKEN, token_type_hint: 'refresh_token' }],
      [basic(CLIENT), { token: ACCESS_TOKEN, token_type_hint: 'access_token' }],
    ]);
  });
});

describe('listAccounts', () => {
  it('reads the identity from GET /2/users/me', async () => {
    interceptX({
      calls,
      method: 'GET',
      path: '/2/users/me?user.fields=profile_image_url%2Cverified%2Cverified_type%2Csubscription_type',
      reply: { status: 200, body: usersMe },
    });

    const accounts = await provider().listAccounts!({ tokens: { accessToken: ACCESS_TOKEN, tokenType: 'bearer' }, client: CLIENT });

    expect(calls[0]!.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(accounts).toEqual([
      {
        platformAccountId: '1346889436626259968',
        kind: 'person',
        username: 'letmepost_demo',
        displayName: 'Letmepost Demo',
        avatarUrl: 'https://pbs.twimg.com/profile_images/1346889436626259968/AbCdEfGh_normal.jpg',
        profileUrl: 'https://x.com/letmepost_demo',
        data: { authentication: 'oauth2', verifiedType: 'none', subscriptionType: 'None' },
      },
    ]);
    expect(provider().accountSchema.safeParse(accounts[0]!.data).success).toBe(true);
  });

  it('maps a refused token to auth_expired', async () => {
    interceptX({ calls, method: 'GET', path: /^\/2\/users\/me/, reply: { status: 401, body: error401 } });

    const error = await provider()
      .listAccounts!({ tokens: { accessToken: ACCESS_TOKEN }, client: CLIENT })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'auth_expired', status: 401 });
    expectNoSecrets(error, [ACCESS_TOKEN]);
  });
});

describe('connectWithCredentials (OAuth 1.0a user keys)', () => {
  const credentials = {
    consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
    consumerSecret: CONSUMER_SECRET,
    accessToken: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
    accessTokenSecret: TOKEN_SECRET,
  };

  it('checks the keys against /2/users/me and keeps them as an oauth1 token set usable for publishing', async () => {
    interceptX({ calls, method: 'GET', path: /^\/2\/users\/me/, reply: { status: 200, body: usersMe } });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 201, body: createPostFixture } });
    const twitter = provider();

    const grant = await twitter.connectWithCredentials!({ credentials });
    const result = await twitter.publish({ post: { text: 'hi' }, auth: { type: 'account', ...grant }, options: {} });

    expect(grant.account).toMatchObject({ platformAccountId: '1346889436626259968', username: 'letmepost_demo', data: { authentication: 'oauth1' } });
    expect(grant.tokens).toEqual({
      accessToken: credentials.accessToken,
      tokenType: 'oauth1',
      secrets: { consumerKey: credentials.consumerKey, consumerSecret: CONSUMER_SECRET, accessTokenSecret: TOKEN_SECRET },
    });
    // Query parameters (`user.fields=a,b`) are part of the OAuth 1.0a signature; the JSON body is not.
    expect(calls.map((call) => `${call.method} ${call.path}`)).toEqual([
      'GET /2/users/me?user.fields=profile_image_url%2Cverified%2Cverified_type%2Csubscription_type',
      'POST /2/tweets',
    ]);
    for (const call of calls) {
      const parameters = parseOAuthHeader(call.headers.authorization!);
      expect(parameters).toMatchObject({ oauth_consumer_key: credentials.consumerKey, oauth_token: credentials.accessToken });
      expect(parameters.oauth_signature).toBe(
        referenceOAuth1Signature({
          method: call.method,
          url: `https://api.x.com${call.path}`,
          oauthParameters: parameters,
          consumerSecret: CONSUMER_SECRET,
          tokenSecret: TOKEN_SECRET,
        }),
      );
    }
    expect(result.url).toBe('https://x.com/letmepost_demo/status/1445880548472328192');
    // Keys that never expire have nothing to refresh.
    expect(await twitter.refresh!({ tokens: grant.tokens })).toBe(grant.tokens);
  });

  it('refuses incomplete keys naming the field, before any request', async () => {
    const error = await provider()
      .connectWithCredentials!({ credentials: { ...credentials, consumerSecret: '' } })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'validation_failed', field: 'credentials.consumerSecret' });
    expectNoSecrets(error, [TOKEN_SECRET]);
    expect(calls).toEqual([]);
  });
});
