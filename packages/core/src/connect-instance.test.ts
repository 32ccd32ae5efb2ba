import { afterEach, describe, expect, it } from 'vitest';
import { createLetmepost } from './create-letmepost.js';
import { memoryTokenStore } from './memory-token-store.js';
import { storeKeys } from './store-layout.js';
import { createInstanceProvider } from './test-support/instance-provider.js';
import { sendJson, startLoopback, type Loopback, type WireRequest } from './test-support/loopback.js';
import { TEST_ENCRYPTION_KEY, createHarness, createTestProvider, errorOf, type Harness } from './test-support/test-provider.js';

const REDIRECT_URI = 'https://app.example.com/v1/accounts/oauth/mastodon/callback';
const APP_SECRET = 'canary-registered-app-secret-91c2';
const ACCESS_TOKEN = 'canary-instance-access-token-5d7e';

const open: Loopback[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

/** A Mastodon-like instance: app registration, token endpoint and identity, on 127.0.0.1. */
async function startInstance({ registrationDelayMs = 0, registrationStatus = 200, forgetsApps = false } = {}): Promise<Loopback> {
  let registered = 0;
  const server = await startLoopback({
    async handle(request, response) {
      const path = new URL(request.url, 'http://x').pathname;
      if (request.method === 'POST' && path === '/api/v1/apps') {
        await new Promise((resolve) => setTimeout(resolve, registrationDelayMs));
        if (registrationStatus !== 200) return sendJson({ response, status: registrationStatus, body: { error: 'Validation failed' } });
        registered += 1;
        return sendJson({ response, body: { id: String(registered), client_id: `app-${registered}`, client_secret: `${APP_SECRET}-${registered}` } });
      }
      if (request.method === 'POST' && path === '/oauth/token') {
        // A server that vacuumed its apps knows only the latest one it registered.
        if (forgetsApps && new URLSearchParams(request.body).get('client_id') !== `app-${registered}`) {
          return sendJson({ response, status: 401, body: { error: 'invalid_client' } });
        }
        return sendJson({ response, body: { access_token: ACCESS_TOKEN, token_type: 'Bearer' } });
      }
      if (request.method === 'GET' && path === '/api/v1/accounts/verify_credentials') {
        return sendJson({ response, body: { id: '109', username: 'alice' } });
      }
      return sendJson({ response, status: 404, body: { error: 'not found' } });
    },
  });
  open.push(server);
  return server;
}

const registrations = (server: Loopback): WireRequest[] =>
  server.requests.filter((request) => request.method === 'POST' && request.url === '/api/v1/apps');

function callbackFor(url: string, code = 'code-1'): string {
  const state = new URL(url).searchParams.get('state') ?? '';
  return `${REDIRECT_URI}?code=${code}&state=${encodeURIComponent(state)}`;
}

async function start(harness: Harness, server: Loopback, workspaceId = 'ws-1') {
  return harness.letmepost.connect.start({ workspaceId, platform: 'mastodon', params: { instanceUrl: server.origin } });
}

describe('connect params', () => {
  it('refuses params the provider schema rejects, naming params.<field>, before any request or write', async () => {
    const server = await startInstance();
    const harness = createHarness({ providers: [createInstanceProvider()] });
    const missing = await errorOf(harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'mastodon' }));
    expect([missing.code, missing.field]).toEqual(['validation_failed', 'params.instanceUrl']);
    const wrong = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'mastodon', params: { instanceUrl: 'ftp://x.example' } }),
    );
    expect([wrong.code, wrong.field]).toEqual(['validation_failed', 'params.instanceUrl']);
    expect(server.requests).toEqual([]);
    expect(await harness.dump()).toBe('');
  });

  it('refuses params for a provider that takes none', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const refused = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin', allowQuickstartCreds: true, params: { instanceUrl: 'https://x.example' } }),
    );
    expect([refused.code, refused.field]).toEqual(['validation_failed', 'params']);
    expect(await harness.dump()).toBe('');
  });

  it('refuses params that name no server (connectInstance gives no host, or throws), storing nothing', async () => {
    for (const connectInstance of [() => 'https://x.example/path', () => { throw new TypeError('Invalid URL'); }]) {
      const harness = createHarness({
        providers: [createTestProvider({ id: 'mastodon', connectParamsSchema: createInstanceProvider().connectParamsSchema as never, connectInstance })],
      });
      const refused = await errorOf(
        harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'mastodon', allowQuickstartCreds: true, params: { instanceUrl: 'https://x.example' } }),
      );
      expect([refused.code, refused.field]).toEqual(['validation_failed', 'params']);
      expect(await harness.dump()).toBe('');
    }
  });

  it('hands the parsed params to authorizationUrl, exchangeCode and listAccounts, and keeps them sealed in the session', async () => {
    const server = await startInstance();
    const provider = createInstanceProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await start(harness, server);
    expect(started.url.startsWith(`${server.origin}/oauth/authorize?`)).toBe(true);
    const session = (await harness.store.list('connect-sessions/'))[0]!;
    expect(JSON.parse(session.value)).toMatchObject({ instance: server.host, clientSource: 'registered', params: expect.stringMatching(/^lmp1\./) });
    expect(await harness.open({ key: session.key, field: 'params' })).toEqual({ instanceUrl: server.origin });

    const [account] = await harness.letmepost.connect.complete({ platform: 'mastodon', callbackUrl: callbackFor(started.url) });
    expect(account).toMatchObject({ platform: 'mastodon', platformAccountId: '109', username: 'alice' });
    expect(provider.calls.authorizationUrl[0]?.params).toEqual({ instanceUrl: server.origin });
    expect(provider.calls.exchangeCode[0]?.params).toEqual({ instanceUrl: server.origin });
    expect(provider.calls.listAccounts[0]?.params).toEqual({ instanceUrl: server.origin });
  });
});

describe('registerClient', () => {
  it('registers once at the instance, caches the app sealed under clients/<platform>/<instance>, and connects with it', async () => {
    const server = await startInstance();
    const harness = createHarness({ providers: [createInstanceProvider()] });
    const started = await start(harness, server);

    const [registration] = registrations(server);
    expect(registrations(server)).toHaveLength(1);
    expect(registration?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(registration?.body ?? '')).toEqual({
      client_name: 'letmepost test',
      redirect_uris: [REDIRECT_URI],
      scopes: 'write:statuses profile read',
    });
    expect(new URL(started.url).searchParams.get('client_id')).toBe('app-1');
    expect(new URL(started.url).searchParams.get('redirect_uri')).toBe(REDIRECT_URI);

    const key = storeKeys.registeredClient({ platform: 'mastodon', instance: server.host });
    expect(key).toBe(`clients/mastodon/127.0.0.1%3A${new URL(server.origin).port}`);
    const raw = await harness.store.get(key);
    expect(JSON.parse(raw?.value ?? '{}')).toMatchObject({ v: 1, platform: 'mastodon', instance: server.host, redirectUri: REDIRECT_URI });
    expect(await harness.open({ key, field: 'client' })).toEqual({ clientId: 'app-1', clientSecret: `${APP_SECRET}-1` });

    await harness.letmepost.connect.complete({ platform: 'mastodon', callbackUrl: callbackFor(started.url) });
    const token = server.requests.find((request) => request.url === '/oauth/token');
    const form = new URLSearchParams(token?.body);
    expect(form.get('client_id')).toBe('app-1');
    expect(form.get('client_secret')).toBe(`${APP_SECRET}-1`);
    expect(form.get('redirect_uri')).toBe(REDIRECT_URI);
    const identity = server.requests.find((request) => request.url === '/api/v1/accounts/verify_credentials');
    expect(identity?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);

    // Nothing secret at rest in clear, nor in the logs.
    const dump = await harness.dump();
    expect(dump).not.toContain(APP_SECRET);
    expect(dump).not.toContain(ACCESS_TOKEN);
    expect(JSON.stringify(harness.logs)).not.toContain(APP_SECRET);
  });

  it('re-uses the cached app for later sessions and other workspaces: zero further registration requests', async () => {
    const server = await startInstance();
    const harness = createHarness({ providers: [createInstanceProvider()] });
    await start(harness, server, 'ws-1');
    const second = await start(harness, server, 'ws-1');
    const third = await start(harness, server, 'ws-2');
    expect(registrations(server)).toHaveLength(1);
    expect(new URL(second.url).searchParams.get('client_id')).toBe('app-1');
    expect(new URL(third.url).searchParams.get('client_id')).toBe('app-1');
  });

  it('registers once when sessions on two letmepost instances sharing a store start at the same moment', async () => {
    const server = await startInstance({ registrationDelayMs: 50 });
    const store = memoryTokenStore();
    // Two instances = two processes: in-process single flight cannot help, the store lease must.
    const instances = [0, 1].map(() =>
      createLetmepost({ providers: [createInstanceProvider()], store, encryptionKey: TEST_ENCRYPTION_KEY, baseUrl: 'https://app.example.com' }),
    );
    const started = await Promise.all(
      instances.flatMap((letmepost, index) =>
        [0, 1, 2].map((session) =>
          letmepost.connect.start({ workspaceId: `ws-${index}-${session}`, platform: 'mastodon', params: { instanceUrl: server.origin } }),
        ),
      ),
    );
    expect(registrations(server)).toHaveLength(1);
    expect(new Set(started.map((session) => new URL(session.url).searchParams.get('client_id')))).toEqual(new Set(['app-1']));
    expect(await store.list('clients/')).toHaveLength(1);
  });

  it('keeps one app per instance: another instance registers its own', async () => {
    const first = await startInstance();
    const second = await startInstance();
    const harness = createHarness({ providers: [createInstanceProvider()] });
    await start(harness, first);
    await start(harness, second);
    await start(harness, first);
    expect([registrations(first).length, registrations(second).length]).toEqual([1, 1]);
    expect((await harness.store.list('clients/mastodon/')).map((entry) => entry.key)).toHaveLength(2);
  });

  it("prefers the workspace's own app for that instance and then registers nothing", async () => {
    const server = await startInstance();
    const harness = createHarness({ providers: [createInstanceProvider()] });
    await harness.letmepost.appCredentials.put({
      workspaceId: 'ws-1',
      platform: 'mastodon',
      instance: server.host,
      clientId: 'own-app',
      clientSecret: 'canary-own-app-secret-12',
    });
    const started = await start(harness, server);
    expect(new URL(started.url).searchParams.get('client_id')).toBe('own-app');
    expect(registrations(server)).toHaveLength(0);
    // Another workspace without its own app gets the registered one.
    const other = await start(harness, server, 'ws-2');
    expect(new URL(other.url).searchParams.get('client_id')).toBe('app-1');
  });

  it('registers anew when the redirect URI changed (another baseUrl) or the app is about to be retired', async () => {
    const server = await startInstance();
    const store = memoryTokenStore();
    const first = createHarness({ providers: [createInstanceProvider()], store });
    await start(first, server);
    const moved = createHarness({ providers: [createInstanceProvider()], store, baseUrl: 'https://new.example.com' });
    const started = await start(moved, server);
    expect(registrations(server)).toHaveLength(2);
    expect(JSON.parse(registrations(server)[1]?.body ?? '').redirect_uris).toEqual(['https://new.example.com/v1/accounts/oauth/mastodon/callback']);
    expect(new URL(started.url).searchParams.get('client_id')).toBe('app-2');

    // An app whose secret expires within the skew is not handed to a session.
    const key = storeKeys.registeredClient({ platform: 'mastodon', instance: server.host });
    const entry = (await store.get(key))!;
    await store.set(key, JSON.stringify({ ...JSON.parse(entry.value), expiresAt: moved.clock.now() + 60_000 }), { expectedVersion: entry.version });
    await start(moved, server);
    expect(registrations(server)).toHaveLength(3);
  });

  it('fails the start when registration fails, caching nothing and storing no session', async () => {
    const server = await startInstance({ registrationStatus: 422 });
    const harness = createHarness({ providers: [createInstanceProvider()] });
    const failure = await errorOf(start(harness, server));
    expect([failure.code, failure.status]).toEqual(['platform_auth_failed', 422]);
    expect(await harness.dump()).toBe('');
    expect(harness.logs.some((line) => line.message === 'letmepost.client_registration.failed')).toBe(true);
  });

  it("refuses a provider's registration answer of the wrong shape", async () => {
    const harness = createHarness({
      providers: [
        createTestProvider({
          id: 'mastodon',
          defaultClient: null,
          connectParamsSchema: createInstanceProvider().connectParamsSchema as never,
          connectInstance: () => 'x.example',
          registerClient: async () => ({ client: { clientId: '' } }),
        }),
      ],
    });
    const failure = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'mastodon', params: { instanceUrl: 'https://x.example' } }),
    );
    expect([failure.code, failure.issues[0]?.field]).toEqual(['platform_auth_failed', 'registerClient.client.clientId']);
    expect(await harness.dump()).toBe('');
  });

  it('forgets a registered app the instance no longer knows (invalid_client), so the next session registers anew', async () => {
    const server = await startInstance({ forgetsApps: true });
    const harness = createHarness({ providers: [createInstanceProvider()] });
    const first = await start(harness, server);
    // Another host registered meanwhile and the server vacuumed our app (Mastodon before 4.3).
    await fetch(`${server.origin}/api/v1/apps`, { method: 'POST', body: '{}' });
    const failure = await errorOf(harness.letmepost.connect.complete({ platform: 'mastodon', callbackUrl: callbackFor(first.url) }));
    expect([failure.code, failure.rule]).toEqual(['platform_auth_failed', 'oauth.invalid_client']);
    expect(failure.remediation).toContain('registered again');
    expect(await harness.store.list('clients/')).toEqual([]);

    const second = await start(harness, server);
    expect(registrations(server)).toHaveLength(3);
    expect(new URL(second.url).searchParams.get('client_id')).toBe('app-3');
    const [account] = await harness.letmepost.connect.complete({ platform: 'mastodon', callbackUrl: callbackFor(second.url) });
    expect(account?.platformAccountId).toBe('109');
  });

  it('keeps the cached app when a workspace app is refused: only registered apps are forgotten', async () => {
    const server = await startInstance({ forgetsApps: true });
    const harness = createHarness({ providers: [createInstanceProvider()] });
    await start(harness, server, 'ws-2');
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'mastodon', instance: server.host, clientId: 'own', clientSecret: 'canary-own-secret-34' });
    const own = await start(harness, server, 'ws-1');
    const failure = await errorOf(harness.letmepost.connect.complete({ platform: 'mastodon', callbackUrl: callbackFor(own.url) }));
    expect(failure.rule).toBe('oauth.invalid_client');
    expect(await harness.store.list('clients/')).toHaveLength(1);
  });
});
