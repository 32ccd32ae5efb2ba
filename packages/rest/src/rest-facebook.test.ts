import { randomBytes } from 'node:crypto';
import { createFacebook } from '@letmepost/provider-facebook';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { facebookPages, type Sandbox } from '@letmepost/sandbox';
import { startSandboxRest } from './test-support/sandbox-rest.js';

// Facebook through REST and core against the sandbox: one login stores every Page as an account
// of one grant, publishing uses each Page's own token, and per-request credentials arrive
// snake_case (`page_access_token`, `page_id`).

const SECRET = `fb-secret-${randomBytes(6).toString('hex')}`;
let sandbox: Sandbox;
let call: Awaited<ReturnType<typeof startSandboxRest>>['call'];
let connect: Awaited<ReturnType<typeof startSandboxRest>>['connect'];

beforeEach(async () => {
  ({ sandbox, call, connect } = await startSandboxRest({
    platform: 'facebook',
    clientId: 'fb-app',
    clientSecret: SECRET,
    createProvider: (started) => createFacebook({ ...started.endpoints.facebook, http: { retry: { maxAttempts: 1 } } }),
  }));
});
afterEach(async () => sandbox.close());

describe('Facebook through REST', () => {
  it('one login stores every Page; each publishes with its own Page token; per-request page_access_token + page_id work', async () => {
    const { credentials, session, callback: answered } = await connect();
    expect(credentials.status).toBe(201);
    expect(session.status).toBe(201);
    const callback = answered!;
    expect(callback.status).toBe(200);
    const accounts = ((await callback.json()) as { data: Array<{ id: string; platform: string; platform_account_id: string; kind: string }> }).data;
    expect(accounts.map((account) => [account.platform, account.platform_account_id, account.kind])).toEqual(facebookPages.map((page) => ['facebook', page.id, 'page']));

    for (const account of accounts) {
      const published = await call({ method: 'POST', path: '/v1/posts', body: { post: { text: `Hello from ${account.platform_account_id}` }, targets: [{ account_id: account.id }] } });
      expect(published.status).toBe(200);
      expect(published.json!.data[0]).toMatchObject({ status: 'published' });
    }
    const posts = sandbox.state.posts.filter((post) => post.platform === 'facebook');
    expect(posts.map((post) => [post.authorId, post.text])).toEqual(facebookPages.map((page) => [page.id, `Hello from ${page.id}`]));

    const pageToken = [...sandbox.state.accessTokens].find(([, stored]) => stored.platform === 'facebook' && stored.userId === facebookPages[0]!.id)![0];
    const direct = await call({
      method: 'POST',
      path: '/v1/posts',
      body: { post: { text: 'Per request' }, targets: [{ platform: 'facebook', credentials: { page_access_token: pageToken, page_id: facebookPages[0]!.id } }] },
    });
    expect(direct.status).toBe(200);
    expect(direct.json!.data[0]).toMatchObject({ status: 'published', platform: 'facebook' });
  });
});
