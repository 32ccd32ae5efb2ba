import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import errorCodeExchange from './__fixtures__/error-code-exchange.json' with { type: 'json' };
import error200 from './__fixtures__/error-200-permission.json' with { type: 'json' };
import mePermissionsDeclined from './__fixtures__/me-permissions-declined.json' with { type: 'json' };
import tokenLongLived from './__fixtures__/token-long-lived.json' with { type: 'json' };
import tokenShortLived from './__fixtures__/token-short-lived.json' with { type: 'json' };
import { createFacebook } from './facebook-provider.js';
import { useFakeGraph } from './test-support/fake-graph.js';

const APP = { clientId: '1234567890', clientSecret: 'facebook-app-secret-c4n4ry-77' };
const WORKSPACE_APP = { clientId: '999', clientSecret: 'workspace-secret-c4n4ry-88' };
const NOW = 1_780_000_000_000;
const proofOf = (token: string, secret: string) => createHmac('sha256', secret).update(token).digest('hex');

const fakeGraph = useFakeGraph();

function provider() {
  return createFacebook({ ...APP, apiBaseUrl: fakeGraph().url, clock: { now: () => NOW }, http: { retry: { maxAttempts: 1 } } });
}

function calls(): string[] {
  return fakeGraph().server.requests.map((request) => `${request.method} ${fakeGraph().pathOf(request)}`);
}

const userTokens = { accessToken: tokenLongLived.access_token, secrets: { appsecretProof: proofOf(tokenLongLived.access_token, WORKSPACE_APP.clientSecret) } };

describe('connect: code → short-lived → long-lived user token', () => {
  it('exchanges the code, then swaps it server-side with fb_exchange_token, keeping the proof of the grant’s app', async () => {
    const callbackUrl = new URL('https://app.example/v1/accounts/oauth/facebook/callback?code=AQDcode&state=state-0123456789');
    const tokens = await provider().exchangeCode!({
      client: WORKSPACE_APP,
      redirectUri: 'https://app.example/v1/accounts/oauth/facebook/callback',
      callbackUrl,
      state: 'state-0123456789',
      codeVerifier: 'verifier-verifier-verifier-verifier-verifier-0123',
    });
    expect(calls()).toEqual(['POST oauth/access_token', 'GET oauth/access_token']);
    const [code, swap] = fakeGraph().server.requests;
    expect(Object.fromEntries(new URLSearchParams(code!.text()))).toMatchObject({
      grant_type: 'authorization_code',
      code: 'AQDcode',
      redirect_uri: 'https://app.example/v1/accounts/oauth/facebook/callback',
      client_id: WORKSPACE_APP.clientId,
      client_secret: WORKSPACE_APP.clientSecret,
    });
    expect(fakeGraph().paramsOf(swap!)).toEqual({
      grant_type: 'fb_exchange_token',
      client_id: WORKSPACE_APP.clientId,
      client_secret: WORKSPACE_APP.clientSecret,
      fb_exchange_token: tokenShortLived.access_token,
    });
    expect(tokens).toEqual({
      accessToken: tokenLongLived.access_token,
      tokenType: 'bearer',
      expiresAt: NOW + tokenLongLived.expires_in * 1000,
      secrets: { appsecretProof: proofOf(tokenLongLived.access_token, WORKSPACE_APP.clientSecret) },
    });
  });

  it('a used code (Graph error 100/36009 at the token endpoint) is platform_auth_failed, and no swap is tried', async () => {
    fakeGraph().failNext({ method: 'POST', path: 'oauth/access_token', status: 400, body: errorCodeExchange });
    const error = await provider()
      .exchangeCode!({
        client: APP,
        redirectUri: 'https://app.example/cb',
        callbackUrl: new URL('https://app.example/cb?code=used&state=state-0123456789'),
        state: 'state-0123456789',
        codeVerifier: 'verifier-verifier-verifier-verifier-verifier-0123',
      })
      .then(() => expect.unreachable('the exchange should fail'), (caught: unknown) => caught as Error & { code: string });
    expect(error.code).toBe('platform_auth_failed');
    expect(JSON.stringify({ error, message: error.message })).not.toContain(APP.clientSecret);
    expect(calls()).toEqual(['POST oauth/access_token']);
  });

  it('revoke: DELETE /me/permissions with the user token and its stored proof', async () => {
    await provider().revoke!({ tokens: userTokens, client: WORKSPACE_APP });
    expect(calls()).toEqual(['DELETE me/permissions']);
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toEqual({ access_token: userTokens.accessToken, appsecret_proof: userTokens.secrets.appsecretProof });
  });
});

describe('listAccounts: every Page of one login', () => {
  it('lists the user’s Pages and those of their Business Portfolios, once each, each with its Page token and proof', async () => {
    const accounts = await provider().listAccounts!({ tokens: userTokens, client: WORKSPACE_APP });
    expect(calls()).toEqual(['GET me/accounts', 'GET me/businesses', 'GET 900/owned_pages', 'GET 900/client_pages']);
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toMatchObject({
      fields: 'id,name,username,access_token,picture.type(large),tasks',
      access_token: userTokens.accessToken,
      appsecret_proof: userTokens.secrets.appsecretProof,
    });
    // 102 is left out: the user may only analyse it (no CREATE_CONTENT).
    expect(accounts.map((account) => account.platformAccountId)).toEqual(['101', '103']);
    expect(accounts[0]).toEqual({
      platformAccountId: '101',
      kind: 'page',
      username: 'letmepostbakery',
      displayName: 'Letmepost Bakery',
      avatarUrl: 'https://scontent.xx.fbcdn.net/v/101.jpg',
      profileUrl: 'https://www.facebook.com/letmepostbakery',
      data: { pageId: '101', source: 'user', tasks: ['ANALYZE', 'ADVERTISE', 'MODERATE', 'CREATE_CONTENT', 'MANAGE'] },
      tokens: { accessToken: 'EAAPage101-c4n4ry-token', tokenType: 'bearer', secrets: { appsecretProof: proofOf('EAAPage101-c4n4ry-token', WORKSPACE_APP.clientSecret) } },
    });
    expect(accounts[1]).toMatchObject({ platformAccountId: '103', data: { pageId: '103', source: 'business', businessId: '900' }, tokens: { accessToken: 'EAAPage103-c4n4ry-token' } });
    expect(accounts.every((account) => account.tokens?.expiresAt === undefined)).toBe(true);
  });

  it('without business_management (403 #200 on /me/businesses) the user’s own Pages are still listed', async () => {
    fakeGraph().failNext({ method: 'GET', path: 'me/businesses', status: 403, body: error200 });
    const accounts = await provider().listAccounts!({ tokens: userTokens, client: WORKSPACE_APP });
    expect(accounts.map((account) => account.platformAccountId)).toEqual(['101']);
  });

  it('no Page because pages_show_list was declined → permission_denied naming it', async () => {
    fakeGraph().failNext({ method: 'GET', path: 'me/accounts', status: 200, body: { data: [] } });
    fakeGraph().failNext({ method: 'GET', path: 'me/businesses', status: 200, body: { data: [] } });
    fakeGraph().failNext({ method: 'GET', path: 'me/permissions', status: 200, body: mePermissionsDeclined });
    const error = await provider()
      .listAccounts!({ tokens: userTokens, client: WORKSPACE_APP })
      .then(() => expect.unreachable('an empty list is an error'), (caught: unknown) => caught as Error & { code: string; rule: string });
    expect(error).toMatchObject({ code: 'permission_denied', rule: 'facebook.accounts.permission_not_granted' });
    expect(error.message).toContain('pages_show_list');
  });

  it('no Page at all → not_found facebook.accounts.no_page', async () => {
    fakeGraph().failNext({ method: 'GET', path: 'me/accounts', status: 200, body: { data: [] } });
    fakeGraph().failNext({ method: 'GET', path: 'me/businesses', status: 200, body: { data: [] } });
    await expect(provider().listAccounts!({ tokens: userTokens, client: WORKSPACE_APP })).rejects.toMatchObject({ code: 'not_found', rule: 'facebook.accounts.no_page' });
  });

  it('Pages, but none the user may post to → permission_denied facebook.accounts.no_publishable_page', async () => {
    fakeGraph().failNext({ method: 'GET', path: 'me/accounts', status: 200, body: { data: [{ id: '102', name: 'Read-only', access_token: 'EAA102', tasks: ['ANALYZE'] }] } });
    fakeGraph().failNext({ method: 'GET', path: 'me/businesses', status: 200, body: { data: [] } });
    await expect(provider().listAccounts!({ tokens: userTokens, client: WORKSPACE_APP })).rejects.toMatchObject({
      code: 'permission_denied',
      rule: 'facebook.accounts.no_publishable_page',
    });
  });
});
