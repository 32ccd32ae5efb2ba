import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import longLivedToken from './__fixtures__/long-lived-token.json' with { type: 'json' };
import me from './__fixtures__/me.json' with { type: 'json' };
import refreshedToken from './__fixtures__/refreshed-token.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import { interceptThreads, type WireCall } from './test-support/threads-wire.js';
import { createThreads } from './threads-provider.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CLIENT = { clientId: '990000000000001', clientSecret: 'threads-app-secret-c4n4ry-1f2e' };
const REDIRECT_URI = 'https://app.example/v1/accounts/oauth/threads/callback';
const STATE = 'state-0123456789abcdef';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const clock = { now: () => NOW };

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

describe('Threads Login', () => {
  it('sends the user to threads.net/oauth/authorize with comma-separated scopes', async () => {
    const url = await createThreads().authorizationUrl!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      state: STATE,
      codeChallenge: CHALLENGE,
      scopes: ['threads_basic', 'threads_content_publish'],
    });
    expect(url.origin + url.pathname).toBe('https://threads.net/oauth/authorize');
    expect(url.searchParams.get('client_id')).toBe(CLIENT.clientId);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('scope')).toBe('threads_basic,threads_content_publish');
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('state')).toBe(STATE);
  });

  it('exchanges the code (form body, client_secret_post), then swaps the 1-hour token for the 60-day token', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'POST', path: '/oauth/access_token', reply: { status: 200, body: tokenResponse } });
    interceptThreads({ calls, method: 'GET', path: '/access_token', reply: { status: 200, body: longLivedToken } });
    const tokens = await createThreads({ clock }).exchangeCode!({
      client: CLIENT,
      redirectUri: REDIRECT_URI,
      // Threads appends `#_` to the redirect; the fragment never reaches the code.
      callbackUrl: new URL(`${REDIRECT_URI}?code=AQBx-code-c4n4ry&state=${STATE}#_`),
      state: STATE,
      codeVerifier: 'verifier-0123456789abcdefghijklmnopqrstuvwxyz0123',
    });
    expect(calls[0]!.form).toMatchObject({
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      code: 'AQBx-code-c4n4ry',
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT_URI,
    });
    const swap = new URL(calls[1]!.path, 'https://graph.threads.net').searchParams;
    expect(swap.get('grant_type')).toBe('th_exchange_token');
    expect(swap.get('client_secret')).toBe(CLIENT.clientSecret);
    expect(swap.get('access_token')).toBe(tokenResponse.access_token);
    expect(tokens.accessToken).toBe(longLivedToken.access_token);
    expect(tokens.expiresAt).toBe(NOW + longLivedToken.expires_in * 1000);
    expect(tokens.refreshToken).toBeUndefined();
  });

  it('a refused code (Threads answers flat OAuth errors) and a refused swap both fail the connect as platform_auth_failed', async () => {
    const callbackUrl = new URL(`${REDIRECT_URI}?code=AQBx-code-c4n4ry&state=${STATE}#_`);
    const exchange = { client: CLIENT, redirectUri: REDIRECT_URI, callbackUrl, state: STATE, codeVerifier: 'verifier-0123456789abcdefghijklmnopqrstuvwxyz0123' };
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'POST', path: '/oauth/access_token', reply: { status: 400, body: { error_type: 'OAuthException', code: 400, error_message: 'Invalid verification code format.' } } });
    const refused = await createThreads({ clock }).exchangeCode!(exchange).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ code: 'platform_auth_failed', platform: 'threads' });

    interceptThreads({ calls, method: 'POST', path: '/oauth/access_token', reply: { status: 200, body: tokenResponse } });
    interceptThreads({ calls, method: 'GET', path: '/access_token', reply: { status: 400, body: { error: { message: 'Error validating client secret.', type: 'OAuthException', code: 101 } } } });
    const swapRefused = await createThreads({ clock }).exchangeCode!(exchange).catch((caught: unknown) => caught);
    expect(swapRefused).toMatchObject({ code: 'platform_auth_failed', platform: 'threads', status: 400 });
    for (const error of [refused, swapRefused]) {
      expect(JSON.stringify(error)).not.toContain(CLIENT.clientSecret);
      expect(JSON.stringify(error)).not.toContain(tokenResponse.access_token);
      expect((error as Error).message).not.toContain(CLIENT.clientSecret);
    }
  });

  it('refreshes the long-lived token itself with th_refresh_token', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'GET', path: '/refresh_access_token', reply: { status: 200, body: refreshedToken } });
    const tokens = await createThreads({ clock, ...CLIENT }).refresh!({ tokens: { accessToken: longLivedToken.access_token, expiresAt: NOW + 1000 } });
    const query = new URL(calls[0]!.path, 'https://graph.threads.net').searchParams;
    expect(query.get('grant_type')).toBe('th_refresh_token');
    expect(query.get('access_token')).toBe(longLivedToken.access_token);
    expect(tokens).toMatchObject({ accessToken: refreshedToken.access_token, expiresAt: NOW + refreshedToken.expires_in * 1000 });
  });

  it('lists the one profile the grant acts as', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'GET', path: '/v1.0/me', reply: { status: 200, body: me } });
    const accounts = await createThreads().listAccounts!({ tokens: { accessToken: 'THQVJtoken' }, client: CLIENT });
    expect(new URL(calls[0]!.path, 'https://graph.threads.net').searchParams.get('fields')).toBe('id,username,name,threads_profile_picture_url');
    expect(accounts).toEqual([
      {
        platformAccountId: me.id,
        kind: 'person',
        username: 'letmepost',
        profileUrl: 'https://www.threads.com/@letmepost',
        displayName: 'letmepost',
        avatarUrl: me.threads_profile_picture_url,
        data: { username: 'letmepost' },
      },
    ]);
  });
});

describe('settings', () => {
  it('moves every host with apiBaseUrl, apiVersion and oauthAuthorizeUrl', async () => {
    const calls: WireCall[] = [];
    nock('http://127.0.0.1:9999')
      .get((path) => path.startsWith('/threads/v9.9/me'))
      .reply(async (request: Request) => {
        calls.push({ method: 'GET', path: new URL(request.url).pathname, headers: {}, form: {} });
        return [200, JSON.stringify(me), { 'content-type': 'application/json' }];
      });
    const provider = createThreads({ apiBaseUrl: 'http://127.0.0.1:9999/threads/', apiVersion: 'v9.9', oauthAuthorizeUrl: 'http://127.0.0.1:9999/threads/consent' });
    await provider.listAccounts!({ tokens: { accessToken: 'THQVJtoken' }, client: CLIENT });
    expect(calls.map((call) => call.path)).toEqual(['/threads/v9.9/me']);
    const url = await provider.authorizationUrl!({ client: CLIENT, redirectUri: REDIRECT_URI, state: STATE, codeChallenge: CHALLENGE, scopes: ['threads_basic'] });
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:9999/threads/consent');
  });

  it('refuses a malformed version or base URL naming the setting', () => {
    expect(() => createThreads({ apiVersion: '1.0' })).toThrow(expect.objectContaining({ code: 'validation_failed', field: 'settings.apiVersion' }));
    expect(() => createThreads({ apiBaseUrl: 'graph.threads.net' })).toThrow(expect.objectContaining({ field: 'settings.apiBaseUrl' }));
  });
});
