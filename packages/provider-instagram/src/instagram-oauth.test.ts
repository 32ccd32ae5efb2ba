import { LetmepostError } from '@letmepost/core';
import { describe, expect, it } from 'vitest';
import codeExchangeFlat from './__fixtures__/code-exchange-flat.json' with { type: 'json' };
import codeExchangeRefused from './__fixtures__/code-exchange-refused.json' with { type: 'json' };
import codeExchangeWrapped from './__fixtures__/code-exchange-wrapped.json' with { type: 'json' };
import error190Expired from './__fixtures__/error-190-expired.json' with { type: 'json' };
import error190Revoked from './__fixtures__/error-190-revoked.json' with { type: 'json' };
import longLivedToken from './__fixtures__/long-lived-token.json' with { type: 'json' };
import refreshedToken from './__fixtures__/refreshed-token.json' with { type: 'json' };
import { conformInstagramTokenAnswer } from './instagram-oauth-answer.js';
import { createInstagram } from './instagram-provider.js';
import { ACCESS_TOKEN, answer, CLIENT_ID, CLIENT_SECRET, createGraphMock, NOW } from './test-support/instagram-graph-mock.js';

const TOKEN_ORIGIN = 'https://api.instagram.com';
const REDIRECT = 'https://app.example/v1/accounts/oauth/instagram/callback';
const client = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const DAY = 24 * 60 * 60 * 1000;

function setup() {
  const mock = createGraphMock();
  const provider = createInstagram({ dispatcher: mock.agent, clock: { now: () => NOW } });
  const tokenBodies: string[] = [];
  const token = (status: number, body: unknown) =>
    mock.agent
      .get(TOKEN_ORIGIN)
      .intercept({ method: 'POST', path: '/oauth/access_token' })
      .reply(({ body: sent }) => {
        tokenBodies.push(String(sent));
        return { statusCode: status, data: JSON.stringify(body), responseOptions: { headers: { 'content-type': 'application/json' } } };
      });
  return { ...mock, provider, token, tokenBodies };
}

async function exchange(provider: ReturnType<typeof setup>['provider'], callback: string) {
  return provider.exchangeCode!({ client, redirectUri: REDIRECT, callbackUrl: new URL(callback), state: 'state-0123456789abcdef', codeVerifier: 'v'.repeat(43) });
}

describe('Instagram Login', () => {
  it('builds the consent URL on instagram.com with comma-separated business scopes', async () => {
    const url = await createInstagram().authorizationUrl!({
      client,
      redirectUri: REDIRECT,
      state: 'state-0123456789abcdef',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: ['instagram_business_basic', 'instagram_business_content_publish'],
    });
    expect(url.origin + url.pathname).toBe('https://www.instagram.com/oauth/authorize');
    expect(url.searchParams.get('scope')).toBe('instagram_business_basic,instagram_business_content_publish');
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('response_type')).toBe('code');
  });

  it('reads the wrapped data[] answer with array permissions, strips the #_ Instagram appends, and swaps for the 60-day token', async () => {
    const { provider, token, tokenBodies, recorded, agent } = setup();
    token(200, codeExchangeWrapped);
    answer({ agent, method: 'GET', path: 'access_token', body: longLivedToken, unversioned: true });

    const tokens = await exchange(provider, `${REDIRECT}?code=AQBx-code&state=state-0123456789abcdef#_`);

    expect(tokens).toEqual({
      accessToken: longLivedToken.access_token,
      tokenType: 'bearer',
      expiresAt: NOW + longLivedToken.expires_in * 1000,
      scopes: ['instagram_business_basic', 'instagram_business_content_publish'],
    });
    const form = new URLSearchParams(tokenBodies[0]);
    expect(Object.fromEntries(form)).toMatchObject({ grant_type: 'authorization_code', code: 'AQBx-code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: REDIRECT });
    expect(recorded()).toEqual([
      { method: 'GET', path: 'access_token', params: { grant_type: 'ig_exchange_token', client_secret: CLIENT_SECRET, access_token: codeExchangeWrapped.data[0]!.access_token } },
    ]);
  });

  it('reads the flat answer with a comma-string of permissions the same way', () => {
    expect(conformInstagramTokenAnswer({ status: 200, body: codeExchangeFlat })).toEqual({
      status: 200,
      body: { access_token: codeExchangeFlat.access_token, token_type: 'bearer', user_id: codeExchangeFlat.user_id, scope: codeExchangeFlat.permissions },
    });
    expect(conformInstagramTokenAnswer({ status: 200, body: codeExchangeWrapped }).body).toMatchObject({
      access_token: codeExchangeWrapped.data[0]!.access_token,
      scope: 'instagram_business_basic,instagram_business_content_publish',
    });
    // Not a token answer: left for the OAuth client to refuse.
    expect(conformInstagramTokenAnswer({ status: 200, body: { data: [] } })).toEqual({ status: 200, body: { data: [] } });
  });

  it('maps the legacy { error_type, error_message } refusal of a code to platform_auth_failed, with no swap attempted', async () => {
    const { provider, token, recorded } = setup();
    token(400, codeExchangeRefused);
    const error = await exchange(provider, `${REDIRECT}?code=AQB-dead&state=state-0123456789abcdef`).catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error) && error.code).toBe('platform_auth_failed');
    expect(JSON.stringify(error)).not.toContain(CLIENT_SECRET);
    expect(recorded()).toEqual([]);
  });

  it('refreshes the long-lived token itself (ig_refresh_token) and keeps the granted scopes', async () => {
    const { provider, agent, recorded } = setup();
    answer({ agent, method: 'GET', path: 'refresh_access_token', body: refreshedToken, unversioned: true });
    const tokens = await provider.refresh!({ tokens: { accessToken: ACCESS_TOKEN, expiresAt: NOW + 10 * DAY, scopes: ['instagram_business_basic'] }, client });
    expect(tokens).toEqual({ accessToken: refreshedToken.access_token, tokenType: 'bearer', expiresAt: NOW + refreshedToken.expires_in * 1000, scopes: ['instagram_business_basic'] });
    expect(tokens.refreshToken).toBeUndefined();
    expect(recorded()).toEqual([{ method: 'GET', path: 'refresh_access_token', params: { grant_type: 'ig_refresh_token', access_token: ACCESS_TOKEN } }]);
  });

  it('does not ask Instagram to refresh a token younger than a day (it would refuse); the token is kept', async () => {
    const { provider, recorded } = setup();
    const young = { accessToken: ACCESS_TOKEN, expiresAt: NOW + 60 * DAY - 2 * 60 * 60 * 1000 };
    expect(await provider.refresh!({ tokens: young, client })).toEqual(young);
    expect(recorded()).toEqual([]);
  });

  // A token Graph calls expired can no longer be exchanged, so an expired token (463) is as final
  // as a removed app (458) here: only a new connect helps, and core must mark the grant.
  it.each([
    { body: error190Expired, code: 'reauth_required' },
    { body: error190Revoked, code: 'reauth_required' },
  ])('maps a refused refresh ($body.error.error_subcode) to $code without leaking the token', async ({ body, code }) => {
    const { provider, agent } = setup();
    answer({ agent, method: 'GET', path: 'refresh_access_token', status: 400, body, unversioned: true });
    const error = await provider.refresh!({ tokens: { accessToken: ACCESS_TOKEN, expiresAt: NOW + DAY }, client }).catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error) && error.code).toBe(code);
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
    expect((error as Error).message).not.toContain(ACCESS_TOKEN);
  });

  it('lists the professional account under its user_id (not the app-scoped id), with the profile URL', async () => {
    const { provider, agent } = setup();
    answer({
      agent,
      method: 'GET',
      path: 'me',
      body: { id: '7281902837465', user_id: '17841400000000001', username: 'letmepost.bakery', account_type: 'MEDIA_CREATOR' },
    });
    const [account] = await provider.listAccounts!({ tokens: { accessToken: ACCESS_TOKEN }, client });
    expect(account).toEqual({
      platformAccountId: '17841400000000001',
      kind: 'person',
      username: 'letmepost.bakery',
      profileUrl: 'https://www.instagram.com/letmepost.bakery/',
      data: { igUserId: '17841400000000001', accountType: 'MEDIA_CREATOR' },
    });
  });

  it('moves every host to apiBaseUrl (the sandbox) and refuses a malformed Graph version naming the setting', async () => {
    const url = await createInstagram({ apiBaseUrl: 'http://127.0.0.1:4000/instagram' }).authorizationUrl!({
      client,
      redirectUri: REDIRECT,
      state: 'state-0123456789abcdef',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      scopes: ['instagram_business_basic'],
    });
    expect(url.origin + url.pathname).toBe('http://127.0.0.1:4000/instagram/oauth/authorize');
    expect(() => createInstagram({ graphVersion: '26' })).toThrow(expect.objectContaining({ field: 'settings.graphVersion' }));
  });
});
