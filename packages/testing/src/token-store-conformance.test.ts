import { memoryTokenStore, type TokenStore } from '@letmepost/core';
import { describe, expect, it } from 'vitest';
import { runTokenStoreConformance, tokenStoreConformanceChecks, type TokenStoreCheckId } from './token-store-conformance.js';

// The reference store is core's own; one instance stands for every "process", so it is not closed.
const shared = memoryTokenStore();
runTokenStoreConformance({ name: 'memory (real clock)', createStore: () => shared, closeStores: false });

let manualNow = Date.UTC(2025, 0, 1);
const manualClock = { now: () => manualNow, advance: (ms: number) => void (manualNow += ms) };
const manual = memoryTokenStore({ clock: manualClock });
runTokenStoreConformance({ name: 'memory (manual clock)', createStore: () => manual, clock: manualClock, timeUnitMs: 20, closeStores: false });

/** Wraps a correct store and breaks one operation. */
function broken(patch: (store: TokenStore) => Partial<TokenStore>): () => TokenStore {
  return () => {
    const store = memoryTokenStore();
    return { ...store, ...patch(store) } as TokenStore;
  };
}

const failsCheck = async (createStore: () => TokenStore, id: TokenStoreCheckId): Promise<string | undefined> => {
  const check = tokenStoreConformanceChecks({ name: 'broken', createStore: memoize(createStore), timeUnitMs: 30 }).find((c) => c.id === id);
  if (!check) throw new Error(`no check ${id}`);
  return check.run().then(
    () => undefined,
    (error: unknown) => String(error),
  );
};

/** Cross-handle checks need every handle of one check to share data. */
function memoize(create: () => TokenStore): () => TokenStore {
  let store: TokenStore | undefined;
  return () => (store ??= create());
}

describe('the store kit catches broken stores', () => {
  it('a set() that ignores expectedVersion', async () => {
    const ignoreVersion = broken((store) => ({ set: (key, value, options) => store.set(key, value, { ...options, expectedVersion: undefined }) }));
    expect(await failsCheck(ignoreVersion, 'set.compare-and-set')).toMatch(/store_conflict/);
    expect(await failsCheck(ignoreVersion, 'race.compare-and-set')).toBeDefined();
  });

  it('a conflict thrown as a plain Error', async () => {
    const plainError = broken((store) => ({
      set: (key, value, options) => store.set(key, value, options).catch(() => Promise.reject(new Error('conflict'))),
    }));
    expect(await failsCheck(plainError, 'set.conflict-error')).toMatch(/expected a LetmepostError/);
  });

  it('a read-modify-write that is not atomic', async () => {
    const racy = broken((store) => ({
      set: async (key, value, options) => {
        const current = await store.get(key);
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (options?.expectedVersion !== undefined && options.expectedVersion !== (current?.version ?? null)) {
          return store.set(key, value, options);
        }
        return store.set(key, value, { ...options, expectedVersion: undefined });
      },
    }));
    expect(await failsCheck(racy, 'race.lost-update')).toBeDefined();
  });

  it('a list() that treats _ as a wildcard', async () => {
    const likeList = broken((store) => ({
      list: async (prefix, options) => {
        const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/_/g, '.').replace(/%/g, '.*')}`);
        const all = await store.list('', options);
        return all.filter((entry) => pattern.test(entry.key));
      },
    }));
    expect(await failsCheck(likeList, 'list.literal-prefix')).toBeDefined();
  });

  it('a limited increment that is not atomic', async () => {
    const racy = broken((store) => ({
      increment: async (key, options) => {
        if (options.limit === undefined) return store.increment(key, options);
        const probe = await store.increment(key, { ...options, amount: 0 });
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (probe.count + (options.amount ?? 1) > options.limit) return { count: probe.count, accepted: false };
        return store.increment(key, { ...options, limit: undefined });
      },
    }));
    expect(await failsCheck(racy, 'race.increment-limit')).toBeDefined();
  });

  it('a negative amount that removes the oldest events', async () => {
    const oldestFirst = broken((store) => {
      const log = new Map<string, number[]>();
      return {
        increment: async (key, options) => {
          const now = Date.now();
          const window = (log.get(key) ?? []).filter((time) => time > now - options.windowMs);
          const amount = options.amount ?? 1;
          if (amount < 0) window.splice(0, -amount);
          else if (options.limit !== undefined && window.length + amount > options.limit) return { count: window.length, accepted: false };
          else for (let index = 0; index < amount; index += 1) window.push(now);
          log.set(key, window);
          void store;
          return { count: window.length, accepted: true };
        },
      };
    });
    expect(await failsCheck(oldestFirst, 'increment.negative')).toBeDefined();
  });

  it('a fence that is not checked', async () => {
    const noFence = broken((store) => ({ set: (key, value, options) => store.set(key, value, { ...options, fence: undefined }) }));
    expect(await failsCheck(noFence, 'fence.superseded-lease')).toMatch(/store_conflict/);
    expect(await failsCheck(noFence, 'fence.released-lease')).toMatch(/store_conflict/);
  });

  it('a withLock that does not exclude', async () => {
    const noLock = broken(() => {
      let token = 0;
      return { withLock: (key, fn, options) => fn({ key, token: ++token, expiresAt: Date.now() + options.ttlMs }) };
    });
    expect(await failsCheck(noLock, 'race.lock')).toBeDefined();
    expect(await failsCheck(noLock, 'lock.wait-timeout')).toBeDefined();
  });

  it('a TTL that is ignored', async () => {
    const noTtl = broken((store) => ({ set: (key, value, options) => store.set(key, value, { ...options, ttlMs: undefined }) }));
    expect(await failsCheck(noTtl, 'ttl.expires')).toBeDefined();
  });
});
