import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertGraphSuccess, listGraphEdge } from './meta-graph-edge.js';
import { createGraphHttpClient } from './meta-graph-http.js';
import { readGraphUsage } from './meta-graph-usage.js';

const API = 'https://graph.facebook.com';
const TOKEN = 'user-token-c4n4ry-6666';

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('listGraphEdge', () => {
  it('follows paging.next on the same host, re-attaching the token itself', async () => {
    nock(API)
      .get('/v26.0/me/accounts')
      .query({ fields: 'id,name', limit: '100', access_token: TOKEN })
      .reply(200, { data: [{ id: '1', name: 'One' }], paging: { next: `${API}/v26.0/me/accounts?fields=id%2Cname&limit=100&after=QVFI&access_token=${TOKEN}` } });
    nock(API)
      .get('/v26.0/me/accounts')
      .query({ fields: 'id,name', limit: '100', after: 'QVFI', access_token: TOKEN })
      .reply(200, { data: [{ id: '2', name: 'Two' }], paging: {} });
    const http = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0' });
    const pages = await listGraphEdge({ http, path: 'me/accounts', query: { fields: 'id,name', limit: 100 }, accessToken: TOKEN, item: z.object({ id: z.string(), name: z.string() }) });
    expect(pages).toEqual([
      { id: '1', name: 'One' },
      { id: '2', name: 'Two' },
    ]);
  });

  it('refuses a next link to another host', async () => {
    nock(API).get('/v26.0/me/accounts').query(true).reply(200, { data: [{ id: '1' }], paging: { next: 'https://evil.example/steal' } });
    const http = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0' });
    await expect(listGraphEdge({ http, path: 'me/accounts', accessToken: TOKEN, item: z.object({ id: z.string() }) })).rejects.toMatchObject({ code: 'platform_unavailable' });
  });
});

describe('readGraphUsage', () => {
  it('takes the highest percentage and the longest wait of every business object', () => {
    const headers = {
      'x-business-use-case-usage': JSON.stringify({
        '1': [{ type: 'pages', call_count: 40, total_cputime: 95, total_time: 10, estimated_time_to_regain_access: 0 }],
        '2': [{ type: 'instagram', call_count: 100, estimated_time_to_regain_access: 12 }],
      }),
      'x-app-usage': '{"call_count":5,"total_time":1,"total_cputime":1}',
    };
    expect(readGraphUsage({ headers })).toEqual({ highestPercent: 100, retryAfterMs: 12 * 60_000 });
  });

  it('ignores malformed headers', () => {
    expect(readGraphUsage({ headers: { 'x-app-usage': 'not json', 'x-business-use-case-usage': '[1,2]' } })).toEqual({});
  });
});

describe('assertGraphSuccess', () => {
  it('passes success: true and refuses success: false as platform_rejected', () => {
    expect(() => assertGraphSuccess({ platform: 'facebook', answer: { success: true }, action: 'DELETE 1' })).not.toThrow();
    expect(() => assertGraphSuccess({ platform: 'facebook', answer: { success: false }, action: 'DELETE 1' })).toThrow(expect.objectContaining({ code: 'platform_rejected', platform: 'facebook' }));
  });
});
