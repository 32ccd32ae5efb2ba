import { randomBytes } from 'node:crypto';
import { LetmepostError, createLetmepost, memoryTokenStore, type Letmepost } from '@letmepost/core';
import { createBluesky } from '@letmepost/provider-bluesky';
import { createTwitter } from '@letmepost/provider-twitter';
import { blueskyUser, startSandbox, type Sandbox } from '@letmepost/sandbox';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRestHandler, type LetmepostApi } from './rest-handler.js';
import { authenticateTestKeys } from './test-support/authenticate.js';

const BASE = 'http://api.test';
const SECRET = `canary-client-secret-${randomBytes(6).toString('hex')}`;
let sandbox: Sandbox;
let letmepost: Letmepost;
let handler: (request: Request) => Promise<Response>;
let refusedPlatforms: Set<string>;

beforeEach(async () => {
  sandbox = await startSandbox({
    apps: [{ platform: 'twitter', clientId: 'x-client', clientSecret: SECRET, redirectUris: [`${BASE}/v1/accounts/oauth/twitter/callback`] }],
  });
  refusedPlatforms = new Set();
  letmepost = createLetmepost({
    providers: [
      createTwitter({ ...sandbox.endpoints.twitter, allowPrivateNetwork: true }),
      createBluesky({ ...sandbox.endpoints.bluesky, allowPrivateNetwork: true }),
    ],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: BASE,
    policy: { canStoreAppCredentials: ({ platform }) => !refusedPlatforms.has(platform) },
    returnToOrigins: ['https://app.test'],
  });
  handler = createRestHandler({
    letmepost,
    authenticate: authenticateTestKeys,
  });
});
afterEach(async () => sandbox.close());

async function call(options: { method: string; path: string; key?: string; body?: unknown; headers?: Record<string, string> }) {
  const response = await handler(
    new Request(`${BASE}${options.path}`, {
      method: options.method,
      headers: {
        ...(options.key === null ? {} : { authorization: `Bearer ${options.key ?? 'key-a'}` }),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

async function connectTwitter(): Promise<{ accountId: string; callbackUrl: string }> {
  await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x-client', client_secret: SECRET } });
  const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'twitter' } });
  expect(session.status).toBe(201);
  const consentPage = await (await fetch(session.json!.url)).text();
  const consentId = /name="consent_id" value="([^"]+)"/.exec(consentPage)![1]!;
  const approved = await fetch(new URL('consent', session.json!.url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId, decision: 'approve' }),
  });
  const callbackUrl = approved.headers.get('location')!;
  expect(callbackUrl.startsWith(`${BASE}/v1/accounts/oauth/twitter/callback?`)).toBe(true);
  const callback = await handler(new Request(callbackUrl));
  expect(callback.status).toBe(200);
  const body = (await callback.json()) as { data: Array<{ id: string; platform: string; username: string }> };
  expect(body.data).toMatchObject([{ platform: 'twitter', username: 'sandbox_x_user', status: 'active' }]);
  return { accountId: body.data[0]!.id, callbackUrl };
}

describe('authentication and envelopes', () => {
  it('answers 401 with the error envelope and a request_id when the key is missing or wrong', async () => {
    for (const key of [null, 'nope'] as const) {
      const response = await call({ method: 'GET', path: '/v1/accounts', ...(key === null ? { key: null as unknown as string } : { key }) });
      expect(response.status).toBe(401);
      expect(response.json).toEqual({
        error: { code: 'unauthenticated', message: 'Missing or invalid API key', doc_url: expect.stringMatching(/\/docs\/errors\/unauthenticated\.md$/) },
        request_id: expect.stringMatching(/^req_/),
      });
      expect(response.headers.get('x-request-id')).toBe(response.json!.request_id);
    }
  });

  it('answers an unknown route with 404 not_found', async () => {
    const response = await call({ method: 'GET', path: '/v1/nothing' });
    expect(response.status).toBe(404);
    expect(response.json!.error.code).toBe('not_found');
  });

  it('rejects malformed JSON and unknown fields with 422 naming the field', async () => {
    const unknown = await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'a', client_secret: 'b', extra: 1 } });
    expect(unknown.status).toBe(422);
    expect(unknown.json!.error).toMatchObject({ code: 'validation_failed', doc_url: expect.stringContaining('validation_failed.md') });
    const missing = await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'a' } });
    expect(missing.json!.error.field).toBe('client_secret');
  });
});

describe('platform credentials', () => {
  it('stores, lists without the secret, replaces, and deletes idempotently with 204', async () => {
    const created = await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x-client', client_secret: SECRET } });
    expect(created.status).toBe(201);
    expect(created.json!.data).toEqual({ platform: 'twitter', client_id: 'x-client', created_at: expect.any(String) });
    await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x-client-2', client_secret: `${SECRET}-2` } });
    const listed = await call({ method: 'GET', path: '/v1/platform-credentials' });
    expect(listed.json).toEqual({
      data: [{ platform: 'twitter', client_id: 'x-client-2', created_at: expect.any(String) }],
      meta: { total: 1, limit: 1 },
      request_id: expect.any(String),
    });
    for (const response of [created, listed]) expect(response.text).not.toContain(SECRET);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const deleted = await call({ method: 'DELETE', path: '/v1/platform-credentials/twitter' });
      expect(deleted.status).toBe(204);
      expect(deleted.headers.get('x-request-id')).toMatch(/^req_/);
    }
    expect((await call({ method: 'GET', path: '/v1/platform-credentials' })).json!.data).toEqual([]);
  });

  it('answers 402 plan_feature_not_available when the host policy refuses the platform', async () => {
    refusedPlatforms.add('twitter');
    const response = await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x', client_secret: 'y' } });
    expect(response.status).toBe(402);
    expect(response.json!.error.code).toBe('plan_feature_not_available');
  });
});

describe('connect and accounts', () => {
  it('runs the OAuth connect through the sandbox and refuses a replayed callback', async () => {
    const { callbackUrl } = await connectTwitter();
    const replay = await handler(new Request(callbackUrl));
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('state_invalid');
  });

  it('redirects to return_to after the callback when the session asked for it', async () => {
    await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x-client', client_secret: SECRET } });
    const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'twitter', return_to: 'https://app.test/settings' } });
    const consentPage = await (await fetch(session.json!.url)).text();
    const approved = await fetch(new URL('consent', session.json!.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ consent_id: /name="consent_id" value="([^"]+)"/.exec(consentPage)![1]!, decision: 'approve' }),
    });
    const callback = await handler(new Request(approved.headers.get('location')!));
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toMatch(/^https:\/\/app\.test\/settings\?connected=acc_/);
  });

  it('refuses a return_to outside the allowed origins with 422 naming return_to', async () => {
    await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform: 'twitter', client_id: 'x-client', client_secret: SECRET } });
    const refused = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'twitter', return_to: 'https://evil.test/collect' } });
    expect(refused.status).toBe(422);
    expect(refused.json!.error).toMatchObject({ code: 'validation_failed', field: 'return_to' });
  });

  it('needs workspace app credentials unless quickstart is allowed', async () => {
    const response = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'twitter' } });
    expect(response.status).toBe(422);
    expect(response.json!.error.code).toBe('app_credentials_missing');
    // The fix travels with the error, so a page can show it next to the docs link.
    expect(response.json!.error.remediation).toContain('allowQuickstartCreds');
    expect(response.json!.error.doc_url).toMatch(/app_credentials_missing\.md$/);
  });

  it('connects Bluesky with snake_case credentials and hides accounts from other workspaces', async () => {
    const created = await call({
      method: 'POST',
      path: '/v1/accounts',
      body: { platform: 'bluesky', credentials: { identifier: blueskyUser.handle, app_password: blueskyUser.appPassword } },
    });
    expect(created.status).toBe(201);
    expect(created.json!.data).toMatchObject({ platform: 'bluesky', username: blueskyUser.handle, platform_account_id: blueskyUser.did, status: 'active' });
    expect(created.text).not.toContain(blueskyUser.appPassword);
    const wrongField = await call({ method: 'POST', path: '/v1/accounts', body: { platform: 'bluesky', credentials: { identifier: blueskyUser.handle } } });
    expect(wrongField.status).toBe(422);
    expect(JSON.stringify(wrongField.json!.error)).toContain('credentials.app_password');

    expect((await call({ method: 'GET', path: '/v1/accounts', key: 'key-b' })).json!.data).toEqual([]);
    const foreign = await call({ method: 'DELETE', path: `/v1/accounts/${created.json!.data.id}`, key: 'key-b' });
    expect(foreign.status).toBe(404);
    const own = await call({ method: 'DELETE', path: `/v1/accounts/${created.json!.data.id}` });
    expect(own.status).toBe(204);
    expect((await call({ method: 'GET', path: '/v1/accounts' })).json!.data).toEqual([]);
  });
});

describe('POST /v1/posts', () => {
  it('publishes to X and Bluesky, in target order, and honours Idempotency-Key', async () => {
    const { accountId } = await connectTwitter();
    const bluesky = await call({ method: 'POST', path: '/v1/accounts', body: { platform: 'bluesky', credentials: { identifier: blueskyUser.handle, app_password: blueskyUser.appPassword } } });
    const body = { post: { text: 'hello from REST' }, targets: [{ account_id: bluesky.json!.data.id }, { account_id: accountId }] };
    const first = await call({ method: 'POST', path: '/v1/posts', body, headers: { 'idempotency-key': 'post-1' } });
    expect(first.status).toBe(200);
    expect(first.json!.data).toMatchObject([
      { platform: 'bluesky', status: 'published', url: expect.stringMatching(/^https:\/\/bsky\.app\/profile\//), warnings: [] },
      { platform: 'twitter', status: 'published', post_id: expect.any(String), url: expect.stringMatching(/^https:\/\/x\.com\/sandbox_x_user\/status\//) },
    ]);
    expect(sandbox.state.posts).toHaveLength(2);

    const again = await call({ method: 'POST', path: '/v1/posts', body, headers: { 'idempotency-key': 'post-1' } });
    expect(again.json!.data).toEqual(first.json!.data);
    expect(sandbox.state.posts).toHaveLength(2);

    const changed = await call({ method: 'POST', path: '/v1/posts', body: { ...body, post: { text: 'different' } }, headers: { 'idempotency-key': 'post-1' } });
    expect(changed.status).toBe(409);
    expect(changed.json!.error.code).toBe('idempotency_conflict');
  });

  it('validates every target before any write and names snake_case fields', async () => {
    const response = await call({
      method: 'POST',
      path: '/v1/posts',
      body: {
        post: { text: 'x'.repeat(400) },
        targets: [{ platform: 'bluesky', credentials: { identifier: blueskyUser.handle } }],
      },
    });
    expect(response.status).toBe(422);
    const fields = (response.json!.error.issues as Array<{ field?: string; rule?: string }>).map((issue) => issue.field ?? issue.rule);
    expect(fields).toContain('targets.0.credentials.app_password');
    expect(sandbox.state.posts).toHaveLength(0);
    expect(sandbox.state.events.filter((event) => event.kind === 'post')).toHaveLength(0);
  });

  it('reports a dry run without sending anything', async () => {
    const bluesky = await call({ method: 'POST', path: '/v1/accounts', body: { platform: 'bluesky', credentials: { identifier: blueskyUser.handle, app_password: blueskyUser.appPassword } } });
    const response = await call({ method: 'POST', path: '/v1/posts', body: { post: { text: 'dry' }, targets: [{ account_id: bluesky.json!.data.id }], dry_run: true } });
    expect(response.json!.data).toMatchObject([{ status: 'published', dry_run: true, post_id: expect.stringMatching(/^dryrun_/) }]);
    expect(sandbox.state.posts).toHaveLength(0);
  });
});

describe('POST /v1/posts/resume', () => {
  it('finishes a pending X video: pending with check_after_ms, then one post, then the stored result with nothing sent', async () => {
    const { accountId } = await connectTwitter();
    const video = Buffer.from(randomBytes(2500)).toString('base64');
    const published = await call({
      method: 'POST',
      path: '/v1/posts',
      body: { post: { text: 'a video', media: [{ data_base64: video, mime_type: 'video/mp4' }] }, targets: [{ account_id: accountId }] },
    });
    expect(published.json!.data).toMatchObject([{ status: 'pending', check_after_ms: 1000, resume_token: expect.any(String) }]);
    const resumeToken = published.json!.data[0].resume_token as string;

    // The sandbox moves X's processing one step per status read: in_progress, then succeeded.
    const still = await call({ method: 'POST', path: '/v1/posts/resume', body: { resume_token: resumeToken } });
    expect(still.status).toBe(200);
    expect(still.json!.data).toMatchObject({ status: 'pending', platform: 'twitter', account_id: accountId, resume_token: expect.any(String) });
    expect(sandbox.state.posts).toHaveLength(0);

    const done = await call({ method: 'POST', path: '/v1/posts/resume', body: { resume_token: still.json!.data.resume_token } });
    expect(done.json!.data).toMatchObject({ status: 'published', platform: 'twitter', post_id: expect.any(String) });
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['a video']);

    const eventsBefore = sandbox.state.events.length;
    const again = await call({ method: 'POST', path: '/v1/posts/resume', body: { resume_token: resumeToken } });
    expect(again.json!.data).toEqual(done.json!.data);
    expect(sandbox.state.events).toHaveLength(eventsBefore);
    expect(sandbox.state.posts).toHaveLength(1);
  });

  it('refuses a token issued to another workspace, or changed, with 422 naming resume_token', async () => {
    const { accountId } = await connectTwitter();
    const published = await call({
      method: 'POST',
      path: '/v1/posts',
      body: { post: { text: 'v', media: [{ data_base64: Buffer.from(randomBytes(100)).toString('base64'), mime_type: 'video/mp4' }] }, targets: [{ account_id: accountId }] },
    });
    const resumeToken = published.json!.data[0].resume_token as string;
    const foreign = await call({ method: 'POST', path: '/v1/posts/resume', key: 'key-b', body: { resume_token: resumeToken } });
    expect(foreign.status).toBe(422);
    expect(foreign.json!.error).toMatchObject({ code: 'validation_failed', field: 'resume_token', rule: 'resume_token.invalid' });
    const missing = await call({ method: 'POST', path: '/v1/posts/resume', body: {} });
    expect(missing.status).toBe(422);
    expect(missing.json!.error.field).toBe('resume_token');
  });
});

describe('a principal without a workspace', () => {
  it('is refused with a typed 401 on every route, and reaches no workspace’s accounts', async () => {
    const bluesky = await call({ method: 'POST', path: '/v1/accounts', body: { platform: 'bluesky', credentials: { identifier: blueskyUser.handle, app_password: blueskyUser.appPassword } } });
    const accountId = bluesky.json!.data.id as string;
    const logged: string[] = [];
    for (const principal of [{}, { workspaceId: '' }, { workspaceId: undefined }]) {
      const careless = createRestHandler({
        letmepost,
        authenticate: () => principal as { workspaceId: string },
        logger: { log: (_level, message) => void logged.push(message) },
      });
      const attempts = [
        new Request(`${BASE}/v1/accounts`),
        new Request(`${BASE}/v1/accounts/${accountId}`, { method: 'DELETE' }),
        new Request(`${BASE}/v1/posts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ post: { text: 'not yours' }, targets: [{ account_id: accountId }] }),
        }),
      ];
      for (const request of attempts) {
        const response = await careless(request);
        expect(response.status).toBe(401);
        expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'unauthenticated', rule: 'rest.principal_without_workspace' });
      }
    }
    expect(logged).toContain('letmepost.rest.principal_without_workspace');
    expect(sandbox.state.posts).toHaveLength(0);
    expect((await call({ method: 'GET', path: '/v1/accounts' })).json!.data).toHaveLength(1);
  });
});

describe('status mapping', () => {
  it('answers 429 with Retry-After for a rate_limited error', async () => {
    const limited: LetmepostApi = {
      ...(letmepost as unknown as LetmepostApi),
      publish: async () => {
        throw new LetmepostError({ code: 'rate_limited', message: 'Slow down', retryAfterMs: 30_500 });
      },
    };
    const rateLimitedHandler = createRestHandler({ letmepost: limited, authenticate: () => ({ workspaceId: 'ws-a' }) });
    const response = await rateLimitedHandler(
      new Request(`${BASE}/v1/posts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ post: { text: 'a' }, targets: [{ account_id: 'acc_1' }] }),
      }),
    );
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('31');
    expect(((await response.json()) as { error: { code: string; retry_after_ms: number } }).error).toMatchObject({ code: 'rate_limited', retry_after_ms: 30_500 });
  });
});

describe('platform faults from the sandbox', () => {
  it('reports a create whose answer was lost as unknown, and a 429 as rate_limited with its reset', async () => {
    const { accountId } = await connectTwitter();
    sandbox.setFault('twitter', { kind: 'drop_after_record', remaining: 1 });
    const dropped = await call({ method: 'POST', path: '/v1/posts', body: { post: { text: 'did it land?' }, targets: [{ account_id: accountId }] } });
    expect(dropped.status).toBe(200);
    expect(dropped.json!.data).toMatchObject([{ platform: 'twitter', status: 'unknown', error: { code: 'publish_outcome_unknown' } }]);
    // It did land: the sandbox recorded it, which is exactly why it must not be re-sent blindly.
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['did it land?']);

    sandbox.setFault('twitter', { kind: 'rate_limit', resetSeconds: 120, remaining: 1 });
    const limited = await call({ method: 'POST', path: '/v1/posts', body: { post: { text: 'second' }, targets: [{ account_id: accountId }] } });
    expect(limited.json!.data).toMatchObject([{ status: 'failed', error: { code: 'rate_limited' } }]);
    expect(limited.json!.data[0].error.retry_after_ms).toBeGreaterThan(100_000);
    expect(sandbox.state.posts).toHaveLength(1);
  });
});
