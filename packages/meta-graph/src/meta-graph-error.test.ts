import type { ErrorCode } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import error190Password from './__fixtures__/error-190-460.json' with { type: 'json' };
import errorThrottled from './__fixtures__/error-throttled-80001.json' with { type: 'json' };
import errorMedia from './__fixtures__/error-ig-media-9004.json' with { type: 'json' };
import { createGraphHttpClient } from './meta-graph-http.js';

const API = 'https://graph.facebook.com';
const TOKEN = 'EAAB-page-token-c4n4ry-1234';
const NOW = 1_780_000_000_000;

function client() {
  return createGraphHttpClient({
    platform: 'facebook',
    baseUrl: API,
    apiVersion: 'v26.0',
    clock: { now: () => NOW },
    retry: { maxAttempts: 1 },
  });
}

function graphError(options: { code: number; subcode?: number; transient?: boolean }): object {
  return {
    error: {
      message: 'An error happened.',
      type: 'OAuthException',
      code: options.code,
      ...(options.subcode !== undefined && { error_subcode: options.subcode }),
      ...(options.transient !== undefined && { is_transient: options.transient }),
      fbtrace_id: 'trace',
    },
  };
}

async function failureOf(options: { status: number; body: object; headers?: Record<string, string>; method?: 'GET' | 'POST' }) {
  const method = options.method ?? 'POST';
  const interceptor = method === 'GET' ? nock(API).get('/v26.0/123/feed') : nock(API).post('/v26.0/123/feed');
  interceptor.query(true).reply(options.status, options.body, { 'content-type': 'application/json', ...options.headers });
  return client()
    .request({ method, path: '123/feed', accessToken: TOKEN, body: { form: { message: 'hello' } } })
    .then(() => expect.unreachable('the call should have failed'))
    .catch((error: unknown) => error as { code: ErrorCode; retryable: boolean; retryAfterMs?: number; rule?: string; message: string });
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('mapGraphError: the message', () => {
  it('cuts Graph’s prose after masking it, so no piece of a credential that sat across the cut survives', async () => {
    // The token starts 5 characters before the 300-character cut: cut first, "Bearer QQQQQ" would
    // be too short to be recognised as a credential and would be kept.
    const body = { error: { message: `${'x'.repeat(287)} Bearer ${'Q'.repeat(40)} was refused.`, type: 'OAuthException', code: 100 } };
    const failure = await failureOf({ status: 400, body });
    expect(failure.message).toContain(`${'x'.repeat(287)} [redacted]`);
    expect(failure.message).not.toContain('QQ');
  });
});

describe('mapGraphError: the Graph error table', () => {
  const cases: Array<{ name: string; status: number; body: object; code: ErrorCode; rule?: string }> = [
    { name: '190 without subcode', status: 400, body: graphError({ code: 190 }), code: 'auth_expired' },
    { name: '190/463 expired', status: 400, body: graphError({ code: 190, subcode: 463 }), code: 'auth_expired' },
    { name: '102 session', status: 400, body: graphError({ code: 102 }), code: 'auth_expired' },
    { name: '190/458 app removed', status: 400, body: graphError({ code: 190, subcode: 458 }), code: 'reauth_required' },
    { name: '190/459 checkpoint', status: 400, body: graphError({ code: 190, subcode: 459 }), code: 'reauth_required' },
    { name: '190/460 password changed (captured)', status: 400, body: error190Password, code: 'reauth_required' },
    { name: '190/464 unconfirmed user', status: 400, body: graphError({ code: 190, subcode: 464 }), code: 'reauth_required' },
    { name: '190/467 invalid token', status: 400, body: graphError({ code: 190, subcode: 467 }), code: 'reauth_required' },
    { name: '4 app throttled', status: 400, body: graphError({ code: 4 }), code: 'rate_limited' },
    { name: '17 user throttled', status: 400, body: graphError({ code: 17 }), code: 'rate_limited' },
    { name: '32 page throttled', status: 403, body: graphError({ code: 32 }), code: 'rate_limited' },
    { name: '613 custom throttled', status: 400, body: graphError({ code: 613 }), code: 'rate_limited' },
    { name: '80014 BUC throttled', status: 400, body: graphError({ code: 80_014 }), code: 'rate_limited' },
    { name: '1390008 posting too fast', status: 400, body: graphError({ code: 368, subcode: 1_390_008 }), code: 'rate_limited' },
    { name: '10 permission', status: 403, body: graphError({ code: 10 }), code: 'permission_denied' },
    { name: '200 permission', status: 403, body: graphError({ code: 200 }), code: 'permission_denied' },
    { name: '299 permission', status: 403, body: graphError({ code: 299 }), code: 'permission_denied' },
    { name: '1404078 page publishing authorization', status: 400, body: graphError({ code: 100, subcode: 1_404_078 }), code: 'permission_denied' },
    { name: '368 policy block', status: 400, body: graphError({ code: 368 }), code: 'platform_rejected', rule: 'facebook.policy.blocked' },
    { name: '506 duplicate', status: 400, body: graphError({ code: 506 }), code: 'duplicate_content', rule: 'facebook.post.duplicate' },
    { name: '1366051 photos already posted', status: 400, body: graphError({ code: 100, subcode: 1_366_051 }), code: 'duplicate_content' },
    { name: '9004 media fetch (captured)', status: 400, body: errorMedia, code: 'media_invalid' },
    { name: '2207026 unsupported video', status: 400, body: graphError({ code: 352, subcode: 2_207_026 }), code: 'media_invalid' },
    { name: '36003 aspect ratio', status: 400, body: graphError({ code: 36_003, subcode: 2_207_009 }), code: 'media_invalid' },
    { name: '1366046 photo too large', status: 400, body: graphError({ code: 100, subcode: 1_366_046 }), code: 'media_invalid' },
    { name: '9/2207042 publishing limit', status: 400, body: graphError({ code: 9, subcode: 2_207_042 }), code: 'quota_exceeded', rule: 'facebook.publish.limit_reached' },
    { name: '1 unknown', status: 500, body: graphError({ code: 1 }), code: 'platform_unavailable' },
    { name: '2 service', status: 503, body: graphError({ code: 2 }), code: 'platform_unavailable' },
    { name: 'is_transient', status: 400, body: graphError({ code: 100, transient: true }), code: 'platform_unavailable' },
    { name: '2207001 IG server error', status: 400, body: graphError({ code: -1, subcode: 2_207_001 }), code: 'platform_unavailable' },
    { name: '100/33 missing object', status: 400, body: graphError({ code: 100, subcode: 33 }), code: 'not_found' },
    { name: '100 invalid parameter → status mapping', status: 400, body: graphError({ code: 100 }), code: 'platform_rejected' },
  ];
  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.code}`, async () => {
      // GET so a 5xx is not read as "a create may have happened".
      const error = await failureOf({ status: testCase.status, body: testCase.body, method: 'GET' });
      expect(error.code).toBe(testCase.code);
      if (testCase.rule !== undefined) expect(error.rule).toBe(testCase.rule);
    });
  }

  it('takes the reset of a throttled answer from X-Business-Use-Case-Usage (minutes)', async () => {
    const usage = { '123': [{ type: 'pages', call_count: 100, total_cputime: 20, total_time: 30, estimated_time_to_regain_access: 7 }] };
    const error = await failureOf({ status: 400, body: errorThrottled, headers: { 'x-business-use-case-usage': JSON.stringify(usage) } });
    expect(error.code).toBe('rate_limited');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(7 * 60_000);
  });

  it('takes the reset from X-App-Usage when it carries the estimate, and Retry-After wins when sent', async () => {
    const appUsage = { call_count: 100, total_time: 12, total_cputime: 8, estimated_time_to_regain_access: 3 };
    const fromApp = await failureOf({ status: 403, body: graphError({ code: 4 }), headers: { 'x-app-usage': JSON.stringify(appUsage) } });
    expect(fromApp.retryAfterMs).toBe(3 * 60_000);
    const fromHeader = await failureOf({ status: 403, body: graphError({ code: 4 }), headers: { 'x-app-usage': JSON.stringify(appUsage), 'retry-after': '20' } });
    expect(fromHeader.retryAfterMs).toBe(20_000);
  });

  it('a throttled answer without usage estimate carries no reset', async () => {
    const error = await failureOf({ status: 400, body: graphError({ code: 17 }), headers: { 'x-app-usage': '{"call_count":100}' } });
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('maps an error carried in a 2xx body (inspectSuccess), and lets a plain 2xx through', async () => {
    const refused = await failureOf({ status: 200, body: graphError({ code: 506 }) });
    expect(refused.code).toBe('duplicate_content');
    const unmapped = await failureOf({ status: 200, body: graphError({ code: 100 }) });
    expect(unmapped.code).toBe('platform_rejected');
    nock(API).post('/v26.0/123/feed').query(true).reply(200, { id: '123_456' });
    const response = await client().request({ method: 'POST', path: '123/feed', accessToken: TOKEN });
    expect(response.json()).toEqual({ id: '123_456' });
  });

  it('a member prepends its own rows (tried before the shared table)', async () => {
    const threads = createGraphHttpClient({
      platform: 'threads',
      baseUrl: 'https://graph.threads.net',
      apiVersion: 'v1.0',
      retry: { maxAttempts: 1 },
      errorRules: [{ when: { code: 4 }, code: 'quota_exceeded', rule: 'threads.publish.limit_reached' }],
    });
    nock('https://graph.threads.net').post('/v1.0/me/threads_publish').query(true).reply(400, graphError({ code: 4 }));
    const error = await threads.request({ method: 'POST', path: 'me/threads_publish', accessToken: TOKEN }).then(
      () => expect.unreachable('the call should have failed'),
      (caught: unknown) => caught as { code: string; rule: string },
    );
    expect(error).toMatchObject({ code: 'quota_exceeded', rule: 'threads.publish.limit_reached' });
  });

  it('never puts the token or the proof in the message', async () => {
    const secretClient = createGraphHttpClient({ platform: 'facebook', baseUrl: API, apiVersion: 'v26.0', appSecret: 'app-secret-c4n4ry', retry: { maxAttempts: 1 } });
    nock(API).get('/v26.0/me').query(true).reply(400, { error: { message: `bad token ${TOKEN}`, code: 190 } });
    const error = await secretClient.request({ method: 'GET', path: 'me', accessToken: TOKEN }).then(
      () => expect.unreachable('the call should have failed'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('Facebook answered 400 (#190)');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(error.message).not.toContain(TOKEN);
  });
});
