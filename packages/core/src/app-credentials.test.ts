import { setImmediate as nextTurn } from 'node:timers/promises';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { AppCredentialsPolicyRequest } from './letmepost-context.js';
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
    expect(dump).toMatch(/"clientSecret":"lmp2\./);
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
      { workspaceId: 'ws-1', platform: 'twitter', existingPlatforms: [], replacement: false },
      { workspaceId: 'ws-1', platform: 'linkedin', existingPlatforms: [], replacement: false },
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

  describe('the plan-slot rule (one platform per workspace)', () => {
    /** The SaaS rule of issue 11 #23: one platform's app per workspace; replacing it is fine. */
    function oneSlot(asked: AppCredentialsPolicyRequest[]) {
      return {
        async canStoreAppCredentials(request: AppCredentialsPolicyRequest) {
          asked.push(request);
          // A real hook reads the host's database; yielding here lets a racing put interleave.
          for (let turn = 0; turn < 5; turn++) await nextTurn();
          return request.replacement || request.existingPlatforms.every((platform) => platform === request.platform);
        },
      };
    }

    it('lets exactly one of two concurrent puts for two different platforms take the single slot', async () => {
      const asked: AppCredentialsPolicyRequest[] = [];
      const harness = createHarness({
        providers: [createTestProvider(), createTestProvider({ id: 'twitter' })],
        policy: oneSlot(asked),
      });
      const outcomes = await Promise.allSettled([
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'li', clientSecret: SECRET }),
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'twitter', clientId: 'x', clientSecret: SECRET }),
      ]);
      const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const rejected = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as { code?: string }] : []));
      expect(fulfilled).toHaveLength(1);
      expect(rejected.map((error) => error.code)).toEqual(['plan_feature_not_available']);

      const stored = await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' });
      expect(stored).toHaveLength(1);
      // The second hook call saw the first write: the check and the write were one step.
      expect(asked[1]?.existingPlatforms).toEqual([stored[0]?.platform]);
    });

    it('holds under many racing puts across several workspaces: one platform each', async () => {
      const harness = createHarness({
        providers: [createTestProvider(), createTestProvider({ id: 'twitter' }), createTestProvider({ id: 'pinterest' })],
        policy: oneSlot([]),
      });
      const platforms = ['linkedin', 'twitter', 'pinterest'] as const;
      await Promise.allSettled(
        ['ws-a', 'ws-b'].flatMap((workspaceId) =>
          platforms.map((platform) =>
            harness.letmepost.appCredentials.put({ workspaceId, platform, clientId: `${workspaceId}-${platform}`, clientSecret: SECRET }),
          ),
        ),
      );
      for (const workspaceId of ['ws-a', 'ws-b']) {
        expect(await harness.letmepost.appCredentials.list({ workspaceId })).toHaveLength(1);
      }
    });

    it("allows replacing the existing platform's pair and tells the hook it is a replacement", async () => {
      const asked: AppCredentialsPolicyRequest[] = [];
      const harness = createHarness({
        providers: [createTestProvider(), createTestProvider({ id: 'twitter' })],
        policy: oneSlot(asked),
      });
      await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'first', clientSecret: SECRET });
      await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'second', clientSecret: SECRET });
      const other = await errorOf(
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'twitter', clientId: 'x', clientSecret: SECRET }),
      );
      expect(other.code).toBe('plan_feature_not_available');
      expect(asked).toEqual([
        { workspaceId: 'ws-1', platform: 'linkedin', existingPlatforms: [], replacement: false },
        { workspaceId: 'ws-1', platform: 'linkedin', existingPlatforms: ['linkedin'], replacement: true },
        { workspaceId: 'ws-1', platform: 'twitter', existingPlatforms: ['linkedin'], replacement: false },
      ]);
      expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toEqual([
        { platform: 'linkedin', clientId: 'second', createdAt: harness.clock.now() },
      ]);

      // Removing frees the slot.
      await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'linkedin' });
      await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'twitter', clientId: 'x', clientSecret: SECRET });
      expect((await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).map((item) => item.platform)).toEqual(['twitter']);
    });

    it('stores nothing when the hook throws, and releases the lease for the next put', async () => {
      let calls = 0;
      const harness = createHarness({
        providers: [createTestProvider()],
        policy: {
          canStoreAppCredentials() {
            calls += 1;
            if (calls === 1) throw new Error('plans database down');
            return true;
          },
        },
      });
      const put = () => harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'c', clientSecret: SECRET });
      await expect(put()).rejects.toThrow('plans database down');
      expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toEqual([]);
      // A lease left behind would make this wait 20 s and fail the test's 5 s timeout.
      await put();
      expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toHaveLength(1);
    });
  });

  describe('per-instance apps', () => {
    const mastodon = () =>
      createTestProvider({
        id: 'mastodon',
        connectParamsSchema: z.object({ instanceUrl: z.url() }),
        connectInstance: ({ params }) => new URL(String(params.instanceUrl)).host,
      });

    it('keys pairs by instance, normalised, lists the instance and removes one instance only', async () => {
      const harness = createHarness({ providers: [mastodon()] });
      await harness.letmepost.appCredentials.put({
        workspaceId: 'ws-1',
        platform: 'mastodon',
        instance: ' Mastodon.Social ',
        clientId: 'social',
        clientSecret: SECRET,
      });
      await harness.letmepost.appCredentials.put({
        workspaceId: 'ws-1',
        platform: 'mastodon',
        instance: 'fosstodon.org',
        clientId: 'foss',
        clientSecret: `${SECRET}-2`,
      });
      expect(await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).toEqual([
        { platform: 'mastodon', instance: 'fosstodon.org', clientId: 'foss', createdAt: harness.clock.now() },
        { platform: 'mastodon', instance: 'mastodon.social', clientId: 'social', createdAt: harness.clock.now() },
      ]);
      const key = storeKeys.appCredentials({ workspaceId: 'ws-1', platform: 'mastodon', instance: 'mastodon.social' });
      expect(key).toBe('ws/ws-1/app-credentials/mastodon/mastodon.social');
      expect(await harness.open({ key, field: 'clientSecret' })).toBe(SECRET);
      expect(await harness.dump()).not.toContain(SECRET);

      await harness.letmepost.appCredentials.remove({ workspaceId: 'ws-1', platform: 'mastodon', instance: 'MASTODON.social' });
      expect((await harness.letmepost.appCredentials.list({ workspaceId: 'ws-1' })).map((item) => item.instance)).toEqual(['fosstodon.org']);
    });

    it('tells the hook the instance, and counts a second instance of the same platform as no new platform', async () => {
      const asked: AppCredentialsPolicyRequest[] = [];
      const harness = createHarness({
        providers: [mastodon()],
        policy: {
          canStoreAppCredentials(request) {
            asked.push(request);
            return true;
          },
        },
      });
      await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'mastodon', instance: 'a.example', clientId: 'a', clientSecret: SECRET });
      await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'mastodon', instance: 'b.example', clientId: 'b', clientSecret: SECRET });
      expect(asked).toEqual([
        { workspaceId: 'ws-1', platform: 'mastodon', instance: 'a.example', existingPlatforms: [], replacement: false },
        { workspaceId: 'ws-1', platform: 'mastodon', instance: 'b.example', existingPlatforms: ['mastodon'], replacement: false },
      ]);
    });

    it('requires an instance for per-instance platforms and refuses one elsewhere, naming the field', async () => {
      const harness = createHarness({ providers: [mastodon(), createTestProvider()] });
      const missing = await errorOf(
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'mastodon', clientId: 'c', clientSecret: SECRET }),
      );
      expect([missing.code, missing.field]).toEqual(['validation_failed', 'instance']);
      const extra = await errorOf(
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', instance: 'x.example', clientId: 'c', clientSecret: SECRET }),
      );
      expect([extra.code, extra.field]).toEqual(['validation_failed', 'instance']);
      const malformed = await errorOf(
        harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'mastodon', instance: 'https://x.example/', clientId: 'c', clientSecret: SECRET }),
      );
      expect([malformed.code, malformed.field]).toEqual(['validation_failed', 'instance']);
      expect(await harness.dump()).not.toContain(SECRET);
    });
  });
});
