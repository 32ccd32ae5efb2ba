import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CONNECT_SESSION_TTL_MS } from './connect.js';
import {
  INSTANCE_CLIENT_SECRET,
  connectAccount,
  createHarness,
  createTestProvider,
  errorOf,
  type Harness,
} from './test-support/test-provider.js';

const REDIRECT_URI = 'https://app.example.com/v1/accounts/oauth/linkedin/callback';

function callbackFor({ url, code = 'code-1', platform = 'linkedin' }: { url: string; code?: string; platform?: string }): string {
  const state = new URL(url).searchParams.get('state') ?? '';
  return `https://app.example.com/v1/accounts/oauth/${platform}/callback?code=${code}&state=${encodeURIComponent(state)}`;
}

async function startQuickstart(harness: Harness, workspaceId = 'ws-1') {
  return harness.letmepost.connect.start({ workspaceId, platform: 'linkedin', allowQuickstartCreds: true });
}

describe('connect.start', () => {
  it('builds the authorization URL with a fresh state and only the S256 challenge of a server-side verifier', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);

    const url = new URL(started.url);
    const state = url.searchParams.get('state') ?? '';
    expect(state).toMatch(/^[A-Za-z0-9_-]{43,}$/); // >= 32 random bytes, base64url
    expect(Buffer.from(state, 'base64url').byteLength).toBeGreaterThanOrEqual(32);
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(url.searchParams.get('client_id')).toBe('instance-client-id');
    expect(url.searchParams.get('scope')).toBe('w_member_social openid');
    expect(started.sessionId).toMatch(/^cs_[A-Za-z0-9_-]{22}$/);
    expect(started.expiresAt).toBe(harness.clock.now() + CONNECT_SESSION_TTL_MS);

    const challenge = url.searchParams.get('code_challenge') ?? '';
    await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) });
    const { codeVerifier } = provider.calls.exchangeCode[0]!;
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(createHash('sha256').update(codeVerifier).digest('base64url')).toBe(challenge);
    expect(started.url).not.toContain(codeVerifier);
  });

  it('keeps the verifier and the app secret out of the store in clear and out of the logs', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const dump = await harness.dump();
    const state = new URL(started.url).searchParams.get('state') ?? '';

    expect(dump).toContain('connect-sessions/');
    expect(dump).not.toContain(state); // keyed by a digest of the state
    expect(dump).not.toContain(INSTANCE_CLIENT_SECRET);
    expect(JSON.stringify(harness.logs)).not.toContain(state);

    await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) });
    const { codeVerifier } = provider.calls.exchangeCode[0]!;
    expect(dump).not.toContain(codeVerifier);
    expect(JSON.stringify(harness.logs)).not.toContain(codeVerifier);
  });

  it('uses the extended scope set on request, on top of the write scopes', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const started = await harness.letmepost.connect.start({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      allowQuickstartCreds: true,
      scopes: 'extended',
    });
    expect(new URL(started.url).searchParams.get('scope')).toBe('w_member_social openid w_organization_social');
  });

  it('normalises a trailing slash on baseUrl so the redirect URI stays exact', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider], baseUrl: 'https://app.example.com/api/' });
    const started = await startQuickstart(harness);
    expect(new URL(started.url).searchParams.get('redirect_uri')).toBe(
      'https://app.example.com/api/v1/accounts/oauth/linkedin/callback',
    );
  });

  it('refuses without workspace app credentials unless the quickstart app is allowed', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const refused = await errorOf(harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' }));
    expect(refused.code).toBe('app_credentials_missing');
    expect(refused.remediation).toContain('allowQuickstartCreds');
  });

  it('refuses quickstart when the provider has no instance-wide app', async () => {
    const harness = createHarness({ providers: [createTestProvider({ defaultClient: null })] });
    const refused = await errorOf(startQuickstart(harness));
    expect(refused.code).toBe('app_credentials_missing');
  });

  it("prefers the workspace's own app over the instance app, even with quickstart allowed", async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.appCredentials.put({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      clientId: 'ws-client',
      clientSecret: 'canary-ws-secret-1234',
    });
    const started = await startQuickstart(harness);
    expect(new URL(started.url).searchParams.get('client_id')).toBe('ws-client');

    await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) });
    expect(provider.calls.exchangeCode[0]?.client).toEqual({ clientId: 'ws-client', clientSecret: 'canary-ws-secret-1234' });
  });

  it('completes with the app the session started with, even if the workspace replaced it meanwhile', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const put = (clientId: string, clientSecret: string) =>
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId, clientSecret });
    await put('first-client', 'first-secret-123');
    const started = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' });
    await put('second-client', 'second-secret-456');
    await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) });
    expect(provider.calls.exchangeCode[0]?.client.clientId).toBe('first-client');
  });

  it('names unknown platforms, unregistered providers and providers without OAuth', async () => {
    const bluesky = createTestProvider({ id: 'bluesky', auth: { kind: 'credentials' }, without: ['authorizationUrl', 'exchangeCode'] });
    const harness = createHarness({ providers: [createTestProvider(), bluesky] });

    const unknown = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'myspace' as never, allowQuickstartCreds: true }),
    );
    expect(unknown.code).toBe('validation_failed');
    expect(unknown.field).toBe('platform');

    const unregistered = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'tiktok', allowQuickstartCreds: true }),
    );
    // The caller can pick another platform: a validation failure naming the installed ones.
    expect(unregistered.code).toBe('validation_failed');
    expect(unregistered.rule).toBe('platform.not_installed');
    expect(unregistered.field).toBe('platform');
    expect(unregistered.message).toContain('tiktok');
    expect(unregistered.message).toMatch(/installed: .*bluesky/);

    const noOAuth = await errorOf(
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'bluesky', allowQuickstartCreds: true }),
    );
    expect(noOAuth.code).toBe('not_supported');
    expect(noOAuth.remediation).toContain('connect.withCredentials');
  });

  it('validates workspaceId and returnTo', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const emptyWorkspace = await errorOf(
      harness.letmepost.connect.start({ workspaceId: '', platform: 'linkedin', allowQuickstartCreds: true }),
    );
    expect(emptyWorkspace.code).toBe('validation_failed');
    expect(emptyWorkspace.field).toBe('workspaceId');
    const badReturn = await errorOf(
      harness.letmepost.connect.start({
        workspaceId: 'ws-1',
        platform: 'linkedin',
        allowQuickstartCreds: true,
        returnTo: 'javascript:alert(1)',
      }),
    );
    expect(badReturn.field).toBe('returnTo');
  });

  it('with returnToOrigins, refuses a returnTo elsewhere before anything is stored, and accepts its own origins', async () => {
    const harness = createHarness({ providers: [createTestProvider()], returnToOrigins: ['https://app.example.com', 'http://localhost:3000'] });
    const start = (returnTo: string) =>
      harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin', allowQuickstartCreds: true, returnTo });
    for (const elsewhere of ['https://evil.example/steal', 'https://app.example.com.evil.example/', 'http://app.example.com/settings', 'https://app.example.com:8443/']) {
      const refused = await errorOf(start(elsewhere));
      expect(refused).toMatchObject({ code: 'validation_failed', field: 'returnTo' });
      expect(refused.message).toBe('returnTo must be on one of the origins allowed by returnToOrigins (https://app.example.com, http://localhost:3000).');
    }
    expect(await harness.dump()).toBe('');
    await start('https://app.example.com/settings/accounts?tab=social');
    await start('http://localhost:3000/done');
    expect((await harness.store.list('')).length).toBe(2);
  });

  it('refuses returnToOrigins entries that are not bare origins, naming the entry', async () => {
    for (const [entry, field] of [
      ['https://app.example.com/', 'returnToOrigins.0'],
      ['https://app.example.com/settings', 'returnToOrigins.0'],
      ['app.example.com', 'returnToOrigins.0'],
      ['ftp://files.example.com', 'returnToOrigins.0'],
    ] as const) {
      const error = await errorOf(Promise.resolve().then(() => createHarness({ providers: [createTestProvider()], returnToOrigins: [entry] })));
      expect(error).toMatchObject({ code: 'validation_failed', field });
    }
  });
});

describe('connect.complete', () => {
  it('exchanges the code with the same redirect URI, stores the account and returns it without secrets', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const accounts = await harness.letmepost.connect.complete({
      platform: 'linkedin',
      callbackUrl: callbackFor({ url: started.url, code: 'canary-code-9d1' }),
    });

    expect(provider.calls.exchangeCode).toHaveLength(1);
    const exchange = provider.calls.exchangeCode[0]!;
    expect(exchange.redirectUri).toBe(REDIRECT_URI);
    expect(exchange.redirectUri).toBe(provider.calls.authorizationUrl[0]?.redirectUri);
    expect(exchange.state).toBe(new URL(started.url).searchParams.get('state'));
    expect(exchange.callbackUrl.searchParams.get('code')).toBe('canary-code-9d1');
    expect(provider.calls.listAccounts[0]?.tokens.accessToken).toBe('access-canary-code-9d1');

    expect(accounts).toEqual([
      {
        id: expect.stringMatching(/^acc_/),
        workspaceId: 'ws-1',
        platform: 'linkedin',
        platformAccountId: 'member-1',
        kind: 'person',
        username: 'alice',
        displayName: 'Alice',
        status: 'active',
        scopes: ['w_member_social'],
        expiresAt: harness.clock.now() + 3_600_000,
        reauthBy: harness.clock.now() + 365 * 24 * 3_600_000,
        createdAt: harness.clock.now(),
        updatedAt: harness.clock.now(),
      },
    ]);

    const exposed = JSON.stringify(accounts) + inspect(accounts) + JSON.stringify(harness.logs) + (await harness.dump());
    expect(exposed).not.toContain('access-canary-code-9d1');
    expect(exposed).not.toContain('refresh-canary-code-9d1');
    expect(exposed).not.toContain(INSTANCE_CLIENT_SECRET);
    expect(harness.logs.find((entry) => entry.message === 'letmepost.connect.completed')).toEqual({
      level: 'info',
      message: 'letmepost.connect.completed',
      fields: {
        workspaceId: 'ws-1',
        platform: 'linkedin',
        connectId: started.sessionId,
        clientSource: 'quickstart',
        accountIds: [accounts[0]!.id],
      },
    });
  });

  it('refuses a replayed callback with state_invalid', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const callbackUrl = callbackFor({ url: started.url });
    await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl });
    const replay = await errorOf(harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl }));
    expect(replay.code).toBe('state_invalid');
    expect(provider.calls.exchangeCode).toHaveLength(1);
  });

  it('lets exactly one of two concurrent completes with the same callback succeed', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const callbackUrl = callbackFor({ url: started.url });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl })),
    );
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected.map((outcome) => (outcome.reason as { code: string }).code)).toEqual(Array(4).fill('state_invalid'));
    expect(provider.calls.exchangeCode).toHaveLength(1);
  });

  it('refuses an expired session', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    harness.clock.advance(CONNECT_SESSION_TTL_MS + 1);
    const expired = await errorOf(
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) }),
    );
    expect(expired.code).toBe('state_invalid');
    expect(provider.calls.exchangeCode).toHaveLength(0);
  });

  it('refuses a callback without state, with an unknown state, or for another platform', async () => {
    const twitter = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [createTestProvider(), twitter] });
    const started = await startQuickstart(harness);

    const noState = await errorOf(
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: `${REDIRECT_URI}?code=abc` }),
    );
    expect(noState.code).toBe('state_invalid');
    const unknownState = await errorOf(
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: `${REDIRECT_URI}?code=abc&state=forged` }),
    );
    expect(unknownState.code).toBe('state_invalid');

    const mismatch = await errorOf(
      harness.letmepost.connect.complete({ platform: 'twitter', callbackUrl: callbackFor({ url: started.url, platform: 'twitter' }) }),
    );
    expect(mismatch.code).toBe('state_invalid');
    expect(mismatch.message).toContain('linkedin');
    expect(twitter.calls.exchangeCode).toHaveLength(0);
  });

  it('maps error=access_denied on the callback to platform_auth_failed and spends the session', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const state = new URL(started.url).searchParams.get('state') ?? '';
    const callbackUrl = `${REDIRECT_URI}?error=access_denied&error_description=The+user+denied&state=${state}`;
    const denied = await errorOf(harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl }));
    expect(denied.code).toBe('platform_auth_failed');
    expect(denied.message).toContain('access_denied');
    expect(denied.message).toContain('The user denied');
    expect(provider.calls.exchangeCode).toHaveLength(0);
    const again = await errorOf(harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) }));
    expect(again.code).toBe('state_invalid');
  });

  it('passes through the provider error when the exchange fails', async () => {
    const provider = createTestProvider({
      exchangeCode: async () => {
        throw new Error('socket hang up while sending code=canary-code-xyz');
      },
    });
    const harness = createHarness({ providers: [provider] });
    const started = await startQuickstart(harness);
    const failed = await errorOf(
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) }),
    );
    expect(failed.code).toBe('platform_auth_failed');
    expect(failed.message).not.toContain('canary-code-xyz');
  });

  it('stores every account one grant yields, each with its own tokens', async () => {
    const provider = createTestProvider({
      id: 'facebook',
      listAccounts: async () => [
        { platformAccountId: 'page-1', kind: 'page', displayName: 'Page One', tokens: { accessToken: 'canary-page-token-1' } },
        { platformAccountId: 'page-2', kind: 'page', displayName: 'Page Two', tokens: { accessToken: 'canary-page-token-2' } },
      ],
    });
    const harness = createHarness({ providers: [provider] });
    const accounts = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'facebook' });
    expect(accounts.map((account) => account.platformAccountId)).toEqual(['page-1', 'page-2']);

    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'hi' }, targets: [{ accountId: accounts[1]!.id }] });
    const auth = provider.calls.publish[0]?.auth;
    expect(auth?.type === 'account' && auth.tokens.accessToken).toBe('canary-page-token-2');
    expect(await harness.dump()).not.toContain('canary-page-token');
  });

  it('fails clearly when the grant gives access to no account', async () => {
    const harness = createHarness({ providers: [createTestProvider({ listAccounts: async () => [] })] });
    const failed = await errorOf(connectAccount({ harness, workspaceId: 'ws-1' }));
    expect(failed.code).toBe('platform_auth_failed');
  });

  it('updates the existing account on reconnect (same id) and clears reauth_required', async () => {
    const provider = createTestProvider({
      refresh: async () => {
        throw new (await import('./letmepost-error.js')).LetmepostError({
          code: 'reauth_required',
          platform: 'linkedin',
          message: 'invalid_grant',
        });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [first] = await connectAccount({ harness, workspaceId: 'ws-1', code: 'one' });
    harness.clock.advance(2 * 3_600_000);
    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: first!.id }] });
    expect(result?.error?.code).toBe('reauth_required');
    expect((await harness.letmepost.accounts.get({ accountId: first!.id })).status).toBe('reauth_required');

    const [second] = await connectAccount({ harness, workspaceId: 'ws-1', code: 'two' });
    expect(second?.id).toBe(first?.id);
    expect(second?.status).toBe('active');
    expect(second?.createdAt).toBe(first?.createdAt);
    expect(second?.updatedAt).toBeGreaterThan(first!.updatedAt);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(1);
    const [published] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: first!.id }] });
    expect(published?.status).toBe('published');
  });

  it('ends with one account when two callbacks for the same platform account finish at once', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const first = await startQuickstart(harness);
    const second = await startQuickstart(harness);
    const [one, two] = await Promise.all([
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: first.url, code: 'a' }) }),
      harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: second.url, code: 'b' }) }),
    ]);
    expect(one[0]?.id).toBe(two[0]?.id);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(1);
  });

  it('keeps the same platform account in two workspaces as two accounts', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const [inOne] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const [inTwo] = await connectAccount({ harness, workspaceId: 'ws-2' });
    expect(inOne?.id).not.toBe(inTwo?.id);
  });

  it('gives returnTo and the workspace back through completeSession', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const started = await harness.letmepost.connect.start({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      allowQuickstartCreds: true,
      returnTo: 'https://app.example.com/settings/accounts',
    });
    const completion = await harness.letmepost.connect.completeSession({
      platform: 'linkedin',
      callbackUrl: new URL(callbackFor({ url: started.url })),
    });
    expect(completion).toMatchObject({
      sessionId: started.sessionId,
      workspaceId: 'ws-1',
      platform: 'linkedin',
      returnTo: 'https://app.example.com/settings/accounts',
    });
    expect(completion.accounts).toHaveLength(1);
  });

  it('keeps refreshing connected accounts after the workspace deletes its app credentials', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.appCredentials.put({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      clientId: 'ws-client',
      clientSecret: 'canary-ws-secret-5678',
    });
    const started = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' });
    const [account] = await harness.letmepost.connect.complete({ platform: 'linkedin', callbackUrl: callbackFor({ url: started.url }) });
    await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'linkedin' });

    harness.clock.advance(2 * 3_600_000);
    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: account!.id }] });
    expect(result?.status).toBe('published');
    expect(provider.calls.refresh[0]?.client).toEqual({ clientId: 'ws-client', clientSecret: 'canary-ws-secret-5678' });
    expect(await harness.dump()).not.toContain('canary-ws-secret-5678');
  });
});

describe('connect.withCredentials', () => {
  it('validates credentials with the provider schema, naming the field, before any call', async () => {
    const provider = createTestProvider({ id: 'bluesky', auth: { kind: 'credentials' } });
    const harness = createHarness({ providers: [provider] });
    const failed = await errorOf(
      harness.letmepost.connect.withCredentials({
        workspaceId: 'ws-1',
        platform: 'bluesky',
        credentials: { accessToken: 'canary-token-abc' },
      }),
    );
    expect(failed.code).toBe('validation_failed');
    expect(failed.field).toBe('credentials.pageId');
    expect(JSON.stringify(failed)).not.toContain('canary-token-abc');
    expect(provider.calls.connectWithCredentials).toHaveLength(0);
  });

  it('connects, stores the session sealed and returns the account', async () => {
    const provider = createTestProvider({ id: 'bluesky', auth: { kind: 'credentials' } });
    const harness = createHarness({ providers: [provider] });
    const account = await harness.letmepost.connect.withCredentials({
      workspaceId: 'ws-1',
      platform: 'bluesky',
      credentials: { accessToken: 'canary-token-abc', pageId: 'p1' },
    });
    expect(account).toMatchObject({ platform: 'bluesky', platformAccountId: 'page-p1', kind: 'page', status: 'active' });
    expect(await harness.dump()).not.toContain('canary-token-abc');
    expect(JSON.stringify(account)).not.toContain('canary-token-abc');

    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'hi' }, targets: [{ accountId: account.id }] });
    const auth = provider.calls.publish[0]?.auth;
    expect(auth?.type === 'account' && auth.tokens.accessToken).toBe('canary-token-abc');
  });

  it('masks the credentials in a provider failure', async () => {
    const provider = createTestProvider({
      id: 'bluesky',
      auth: { kind: 'credentials' },
      connectWithCredentials: async ({ credentials }) => {
        throw new Error(`login failed for ${credentials.accessToken}`);
      },
    });
    const harness = createHarness({ providers: [provider] });
    const failed = await errorOf(
      harness.letmepost.connect.withCredentials({
        workspaceId: 'ws-1',
        platform: 'bluesky',
        credentials: { accessToken: 'canary-token-def', pageId: 'p1' },
      }),
    );
    expect(failed.code).toBe('platform_auth_failed');
    expect(failed.message).not.toContain('canary-token-def');
  });

  it('is not_supported for a provider without a credentials connect', async () => {
    const harness = createHarness({ providers: [createTestProvider({ without: ['connectWithCredentials'] })] });
    const failed = await errorOf(
      harness.letmepost.connect.withCredentials({ workspaceId: 'ws-1', platform: 'linkedin', credentials: {} }),
    );
    expect(failed.code).toBe('not_supported');
    expect(failed.remediation).toContain('connect.start');
  });
});
