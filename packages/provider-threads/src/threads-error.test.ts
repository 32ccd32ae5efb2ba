import type { ErrorCode, PublishAuth } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import error10 from './__fixtures__/error-10-permission.json' with { type: 'json' };
import error100 from './__fixtures__/error-100-not-found.json' with { type: 'json' };
import error190 from './__fixtures__/error-190-expired.json' with { type: 'json' };
import error1 from './__fixtures__/error-1-unknown.json' with { type: 'json' };
import error24 from './__fixtures__/error-24-media-not-found.json' with { type: 'json' };
import error4 from './__fixtures__/error-4-rate-limit.json' with { type: 'json' };
import publishingLimit from './__fixtures__/publishing-limit.json' with { type: 'json' };
import { interceptThreads, type WireCall } from './test-support/threads-wire.js';
import type { ThreadsCredentials } from './threads-credentials.js';
import { createThreads } from './threads-provider.js';

const USER_ID = '17841400000000001';
const ACCESS_TOKEN = 'THQVJerrorTokenc4n4ry-31ab';
const auth: PublishAuth<ThreadsCredentials> = { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN, threadsUserId: USER_ID } };
const noRetry = { retry: { maxAttempts: 1 } };

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

/** The publish answered `status`/`body` at the container create (after the limit check). */
async function failAtCreate(options: { status: number; body: unknown; headers?: Record<string, string> }): Promise<unknown> {
  const calls: WireCall[] = [];
  interceptThreads({ calls, method: 'GET', path: `/v1.0/${USER_ID}/threads_publishing_limit`, reply: { status: 200, body: publishingLimit } });
  interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads`, reply: { status: options.status, body: options.body, ...(options.headers && { headers: options.headers }) } });
  return createThreads({ http: noRetry })
    .publish({ post: { text: 'Hello' }, auth, options: {} })
    .catch((caught: unknown) => caught);
}

describe('Threads errors, mapped from Graph codes on the wire', () => {
  const rows: Array<{ name: string; status: number; body: unknown; code: ErrorCode; rule?: string; retryable?: boolean }> = [
    { name: '190/463 expired token', status: 400, body: error190, code: 'auth_expired' },
    { name: '190/460 password changed', status: 400, body: { error: { ...error190.error, error_subcode: 460 } }, code: 'reauth_required' },
    { name: '10 missing permission', status: 403, body: error10, code: 'permission_denied' },
    { name: '200-range permission', status: 403, body: { error: { message: 'Permissions error', type: 'THApiException', code: 200 } }, code: 'permission_denied' },
    { name: '1 unknown error', status: 500, body: error1, code: 'platform_unavailable', retryable: true },
    { name: '24/4279009 container not ready', status: 400, body: error24, code: 'platform_unavailable', rule: 'threads.container.not_ready', retryable: true },
    { name: 'a refusal in a 200', status: 200, body: error10, code: 'permission_denied' },
  ];
  for (const row of rows) {
    it(`${row.name} → ${row.code}`, async () => {
      const error = await failAtCreate({ status: row.status, body: row.body });
      expect(error).toMatchObject({ code: row.code, platform: 'threads', ...(row.rule !== undefined && { rule: row.rule }), ...(row.retryable !== undefined && { retryable: row.retryable }) });
      expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
      expect(String((error as Error).message)).not.toContain(ACCESS_TOKEN);
    });
  }

  it('4 throttled → rate_limited with the wait from X-App-Usage-style headers', async () => {
    const error = await failAtCreate({
      status: 400,
      body: error4,
      headers: { 'x-business-use-case-usage': JSON.stringify({ [USER_ID]: [{ type: 'threads', call_count: 100, total_cputime: 10, total_time: 10, estimated_time_to_regain_access: 7 }] }) },
    });
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 7 * 60_000 });
  });

  it('100/33 on delete → not_found', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'DELETE', path: '/v1.0/18050206876707110', reply: { status: 400, body: error100 } });
    await expect(createThreads({ http: noRetry }).deletePost!({ auth, postId: '18050206876707110' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a failed threads_publish after the root was posted fails only that item', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'GET', path: `/v1.0/${USER_ID}/threads_publishing_limit`, reply: { status: 200, body: publishingLimit } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads`, reply: { status: 200, body: { id: '101' } } });
    interceptThreads({ calls, method: 'GET', path: '/v1.0/101', reply: { status: 200, body: { id: '101', status: 'FINISHED' } } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads_publish`, reply: { status: 200, body: { id: '501' } } });
    interceptThreads({ calls, method: 'GET', path: '/v1.0/501', reply: { status: 500, body: error1 } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads`, reply: { status: 200, body: { id: '102' } } });
    interceptThreads({ calls, method: 'GET', path: '/v1.0/102', reply: { status: 200, body: { id: '102', status: 'FINISHED' } } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads_publish`, reply: { status: 400, body: error10 } });
    const result = await createThreads({ http: noRetry, containerWait: { intervalMs: 1, maxWaitMs: 1 } }).publish({ post: { text: 'One', thread: [{ text: 'Two' }] }, auth, options: {} });
    // The permalink is cosmetic: its failure leaves the post published without a URL.
    expect(result).toMatchObject({ status: 'failed', postId: '501', items: [{ index: 0, status: 'published' }, { index: 1, status: 'failed', error: { code: 'permission_denied' } }] });
    expect(result.url).toBeUndefined();
  });
});
