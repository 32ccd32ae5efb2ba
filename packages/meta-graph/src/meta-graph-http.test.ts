import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { computeAppSecretProof, createGraphHttpClient } from './meta-graph-http.js';

const API = 'https://graph.facebook.com';
const TOKEN = 'EAAB-user-token-c4n4ry-9876';
const APP_SECRET = 'app-secret-c4n4ry-5555';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('createGraphHttpClient', () => {
  it('sends access_token with its appsecret_proof (HMAC-SHA256 of the token, hex) on the versioned path', async () => {
    const expectedProof = createHmac('sha256', APP_SECRET).update(TOKEN).digest('hex');
    const scope = nock(API).get('/v26.0/me/accounts').query({ fields: 'id,name', access_token: TOKEN, appsecret_proof: expectedProof }).reply(200, { data: [] });
    const client = createGraphHttpClient({ platform: 'facebook', baseUrl: `${API}/`, apiVersion: 'v26.0', appSecret: APP_SECRET });
    const { value } = await client.json({ method: 'GET', path: '/me/accounts', query: { fields: 'id,name' }, accessToken: TOKEN, schema: z.object({ data: z.array(z.unknown()) }) });
    expect(value).toEqual({ data: [] });
    expect(scope.isDone()).toBe(true);
    expect(computeAppSecretProof({ accessToken: TOKEN, appSecret: APP_SECRET })).toBe(expectedProof);
  });

  it('uses a proof given with the call (the grant’s own app) over its own secret', async () => {
    const scope = nock(API).post('/v26.0/42/feed').query({ access_token: TOKEN, appsecret_proof: 'stored-proof' }).reply(200, { id: '42_1' });
    const client = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0', appSecret: APP_SECRET });
    await client.request({ method: 'POST', path: '42/feed', accessToken: TOKEN, appSecretProof: 'stored-proof', body: { form: { message: 'hi' } } });
    expect(scope.isDone()).toBe(true);
  });

  it('sends no proof without an app secret, and no token without one', async () => {
    const withToken = nock(API).get('/v26.0/me').query({ access_token: TOKEN }).reply(200, { id: '1' });
    const withoutToken = nock(API).get('/v26.0/oauth/access_token').query({ grant_type: 'x' }).reply(200, { id: '1' });
    const client = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0' });
    await client.request({ method: 'GET', path: 'me', accessToken: TOKEN });
    await client.request({ method: 'GET', path: 'oauth/access_token', query: { grant_type: 'x' } });
    expect(withToken.isDone() && withoutToken.isDone()).toBe(true);
  });

  it('puts the token in an OAuth header for upload hosts, the proof still in the query', async () => {
    const proof = computeAppSecretProof({ accessToken: TOKEN, appSecret: APP_SECRET });
    const scope = nock('https://rupload.facebook.com', { reqheaders: { authorization: `OAuth ${TOKEN}` } })
      .post('/video-upload/v26.0/777')
      .query({ appsecret_proof: proof })
      .reply(200, { success: true });
    const client = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0', appSecret: APP_SECRET });
    await client.request({ method: 'POST', path: 'https://rupload.facebook.com/video-upload/v26.0/777', accessToken: TOKEN, tokenPlacement: 'oauth-header', body: { bytes: new Uint8Array([1, 2]), contentType: 'application/octet-stream' } });
    expect(scope.isDone()).toBe(true);
  });

  it('uses paths as they are without a version (Instagram Login hosts)', async () => {
    const scope = nock('https://graph.instagram.com').get('/refresh_access_token').query(true).reply(200, {});
    const client = createGraphHttpClient({ platform: 'instagram', baseUrl: 'https://graph.instagram.com' });
    expect(client.url('refresh_access_token')).toBe('https://graph.instagram.com/refresh_access_token');
    await client.request({ method: 'GET', path: 'refresh_access_token' });
    expect(scope.isDone()).toBe(true);
  });
});
