import { randomBytes } from 'node:crypto';
import { createThreads } from '@letmepost/provider-threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { threadsUser, type Sandbox } from '@letmepost/sandbox';
import { startSandboxRest } from './test-support/sandbox-rest.js';

// Threads through REST and core against the sandbox: the workspace's own Threads app, the
// consent and the long-lived swap, a publish to the stored account, and per-request credentials
// arriving snake_case (`access_token`, `threads_user_id`).

const SECRET = `threads-secret-${randomBytes(6).toString('hex')}`;
let sandbox: Sandbox;
let call: Awaited<ReturnType<typeof startSandboxRest>>['call'];
let connect: Awaited<ReturnType<typeof startSandboxRest>>['connect'];

beforeEach(async () => {
  ({ sandbox, call, connect } = await startSandboxRest({
    platform: 'threads',
    clientId: 'threads-app',
    clientSecret: SECRET,
    createProvider: (started) => createThreads({ ...started.endpoints.threads, http: { retry: { maxAttempts: 1 } }, containerWait: { intervalMs: 1, maxWaitMs: 10 } }),
  }));
});
afterEach(async () => sandbox.close());

describe('Threads through REST', () => {
  it('connects with the workspace app, publishes a thread to the stored account, and publishes with snake_case per-request credentials', async () => {
    const { credentials, session, callback: answered } = await connect();
    expect(credentials.status).toBe(201);
    expect(session.status).toBe(201);
    const callback = answered!;
    expect(callback.status).toBe(200);
    const [account] = ((await callback.json()) as { data: Array<{ id: string; platform: string; platform_account_id: string }> }).data;
    expect(account).toMatchObject({ platform: 'threads', platform_account_id: threadsUser.id });

    const published = await call({ method: 'POST', path: '/v1/posts', body: { post: { text: 'One', thread: [{ text: 'Two' }] }, targets: [{ account_id: account!.id }] } });
    expect(published.status).toBe(200);
    expect(published.json!.data[0]).toMatchObject({ status: 'published', platform: 'threads' });

    // The long-lived token the swap issued (the short-lived one is only used for the swap).
    const longLived = [...sandbox.state.accessTokens].filter(([, stored]) => stored.platform === 'threads').at(-1)![0];
    const direct = await call({
      method: 'POST',
      path: '/v1/posts',
      body: { post: { text: 'Per request' }, targets: [{ platform: 'threads', credentials: { access_token: longLived, threads_user_id: threadsUser.id } }] },
    });
    expect(direct.status).toBe(200);
    expect(direct.json!.data[0]).toMatchObject({ status: 'published', platform: 'threads' });
    const posts = sandbox.state.posts.filter((post) => post.platform === 'threads');
    expect(posts.map((post) => post.text)).toEqual(['One', 'Two', 'Per request']);
    expect(posts[1]!.replyTo).toBe(posts[0]!.id);
  });
});
