import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createFacebook } from '@letmepost/provider-facebook';
import { approveSandboxConsent, facebookPages, startSandbox, type Sandbox } from '@letmepost/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRestHandler } from './rest-handler.js';
import { authenticateTestKeys } from './test-support/authenticate.js';
import { callRest } from './test-support/rest-call.js';

// Facebook through REST and core against the sandbox: one login stores every Page as an account
// of one grant, publishing uses each Page's own token, and per-request credentials arrive
// snake_case (`page_access_token`, `page_id`).

const BASE = 'http://api.test';
const SECRET = `fb-secret-${randomBytes(6).toString('hex')}`;
let sandbox: Sandbox;
let handler: (request: Request) => Promise<Response>;

beforeEach(async () => {
  sandbox = await startSandbox({ apps: [{ platform: 'facebook', clientId: 'fb-app', clientSecret: SECRET, redirectUris: [`${BASE}/v1/accounts/oauth/facebook/callback`] }] });
  const letmepost = createLetmepost({
    providers: [createFacebook({ ...sandbox.endpoints.facebook, http: { retry: { maxAttempts: 1 } } })],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: BASE,
  });
  handler = createRestHandler({ letmepost, authenticate: authenticateTestKeys });
});
afterEach(async () => sandbox.close());

const call = (options: { method: string; path: string; body?: unknown }) => callRest({ handler, baseUrl: BASE, ...options });

describe('Facebook through REST', () => {
  it('one login stores every Page; each publishes with its own Page token; per-request page_access_token + page_id work', async () => {
    expect((await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'facebook', client_id: 'fb-app', client_secret: SECRET } })).status).toBe(201);
    const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'facebook' } });
    expect(session.status).toBe(201);
    const callback = await handler(new Request(await approveSandboxConsent({ authorizeUrl: session.json!.url })));
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
