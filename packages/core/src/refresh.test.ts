import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { TokenSet } from './account.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import { mergeTokens } from './refresh.js';
import {
  connectAccount,
  createHarness,
  createTestProvider,
  manualClock,
  type Harness,
  type Timeline,
} from './test-support/test-provider.js';
import type { TokenStore } from './token-store.js';

const HOUR = 3_600_000;

async function setupExpiredAccount(options: Parameters<typeof createTestProvider>[0] = {}) {
  const provider = createTestProvider(options);
  const harness = createHarness({ providers: [provider] });
  const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
  harness.clock.advance(2 * HOUR); // the access token (1 h) is now expired
  return { provider, harness, accountId: account!.id };
}

function publishOnce(harness: Harness, accountId: string) {
  return harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'hello' }, targets: [{ accountId }] });
}

async function storedTokens(harness: Harness, accountId: string): Promise<TokenSet> {
  const { key } = await harness.grantOf({ workspaceId: 'ws-1', accountId });
  return (await harness.open({ key, field: 'tokens' })) as TokenSet;
}

function recordingStore(inner: TokenStore, timeline: Timeline): TokenStore {
  return {
    ...inner,
    async set(key, value, options) {
      const entry = await inner.set(key, value, options);
      if (key.startsWith('ws/') && key.includes('/grants/')) timeline.push('store.set:grant');
      return entry;
    },
  };
}

describe('refresh', () => {
  it('makes exactly one refresh call for 25 concurrent publishes on one expired account', async () => {
    const { provider, harness, accountId } = await setupExpiredAccount({
      refresh: async ({ tokens }) => {
        await sleep(30); // long enough for every publish to arrive while it runs
        return { accessToken: 'access-new', refreshToken: `${tokens.refreshToken}-next`, expiresAt: harness.clock.now() + HOUR };
      },
    });

    const results = await Promise.all(Array.from({ length: 25 }, () => publishOnce(harness, accountId)));

    expect(provider.calls.refresh).toHaveLength(1);
    expect(results.map(([result]) => result?.status)).toEqual(Array(25).fill('published'));
    expect(provider.calls.publish).toHaveLength(25);
    for (const call of provider.calls.publish) {
      expect(call.auth.type === 'account' && call.auth.tokens.accessToken).toBe('access-new');
    }
    expect((await storedTokens(harness, accountId)).refreshToken).toBe('refresh-code-1-next');
    expect(harness.logs.filter((entry) => entry.message === 'letmepost.account.refreshed')).toHaveLength(1);
  });

  it('shares one in-process flight: the store lease is taken once, not once per caller', async () => {
    const clock = manualClock();
    const inner = memoryTokenStore({ clock });
    const leases: string[] = [];
    const store: TokenStore = {
      ...inner,
      withLock: (key, fn, options) => {
        leases.push(key);
        return inner.withLock(key, fn, options);
      },
    };
    const provider = createTestProvider({
      refresh: async () => {
        await sleep(20);
        return { accessToken: 'access-new', expiresAt: clock.now() + HOUR };
      },
    });
    const harness = createHarness({ providers: [provider], clock, store });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    clock.advance(2 * HOUR);
    leases.length = 0;
    await Promise.all(Array.from({ length: 25 }, () => publishOnce(harness, account!.id)));
    const { grantId } = await harness.grantOf({ workspaceId: 'ws-1', accountId: account!.id });
    expect(leases).toEqual([`lock/refresh/grant/${grantId}`]);
    expect(provider.calls.refresh).toHaveLength(1);
  });

  it('makes one refresh call across two instances sharing a store (two processes)', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    let refreshCalls = 0;
    const refresh = async ({ tokens }: { tokens: TokenSet }): Promise<TokenSet> => {
      refreshCalls += 1;
      await sleep(50);
      return { accessToken: `access-${refreshCalls}`, refreshToken: `${tokens.refreshToken}-r${refreshCalls}`, expiresAt: clock.now() + HOUR };
    };
    const providerA = createTestProvider({ refresh });
    const providerB = createTestProvider({ refresh });
    const instanceA = createHarness({ providers: [providerA], clock, store });
    const instanceB = createHarness({ providers: [providerB], clock, store });
    const [account] = await connectAccount({ harness: instanceA, workspaceId: 'ws-1' });
    clock.advance(2 * HOUR);

    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => publishOnce(instanceA, account!.id)),
      ...Array.from({ length: 10 }, () => publishOnce(instanceB, account!.id)),
    ]);
    expect(refreshCalls).toBe(1);
    expect(results.every(([result]) => result?.status === 'published')).toBe(true);
    for (const call of [...providerA.calls.publish, ...providerB.calls.publish]) {
      expect(call.auth.type === 'account' && call.auth.tokens.accessToken).toBe('access-1');
    }
  });

  it('persists a rotated refresh token before the new access token is used', async () => {
    const timeline: Timeline = [];
    const clock = manualClock();
    const provider = createTestProvider({
      timeline,
      publish: async ({ auth }) => {
        // At the moment the new access token is used, the store must already hold its partner.
        const stored = await storedTokens(harness, accountId);
        expect(auth.type === 'account' && auth.tokens.accessToken).toBe('access-refreshed-1');
        expect(stored.refreshToken).toBe('refresh-rotated-1');
        return { status: 'published', postId: 'p1', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider], clock, store: recordingStore(memoryTokenStore({ clock }), timeline) });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const accountId = account!.id;
    clock.advance(2 * HOUR);
    timeline.length = 0;

    const [result] = await publishOnce(harness, accountId);
    expect(result?.status).toBe('published');
    expect(timeline).toEqual(['provider.refresh', 'store.set:grant', 'provider.publish:access-refreshed-1']);
  });

  it('keeps the old refresh token when the refresh response carries none', async () => {
    const { provider, harness, accountId } = await setupExpiredAccount({
      refresh: async () => ({ accessToken: `access-${Math.random()}`, expiresAt: harness.clock.now() + HOUR }),
    });
    await publishOnce(harness, accountId);
    const stored = await storedTokens(harness, accountId);
    expect(stored.refreshToken).toBe('refresh-code-1');
    expect(stored.scopes).toEqual(['w_member_social']);

    harness.clock.advance(2 * HOUR);
    await publishOnce(harness, accountId);
    expect(provider.calls.refresh.map((call) => call.tokens.refreshToken)).toEqual(['refresh-code-1', 'refresh-code-1']);
  });

  it('refreshes tokens within 60 s of expiry, and not earlier', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });

    harness.clock.advance(HOUR - 120_000);
    await publishOnce(harness, account!.id);
    expect(provider.calls.refresh).toHaveLength(0);

    harness.clock.advance(90_000); // 30 s before expiry
    await publishOnce(harness, account!.id);
    expect(provider.calls.refresh).toHaveLength(1);
    expect((await harness.letmepost.accounts.get({ accountId: account!.id })).expiresAt).toBe(harness.clock.now() + HOUR);
  });

  it('marks the account reauth_required only for reauth_required (invalid_grant) answers', async () => {
    const { provider, harness, accountId } = await setupExpiredAccount({
      refresh: async () => {
        throw new LetmepostError({ code: 'reauth_required', platform: 'linkedin', message: 'invalid_grant: refresh token revoked' });
      },
    });
    const [result] = await publishOnce(harness, accountId);
    expect(result).toMatchObject({ status: 'failed', accountId, error: { code: 'reauth_required' } });
    expect((await harness.letmepost.accounts.get({ accountId })).status).toBe('reauth_required');
    expect(harness.logs.map((entry) => entry.message)).toContain('letmepost.account.reauth_required');

    // Fails fast from now on: neither the token endpoint nor the publish endpoint is called.
    const [again] = await publishOnce(harness, accountId);
    expect(again?.error?.code).toBe('reauth_required');
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish).toHaveLength(0);
  });

  it.each(['platform_unavailable', 'rate_limited'] as const)('leaves the account active after a transient %s', async (code) => {
    let fail = true;
    const { provider, harness, accountId } = await setupExpiredAccount({
      refresh: async () => {
        if (fail) throw new LetmepostError({ code, platform: 'linkedin', message: 'try later' });
        return { accessToken: 'access-later', expiresAt: harness.clock.now() + HOUR };
      },
    });
    const [result] = await publishOnce(harness, accountId);
    expect(result).toMatchObject({ status: 'failed', error: { code } });
    expect((await harness.letmepost.accounts.get({ accountId })).status).toBe('active');
    expect(provider.calls.publish).toHaveLength(0);

    fail = false;
    const [later] = await publishOnce(harness, accountId);
    expect(later?.status).toBe('published');
    expect(provider.calls.refresh).toHaveLength(2);
  });

  it('treats an unexpected refresh crash as transient', async () => {
    const { harness, accountId } = await setupExpiredAccount({
      refresh: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const [result] = await publishOnce(harness, accountId);
    expect(result?.error?.code).toBe('platform_unavailable');
    expect((await harness.letmepost.accounts.get({ accountId })).status).toBe('active');
  });

  it('publishes with a token that is near expiry but still valid when the early refresh fails transiently', async () => {
    const provider = createTestProvider({
      refresh: async () => {
        throw new LetmepostError({ code: 'platform_unavailable', platform: 'linkedin', message: 'down' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    harness.clock.advance(HOUR - 30_000);
    const [result] = await publishOnce(harness, account!.id);
    expect(result?.status).toBe('published');
    expect(provider.calls.refresh).toHaveLength(1);
    const auth = provider.calls.publish[0]?.auth;
    expect(auth?.type === 'account' && auth.tokens.accessToken).toBe('access-code-1');
  });

  it('refreshes once and retries once when the platform answers auth_expired', async () => {
    const provider = createTestProvider({
      publish: async ({ auth }) => {
        if (auth.type === 'account' && auth.tokens.accessToken === 'access-code-1') {
          throw new LetmepostError({ code: 'auth_expired', platform: 'linkedin', status: 401, message: 'token revoked' });
        }
        return { status: 'published', postId: 'after-refresh', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });

    // Five requests fail with the same token at once: one refresh serves them all.
    const results = await Promise.all(Array.from({ length: 5 }, () => publishOnce(harness, account!.id)));
    expect(results.map(([result]) => result?.postId)).toEqual(Array(5).fill('after-refresh'));
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish).toHaveLength(10);
  });

  it('gives up after one retry when the refreshed token is refused too', async () => {
    const provider = createTestProvider({
      publish: async () => {
        throw new LetmepostError({ code: 'auth_expired', platform: 'linkedin', status: 401, message: 'no' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const [result] = await publishOnce(harness, account!.id);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'auth_expired' } });
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish).toHaveLength(2);
  });

  it('marks reauth_required when a rejected token cannot be refreshed at all', async () => {
    const provider = createTestProvider({
      without: ['refresh'],
      publish: async () => {
        throw new LetmepostError({ code: 'auth_expired', platform: 'linkedin', status: 401, message: 'expired' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const [result] = await publishOnce(harness, account!.id);
    expect(result?.error?.code).toBe('reauth_required');
    expect((await harness.letmepost.accounts.get({ accountId: account!.id })).status).toBe('reauth_required');
  });

  it('uses an expired token as is when the platform cannot refresh, and lets the platform decide', async () => {
    const { provider, harness, accountId } = await setupExpiredAccount({ without: ['refresh'] });
    const [result] = await publishOnce(harness, accountId);
    expect(result?.status).toBe('published');
    expect(provider.calls.publish).toHaveLength(1);
  });

  it('still saves rotated tokens when the refresh outlived its lease but nobody else wrote', async () => {
    const { harness, accountId } = await setupExpiredAccount({
      refresh: async () => {
        harness.clock.advance(31_000); // past the 30 s lease
        return { accessToken: 'access-slow', refreshToken: 'refresh-slow', expiresAt: harness.clock.now() + HOUR };
      },
    });
    const [result] = await publishOnce(harness, accountId);
    expect(result?.status).toBe('published');
    expect(await storedTokens(harness, accountId)).toMatchObject({ accessToken: 'access-slow', refreshToken: 'refresh-slow' });
  });

  it('passes the grant, its tokens and its own client to provider.refresh, and no account', async () => {
    const { provider, harness, accountId } = await setupExpiredAccount();
    await publishOnce(harness, accountId);
    expect(provider.calls.refresh[0]).toMatchObject({
      tokens: { accessToken: 'access-code-1', refreshToken: 'refresh-code-1' },
      client: { clientId: 'instance-client-id' },
    });
    expect(provider.calls.refresh[0]).not.toHaveProperty('account');
    expect(provider.calls.refresh[0]?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('mergeTokens', () => {
  it('keeps the previous refresh token and its expiry when none is returned', () => {
    expect(
      mergeTokens({
        previous: { accessToken: 'a1', refreshToken: 'r1', refreshTokenExpiresAt: 10, scopes: ['s'], secrets: { x: '1' } },
        refreshed: { accessToken: 'a2', expiresAt: 5 },
      }),
    ).toEqual({ accessToken: 'a2', expiresAt: 5, refreshToken: 'r1', refreshTokenExpiresAt: 10, scopes: ['s'], secrets: { x: '1' } });
  });

  it('takes a rotated refresh token with its own expiry', () => {
    expect(
      mergeTokens({
        previous: { accessToken: 'a1', refreshToken: 'r1', refreshTokenExpiresAt: 10 },
        refreshed: { accessToken: 'a2', refreshToken: 'r2' },
      }),
    ).toEqual({ accessToken: 'a2', refreshToken: 'r2' });
  });
});
