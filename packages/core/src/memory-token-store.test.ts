import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import { deferred, errorOf, manualClock } from './test-support/test-provider.js';
import type { LockLease } from './token-store.js';

describe('memoryTokenStore versions and compare-and-set', () => {
  it('starts at version 1 and adds exactly 1 per set', async () => {
    const store = memoryTokenStore();
    expect(await store.set('a', 'one')).toEqual({ key: 'a', value: 'one', version: 1 });
    expect(await store.set('a', 'two')).toEqual({ key: 'a', value: 'two', version: 2 });
    expect(await store.set('a', 'three', { expectedVersion: 2 })).toEqual({ key: 'a', value: 'three', version: 3 });
    expect(await store.get('a')).toEqual({ key: 'a', value: 'three', version: 3 });
    expect(await store.get('missing')).toBeNull();
  });

  it('creates only when absent with expectedVersion null', async () => {
    const store = memoryTokenStore();
    expect((await store.set('a', 'first', { expectedVersion: null })).version).toBe(1);
    const error = await errorOf(store.set('a', 'second', { expectedVersion: null }));
    expect(error.code).toBe('store_conflict');
    expect(error.retryable).toBe(true);
    expect((await store.get('a'))?.value).toBe('first');
  });

  it('rejects a stale or absent expected version with store_conflict and keeps the value', async () => {
    const store = memoryTokenStore();
    await store.set('a', 'v1');
    await store.set('a', 'v2');
    expect((await errorOf(store.set('a', 'stale', { expectedVersion: 1 }))).code).toBe('store_conflict');
    expect((await errorOf(store.set('absent', 'x', { expectedVersion: 1 }))).code).toBe('store_conflict');
    expect(await store.get('a')).toEqual({ key: 'a', value: 'v2', version: 2 });
    expect(await store.get('absent')).toBeNull();
  });

  it('lets exactly one of 20 concurrent writers with the same expected version win', async () => {
    const store = memoryTokenStore();
    await store.set('counter', 'start');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => store.set('counter', `writer-${index}`, { expectedVersion: 1 })),
    );
    const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(19);
    for (const loser of losers) {
      expect(LetmepostError.isInstance(loser.reason) && loser.reason.code).toBe('store_conflict');
    }
    const entry = await store.get('counter');
    expect(entry?.version).toBe(2);
    expect(entry?.value).toBe((winners[0] as PromiseFulfilledResult<{ value: string }>).value.value);
  });

  it('lets exactly one of 20 concurrent creators win', async () => {
    const store = memoryTokenStore();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => store.set('fresh', `creator-${index}`, { expectedVersion: null })),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
  });

  it('restarts at version 1 after a delete', async () => {
    const store = memoryTokenStore();
    await store.set('a', 'x');
    await store.set('a', 'y');
    expect(await store.delete('a')).toBe(true);
    expect(await store.delete('a')).toBe(false);
    expect((await store.set('a', 'z', { expectedVersion: null })).version).toBe(1);
  });

  it('deletes with an expected version only when it matches', async () => {
    const store = memoryTokenStore();
    await store.set('a', 'x');
    expect((await errorOf(store.delete('a', { expectedVersion: 2 }))).code).toBe('store_conflict');
    expect(await store.get('a')).not.toBeNull();
    expect(await store.delete('a', { expectedVersion: 1 })).toBe(true);
    expect(await store.delete('a', { expectedVersion: 1 })).toBe(false);
  });

  it('copies values so callers cannot alias stored state', async () => {
    const store = memoryTokenStore();
    const written = await store.set('a', 'x');
    written.value = 'mutated';
    written.version = 99;
    const read = await store.get('a');
    expect(read).toEqual({ key: 'a', value: 'x', version: 1 });
    read!.value = 'mutated again';
    expect((await store.get('a'))?.value).toBe('x');
    const [listed] = await store.list('a');
    listed!.value = 'mutated';
    expect((await store.get('a'))?.value).toBe('x');
  });

  it('refuses bad input with validation_failed naming the field', async () => {
    const store = memoryTokenStore();
    expect(await errorOf(store.set('', 'x'))).toMatchObject({ code: 'validation_failed', field: 'key' });
    expect(await errorOf(store.set('a', 42 as unknown as string))).toMatchObject({ code: 'validation_failed', field: 'value' });
    expect(await errorOf(store.set('a', 'x', { ttlMs: 0 }))).toMatchObject({ code: 'validation_failed', field: 'ttlMs' });
    expect(await errorOf(store.set('a', 'x', { expectedVersion: 0 }))).toMatchObject({
      code: 'validation_failed',
      field: 'expectedVersion',
    });
    expect(await errorOf(store.list('a', { limit: 0 }))).toMatchObject({ code: 'validation_failed', field: 'limit' });
    expect(await errorOf(store.increment('c', { windowMs: -1 }))).toMatchObject({ code: 'validation_failed', field: 'windowMs' });
    expect(await errorOf(store.increment('c', { windowMs: 10, amount: 1.5 }))).toMatchObject({
      code: 'validation_failed',
      field: 'amount',
    });
  });

  it('fails every operation with store_unavailable after close', async () => {
    const store = memoryTokenStore();
    await store.set('a', 'x');
    await store.close?.();
    expect((await errorOf(store.get('a'))).code).toBe('store_unavailable');
    expect((await errorOf(store.set('a', 'y'))).code).toBe('store_unavailable');
  });
});

describe('memoryTokenStore TTL', () => {
  it('treats an expired entry as absent for get, list, delete and compare-and-set', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const written = await store.set('session:1', 'pending', { ttlMs: 1_000 });
    expect(written.expiresAt).toBe(clock.now() + 1_000);

    clock.advance(999);
    expect((await store.get('session:1'))?.value).toBe('pending');

    clock.advance(1);
    expect(await store.get('session:1')).toBeNull();
    expect(await store.list('session:')).toEqual([]);
    expect(await store.delete('session:1')).toBe(false);
    expect((await errorOf(store.set('session:1', 'late', { expectedVersion: 1 }))).code).toBe('store_conflict');
    expect(await store.set('session:1', 'again', { expectedVersion: null })).toEqual({
      key: 'session:1',
      value: 'again',
      version: 1,
    });
  });

  it('drops the TTL when a later write gives none', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    await store.set('a', 'x', { ttlMs: 100 });
    const rewritten = await store.set('a', 'y');
    expect(rewritten.expiresAt).toBeUndefined();
    clock.advance(1_000);
    expect((await store.get('a'))?.value).toBe('y');
  });
});

describe('memoryTokenStore list', () => {
  it('returns entries under a prefix in ascending key order, paged with after and limit', async () => {
    const store = memoryTokenStore();
    for (const key of ['acct:c', 'acct:a', 'other:a', 'acct:b', 'acct:d', 'acct']) await store.set(key, key);
    expect((await store.list('acct:')).map((entry) => entry.key)).toEqual(['acct:a', 'acct:b', 'acct:c', 'acct:d']);
    expect((await store.list('acct:', { limit: 2 })).map((entry) => entry.key)).toEqual(['acct:a', 'acct:b']);
    expect((await store.list('acct:', { limit: 2, after: 'acct:b' })).map((entry) => entry.key)).toEqual([
      'acct:c',
      'acct:d',
    ]);
    expect(await store.list('acct:', { after: 'acct:d' })).toEqual([]);
    expect((await store.list('')).map((entry) => entry.key)).toEqual([
      'acct',
      'acct:a',
      'acct:b',
      'acct:c',
      'acct:d',
      'other:a',
    ]);
  });

  it('orders by code point (UTF-8 byte order), like SQL and Redis stores', async () => {
    const store = memoryTokenStore();
    // U+FF5E sorts after 'z' and, by code point, before the astral U+1F600.
    for (const key of ['k:\u{1F600}', 'k:\uFF5E', 'k:z']) await store.set(key, 'x');
    expect((await store.list('k:')).map((entry) => entry.key)).toEqual(['k:z', 'k:\uFF5E', 'k:\u{1F600}']);
  });

  it('skips expired entries without shortening the page', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    await store.set('p:1', 'x', { ttlMs: 10 });
    await store.set('p:2', 'x');
    await store.set('p:3', 'x');
    clock.advance(10);
    expect((await store.list('p:', { limit: 2 })).map((entry) => entry.key)).toEqual(['p:2', 'p:3']);
  });
});

describe('memoryTokenStore increment', () => {
  it('counts events in a rolling window', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    expect(await store.increment('posts', { windowMs: 1_000 })).toEqual({ count: 1, accepted: true });
    clock.advance(500);
    expect(await store.increment('posts', { windowMs: 1_000, amount: 2 })).toEqual({ count: 3, accepted: true });
    clock.advance(500);
    // The first event is now exactly one window old and has left it.
    expect(await store.increment('posts', { windowMs: 1_000, amount: 0 })).toEqual({ count: 2, accepted: true });
    clock.advance(500);
    expect(await store.increment('posts', { windowMs: 1_000, amount: 0 })).toEqual({ count: 0, accepted: true });
  });

  it('refuses atomically past the limit without adding anything', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    expect(await store.increment('cap', { windowMs: 1_000, limit: 3, amount: 2 })).toEqual({ count: 2, accepted: true });
    expect(await store.increment('cap', { windowMs: 1_000, limit: 3, amount: 2 })).toEqual({ count: 2, accepted: false });
    expect(await store.increment('cap', { windowMs: 1_000, limit: 3 })).toEqual({ count: 3, accepted: true });
    expect(await store.increment('cap', { windowMs: 1_000, limit: 3 })).toEqual({ count: 3, accepted: false });
    clock.advance(1_000);
    expect(await store.increment('cap', { windowMs: 1_000, limit: 3 })).toEqual({ count: 1, accepted: true });
  });

  it('accepts exactly limit of many concurrent increments', async () => {
    const store = memoryTokenStore();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => store.increment('burst', { windowMs: 60_000, limit: 10 })),
    );
    expect(results.filter((result) => result.accepted)).toHaveLength(10);
    expect((await store.increment('burst', { windowMs: 60_000, amount: 0 })).count).toBe(10);
  });

  it('removes the newest events on a negative amount', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    await store.increment('refund', { windowMs: 1_000 });
    clock.advance(600);
    await store.increment('refund', { windowMs: 1_000, amount: 2 });
    expect(await store.increment('refund', { windowMs: 1_000, amount: -2 })).toEqual({ count: 1, accepted: true });
    // The survivor is the oldest event, so it leaves the window 1 000 ms after it was added.
    clock.advance(400);
    expect((await store.increment('refund', { windowMs: 1_000, amount: 0 })).count).toBe(0);
    expect(await store.increment('refund', { windowMs: 1_000, amount: -5 })).toEqual({ count: 0, accepted: true });
  });

  it('keeps counters apart from entries', async () => {
    const store = memoryTokenStore();
    await store.increment('shared', { windowMs: 1_000 });
    expect(await store.get('shared')).toBeNull();
  });
});

describe('memoryTokenStore withLock', () => {
  it('runs holders one at a time under contention', async () => {
    const store = memoryTokenStore();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        store.withLock(
          'refresh:acct',
          async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await new Promise((resolve) => setTimeout(resolve, 2));
            order.push(index);
            inside--;
          },
          { ttlMs: 5_000 },
        ),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order.sort((left, right) => left - right)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('issues strictly increasing fencing tokens per key and releases after a throw', async () => {
    const store = memoryTokenStore();
    const tokens: number[] = [];
    for (let index = 0; index < 3; index++) {
      await store.withLock('l', async (lease) => tokens.push(lease.token), { ttlMs: 1_000 });
    }
    await expect(
      store.withLock(
        'l',
        async (lease) => {
          tokens.push(lease.token);
          throw new Error('boom');
        },
        { ttlMs: 1_000 },
      ),
    ).rejects.toThrow('boom');
    await store.withLock('l', async (lease) => tokens.push(lease.token), { ttlMs: 1_000 });
    expect(tokens).toEqual([1, 2, 3, 4, 5]);
    await store.withLock('other', async (lease) => expect(lease.token).toBe(1), { ttlMs: 1_000 });
  });

  it('fails with store_conflict once waitMs passes while the lock is held', async () => {
    const store = memoryTokenStore();
    const holding = deferred();
    const release = deferred();
    const holder = store.withLock(
      'busy',
      async () => {
        holding.resolve();
        await release.promise;
      },
      { ttlMs: 60_000 },
    );
    await holding.promise;
    const started = performance.now();
    const error = await errorOf(store.withLock('busy', async () => 'never', { ttlMs: 60_000, waitMs: 50 }));
    expect(error.code).toBe('store_conflict');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    release.resolve();
    await holder;
    expect(await store.withLock('busy', async () => 'free', { ttlMs: 1_000, waitMs: 0 })).toBe('free');
  });

  it('hands the lock to a waiter as soon as the holder releases', async () => {
    const store = memoryTokenStore();
    const holding = deferred();
    const release = deferred();
    const holder = store.withLock(
      'k',
      async () => {
        holding.resolve();
        await release.promise;
        return 'first';
      },
      { ttlMs: 60_000 },
    );
    await holding.promise;
    const waiter = store.withLock('k', async (lease) => lease.token, { ttlMs: 60_000, waitMs: 5_000 });
    release.resolve();
    expect(await holder).toBe('first');
    expect(await waiter).toBe(2);
  });

  it('accepts a fenced write from the current holder and rejects one after the lease expired and was taken', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    await store.set('tokens', 'v1');

    const leased = deferred();
    const resume = deferred();
    let staleLease: LockLease | undefined;
    const slowHolder = store.withLock(
      'lock:tokens',
      async (lease) => {
        staleLease = lease;
        await store.set('tokens', 'by first holder', { fence: lease });
        leased.resolve();
        await resume.promise;
        // The lease expired and another process took the lock: this write must be refused.
        return errorOf(store.set('tokens', 'stale write', { fence: lease }));
      },
      { ttlMs: 1_000 },
    );
    await leased.promise;
    expect(staleLease?.expiresAt).toBe(clock.now() + 1_000);

    clock.advance(1_001);
    const secondToken = await store.withLock(
      'lock:tokens',
      async (lease) => {
        await store.set('tokens', 'by second holder', { fence: lease });
        return lease.token;
      },
      { ttlMs: 1_000, waitMs: 0 },
    );
    expect(secondToken).toBeGreaterThan(staleLease!.token);

    resume.resolve();
    const staleError = await slowHolder;
    expect(staleError.code).toBe('store_conflict');
    expect(await store.get('tokens')).toEqual({ key: 'tokens', value: 'by second holder', version: 3 });
  });

  it('rejects a fenced write once the lease expired even if nobody took the lock', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const error = await store.withLock(
      'l',
      async (lease) => {
        clock.advance(1_000);
        return errorOf(store.set('x', 'y', { fence: lease }));
      },
      { ttlMs: 1_000 },
    );
    expect(error.code).toBe('store_conflict');
    expect(await store.get('x')).toBeNull();
  });

  it('rejects a fence after its lease was released', async () => {
    const store = memoryTokenStore();
    const lease = await store.withLock('l', async (granted) => granted, { ttlMs: 1_000 });
    expect((await errorOf(store.set('x', 'y', { fence: lease }))).code).toBe('store_conflict');
    const forged: LockLease = { ...lease, token: lease.token + 1 };
    await store.withLock(
      'l',
      async (granted) => {
        expect(granted.token).toBe(forged.token);
        expect((await errorOf(store.set('x', 'y', { fence: lease }))).code).toBe('store_conflict');
      },
      { ttlMs: 1_000 },
    );
  });

  it('lets a waiter take a lease whose ttl passed, and the old holder does not release it', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const holding = deferred();
    const finish = deferred();
    const holder = store.withLock(
      'k',
      async () => {
        holding.resolve();
        await finish.promise;
      },
      { ttlMs: 1_000 },
    );
    await holding.promise;
    const secondInside = deferred();
    const secondFinish = deferred();
    const waiter = store.withLock(
      'k',
      async (lease) => {
        secondInside.resolve();
        await secondFinish.promise;
        return lease.token;
      },
      { ttlMs: 1_000, waitMs: 10_000 },
    );
    clock.advance(1_000);
    await secondInside.promise;
    // The first holder returns late; its release must not free the second holder's lease.
    finish.resolve();
    await holder;
    const error = await errorOf(store.withLock('k', async () => 'third', { ttlMs: 1_000, waitMs: 0 }));
    expect(error.code).toBe('store_conflict');
    secondFinish.resolve();
    expect(await waiter).toBe(2);
  });

  it('measures waitMs in real time, not by the injected clock', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const holding = deferred();
    const release = deferred();
    const holder = store.withLock(
      'jump',
      async () => {
        holding.resolve();
        await release.promise;
      },
      { ttlMs: 60_000 },
    );
    await holding.promise;
    const waiter = store.withLock('jump', async (lease) => lease.token, { ttlMs: 1_000, waitMs: 5_000 });
    // The clock jumps past waitMs but not past the holder's lease: the waiter keeps waiting.
    clock.advance(10_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    release.resolve();
    await holder;
    expect(await waiter).toBe(2);
  });

  it('bounds a wait in real time even when the injected clock is frozen', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const release = deferred();
    const holding = deferred();
    const holder = store.withLock(
      'frozen',
      async () => {
        holding.resolve();
        await release.promise;
      },
      { ttlMs: 60_000 },
    );
    await holding.promise;
    expect((await errorOf(store.withLock('frozen', async () => 1, { ttlMs: 1_000, waitMs: 30 }))).code).toBe(
      'store_conflict',
    );
    release.resolve();
    await holder;
  });
});
