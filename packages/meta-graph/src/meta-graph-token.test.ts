import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createGraphHttpClient } from './meta-graph-http.js';
import { exchangeLongLivedToken, refreshLongLivedToken } from './meta-graph-token.js';

const NOW = 1_780_000_000_000;
const clock = { now: () => NOW };
const SHORT = 'short-lived-c4n4ry-1111';
const LONG = 'long-lived-c4n4ry-2222';
const SECRET = 'client-secret-c4n4ry-3333';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('exchangeLongLivedToken', () => {
  it('fb_exchange_token: GET oauth/access_token with the app pair, expiresAt from the clock', async () => {
    const scope = nock('https://graph.facebook.com')
      .get('/v26.0/oauth/access_token')
      .query({ grant_type: 'fb_exchange_token', client_id: 'app-1', client_secret: SECRET, fb_exchange_token: SHORT })
      .reply(200, { access_token: LONG, token_type: 'bearer', expires_in: 5_183_944 });
    const http = createGraphHttpClient({ platform: 'facebook', baseUrl: 'https://graph.facebook.com', apiVersion: 'v26.0' });
    const tokens = await exchangeLongLivedToken({
      http,
      url: 'oauth/access_token',
      grantType: 'fb_exchange_token',
      params: { client_id: 'app-1', client_secret: SECRET, fb_exchange_token: SHORT },
      clock,
    });
    expect(tokens).toEqual({ accessToken: LONG, tokenType: 'bearer', expiresAt: NOW + 5_183_944_000 });
    expect(scope.isDone()).toBe(true);
  });

  it('ig_exchange_token: a string expires_in and comma-string permissions; no expires_in → the assumed lifetime', async () => {
    nock('https://graph.instagram.com')
      .get('/access_token')
      .query({ grant_type: 'ig_exchange_token', client_secret: SECRET, access_token: SHORT })
      .reply(200, { access_token: LONG, token_type: 'bearer', expires_in: '5184000', permissions: 'instagram_business_basic,instagram_business_content_publish' });
    const http = createGraphHttpClient({ platform: 'instagram', baseUrl: 'https://graph.instagram.com' });
    const tokens = await exchangeLongLivedToken({ http, url: 'access_token', grantType: 'ig_exchange_token', params: { client_secret: SECRET, access_token: SHORT }, clock });
    expect(tokens).toEqual({ accessToken: LONG, tokenType: 'bearer', expiresAt: NOW + 5_184_000_000, scopes: ['instagram_business_basic', 'instagram_business_content_publish'] });

    nock('https://graph.threads.net').get('/access_token').query(true).reply(200, { access_token: LONG });
    const threads = createGraphHttpClient({ platform: 'threads', baseUrl: 'https://graph.threads.net' });
    const assumed = await exchangeLongLivedToken({ http: threads, url: 'access_token', grantType: 'th_exchange_token', params: { client_secret: SECRET, access_token: SHORT }, clock, assumedLifetimeMs: 1000 });
    expect(assumed.expiresAt).toBe(NOW + 1000);
  });

  it('a Graph error during the swap is typed and masks every parameter value', async () => {
    nock('https://graph.facebook.com')
      .get('/v26.0/oauth/access_token')
      .query(true)
      .reply(400, { error: { message: `Invalid token ${SHORT} for secret ${SECRET}`, type: 'OAuthException', code: 190 } });
    const http = createGraphHttpClient({ platform: 'facebook', baseUrl: 'https://graph.facebook.com', apiVersion: 'v26.0' });
    const error = await exchangeLongLivedToken({ http, url: 'oauth/access_token', grantType: 'fb_exchange_token', params: { client_id: 'app', client_secret: SECRET, fb_exchange_token: SHORT }, clock }).then(
      () => expect.unreachable('the swap should have failed'),
      (caught: unknown) => caught as Error & { code: string },
    );
    expect(error.code).toBe('auth_expired');
    expect(JSON.stringify({ message: error.message, error })).not.toMatch(/c4n4ry/);
  });
});

describe('refreshLongLivedToken', () => {
  it('ig_refresh_token / th_refresh_token refresh the access token itself', async () => {
    const scope = nock('https://graph.threads.net')
      .get('/refresh_access_token')
      .query({ grant_type: 'th_refresh_token', access_token: LONG })
      .reply(200, { access_token: 'renewed-token', token_type: 'bearer', expires_in: 5_184_000 });
    const http = createGraphHttpClient({ platform: 'threads', baseUrl: 'https://graph.threads.net' });
    const tokens = await refreshLongLivedToken({ http, url: 'refresh_access_token', grantType: 'th_refresh_token', accessToken: LONG, clock });
    expect(tokens).toEqual({ accessToken: 'renewed-token', tokenType: 'bearer', expiresAt: NOW + 5_184_000_000 });
    expect(scope.isDone()).toBe(true);
  });

  it('a token that can no longer be refreshed ends reauth_required (190/460)', async () => {
    nock('https://graph.instagram.com').get('/refresh_access_token').query(true).reply(400, { error: { message: 'Session invalidated', code: 190, error_subcode: 460 } });
    const http = createGraphHttpClient({ platform: 'instagram', baseUrl: 'https://graph.instagram.com' });
    await expect(refreshLongLivedToken({ http, url: 'refresh_access_token', grantType: 'ig_refresh_token', accessToken: LONG, clock })).rejects.toMatchObject({ code: 'reauth_required' });
    await expect(refreshLongLivedToken({ http, url: 'refresh_access_token', grantType: 'ig_refresh_token', accessToken: '', clock })).rejects.toMatchObject({ code: 'reauth_required' });
  });

  it('an expired long-lived token (190/463) cannot be refreshed: reauth_required, token masked', async () => {
    nock('https://graph.threads.net')
      .get('/refresh_access_token')
      .query(true)
      .reply(400, { error: { message: 'Error validating access token: Session has expired.', type: 'OAuthException', code: 190, error_subcode: 463 } });
    const http = createGraphHttpClient({ platform: 'threads', baseUrl: 'https://graph.threads.net' });
    const error = await refreshLongLivedToken({ http, url: 'refresh_access_token', grantType: 'th_refresh_token', accessToken: LONG, clock }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'reauth_required', platform: 'threads', status: 400 });
    expect(JSON.stringify(error)).not.toContain(LONG);
  });
});
