import { describe, expect, it } from 'vitest';
import { storeKeys } from './store-layout.js';
import { createHarness, createTestProvider, errorOf } from './test-support/test-provider.js';

const SECRET = 'canary-app-secret-4b1e';

describe('appCredentials', () => {
  it('stores the pair with the secret sealed; list shows platform, clientId and createdAt only', async () => {
    const harness = createHarness({ providers: [createTestProvider(), createTestProvider({ id: 'twitter' })] });
    const stored = await harness.letmepost.appCredentials.put({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      clientId: 'client-1',
      clientSecret: SECRET,
    });
    expect(stored).toEqual({ platform: 'linkedin', clientId: 'client-1', createdAt: harness.clock.now() });

    const listed = await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' });
    expect(listed).toEqual([{ platform: 'linkedin', clientId: 'client-1', createdAt: harness.clock.now() }]);
    expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-2' })).toEqual([]);

    const dump = await harness.dump();
    expect(dump).not.toContain(SECRET);
    expect(dump).toMatch(/"clientSecret":"lmp1\./);
    expect(await harness.open({ key: storeKeys.appCredentials({ workspaceId: 'ws-1', platform: 'linkedin' }), field: 'clientSecret' })).toBe(
      SECRET,
    );
    expect(JSON.stringify(harness.logs)).not.toContain(SECRET);
  });

  it('replaces the previous pair on put', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const put = (clientId: string) =>
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId, clientSecret: `${SECRET}-${clientId}` });
    await put('old');
    harness.clock.advance(5000);
    await put('new');
    expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toEqual([
      { platform: 'linkedin', clientId: 'new', createdAt: harness.clock.now() },
    ]);
    const started = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' });
    expect(new URL(started.url).searchParams.get('client_id')).toBe('new');
  });

  it('removes idempotently, affecting only future connect sessions', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'c', clientSecret: SECRET });
    await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'linkedin' });
    await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'linkedin' });
    await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'tiktok' });
    expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toEqual([]);
    expect((await errorOf(harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' }))).code).toBe(
      'app_credentials_missing',
    );
  });

  it('asks the policy hook and refuses with plan_feature_not_available', async () => {
    const asked: unknown[] = [];
    const harness = createHarness({
      providers: [createTestProvider(), createTestProvider({ id: 'twitter' })],
      policy: {
        async canStoreAppCredentials(request) {
          asked.push(request);
          return request.platform !== 'twitter';
        },
      },
    });
    const refused = await errorOf(
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'twitter', clientId: 'c', clientSecret: SECRET }),
    );
    expect(refused.code).toBe('plan_feature_not_available');
    expect(refused.platform).toBe('twitter');
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'c', clientSecret: SECRET });
    expect(asked).toEqual([
      { workspaceId: 'ws-1', platform: 'twitter' },
      { workspaceId: 'ws-1', platform: 'linkedin' },
    ]);
    expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toHaveLength(1);
  });

  it('calls a policy that is a class instance with its own this', async () => {
    class Plans {
      private readonly allowed = new Set(['ws-paid']);
      canStoreAppCredentials({ workspaceId }: { workspaceId: string }) {
        return this.allowed.has(workspaceId);
      }
    }
    const harness = createHarness({ providers: [createTestProvider()], policy: new Plans() });
    const request = { platform: 'linkedin' as const, clientId: 'c', clientSecret: SECRET };
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-paid', ...request });
    expect((await errorOf(harness.letmepost.appCredentials.put({ workspaceId: 'ws-free', ...request }))).code).toBe(
      'plan_feature_not_available',
    );
  });

  it('validates fields and refuses platforms without OAuth apps', async () => {
    const harness = createHarness({
      providers: [createTestProvider(), createTestProvider({ id: 'telegram', auth: { kind: 'credentials' } })],
    });
    const missingSecret = await errorOf(
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'c', clientSecret: '' }),
    );
    expect(missingSecret.code).toBe('validation_failed');
    expect(missingSecret.field).toBe('clientSecret');
    const badPlatform = await errorOf(
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'nope' as never, clientId: 'c', clientSecret: SECRET }),
    );
    expect(badPlatform.field).toBe('platform');
    const telegram = await errorOf(
      harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'telegram', clientId: 'c', clientSecret: SECRET }),
    );
    expect(telegram.code).toBe('not_supported');
    expect(JSON.stringify([missingSecret, badPlatform, telegram])).not.toContain(SECRET);
  });
});
