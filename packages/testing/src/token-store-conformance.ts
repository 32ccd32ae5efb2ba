import { randomUUID } from 'node:crypto';
import { LetmepostError, type LockLease, type StoreEntry, type TokenStore } from '@letmepost/core';
import { afterAll, describe, expect, it } from 'vitest';
import { settle, sleep, type Settled } from './internal.js';
import type { ConformanceCheck } from './provider-conformance.js';

/** A clock the store under test reads, which the suite moves instead of sleeping. */
export interface ConformanceManualClock {
  now(): number;
  advance(ms: number): void | Promise<void>;
}

export interface TokenStoreConformanceOptions {
  /** Suite title, e.g. `sqlite`. */
  name: string;
  /**
   * Returns a new handle on the store. Called at least once per check, and several times in the
   * cross-process checks: every handle made during one check must share the same data (they
   * stand for separate processes). Keys are namespaced per check, so one backing database can
   * serve the whole suite. The kit closes each handle at the end of its check.
   */
  createStore: () => Promise<TokenStore> | TokenStore;
  /** Reads the persisted value of `key` straight from the backing storage, bypassing the store. */
  readRaw?: (key: string) => Promise<string | null> | string | null;
  /**
   * Close every handle at the end of its check (default `true`). Set `false` when `createStore`
   * returns one shared instance whose `close` is final (an in-memory store).
   */
  closeStores?: boolean;
  /** Runs once after the whole suite (drop the database, delete the file). */
  cleanup?: () => Promise<void> | void;
  /**
   * `'real'` (default): TTLs are exercised with short real waits. Or the clock the store was
   * built with: the suite advances it instead of sleeping for TTLs, windows and lease expiry.
   * `waitMs` of `withLock` is a real-time budget either way, so stores must measure it with a
   * real timer (`performance.now()`), not the injected clock.
   */
  clock?: 'real' | ConformanceManualClock;
  /** Base time unit of the TTL and lock-wait checks. Default 100 ms; raise it on slow CI. */
  timeUnitMs?: number;
  /** Concurrent callers in the race checks. Default 25. */
  concurrency?: number;
  skip?: readonly TokenStoreCheckId[];
}

export type TokenStoreCheckId =
  | 'get.absent'
  | 'set.create'
  | 'set.version-increments'
  | 'set.create-only'
  | 'set.compare-and-set'
  | 'set.conflict-error'
  | 'set.roundtrip'
  | 'set.raw'
  | 'delete'
  | 'delete.compare'
  | 'delete.recreate'
  | 'ttl.expires'
  | 'ttl.absent-everywhere'
  | 'ttl.replaced-by-set'
  | 'list.prefix'
  | 'list.literal-prefix'
  | 'list.order'
  | 'list.pagination'
  | 'increment.counts'
  | 'increment.window'
  | 'increment.limit'
  | 'increment.amount'
  | 'increment.negative'
  | 'lock.runs'
  | 'lock.releases-on-error'
  | 'lock.exclusive'
  | 'lock.wait-timeout'
  | 'lock.default-wait'
  | 'lock.tokens-increase'
  | 'lock.expiry-takeover'
  | 'lock.isolated-from-entries'
  | 'fence.current-lease'
  | 'fence.released-lease'
  | 'fence.expired-lease'
  | 'fence.superseded-lease'
  | 'race.compare-and-set'
  | 'race.create-only'
  | 'race.lost-update'
  | 'race.increment-limit'
  | 'race.lock';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * Waits for `signal`, failing at once if `task` settles first: a holder that failed before
 * signalling would otherwise leave the check waiting until the test timeout.
 */
async function signalled<T>(signal: Promise<T>, task: Promise<unknown>, what: string): Promise<T> {
  return Promise.race([
    signal,
    task.then(() => {
      throw new Error(`${what} finished without signalling`);
    }),
  ]);
}

function expectConflict(outcome: Settled<unknown>, context: string): void {
  expect(outcome.status, `${context}: expected store_conflict, the call succeeded`).toBe('rejected');
  if (outcome.status !== 'rejected') return;
  const error = outcome.reason;
  expect(LetmepostError.isInstance(error), `${context}: expected a LetmepostError, got ${String(error)}`).toBe(true);
  expect((error as LetmepostError).code, context).toBe('store_conflict');
}

function strip(entry: StoreEntry | null): Pick<StoreEntry, 'key' | 'value' | 'version'> | null {
  return entry && { key: entry.key, value: entry.value, version: entry.version };
}

interface CheckContext {
  /** A key prefix unique to this check. */
  ns: string;
  /** The first store handle. */
  store: TokenStore;
  /** Another handle on the same data ("another process"). */
  another: () => Promise<TokenStore>;
  /** Lets `ms` pass for TTLs: sleeps with the real clock, advances a manual one. */
  pass: (ms: number) => Promise<void>;
  now: () => number;
  /** The base time unit. */
  unit: number;
  manual: boolean;
}

/**
 * The checks of {@link runTokenStoreConformance} as plain functions (each opens and closes its
 * own store handles), to run a subset or prove a broken store fails one.
 */
export function tokenStoreConformanceChecks(options: TokenStoreConformanceOptions): ConformanceCheck<TokenStoreCheckId>[] {
  const manualClock = options.clock && options.clock !== 'real' ? options.clock : undefined;
  const unit = options.timeUnitMs ?? 100;
  const concurrency = options.concurrency ?? 25;

  const checks: ConformanceCheck<TokenStoreCheckId>[] = [];
  const add = (id: TokenStoreCheckId, title: string, body: (context: CheckContext) => Promise<void>) => {
    checks.push({
      id,
      title,
      run: async () => {
        const handles: TokenStore[] = [];
        const open = async () => {
          const handle = await options.createStore();
          handles.push(handle);
          return handle;
        };
        try {
          const store = await open();
          await body({
            ns: `lmp-conformance:${randomUUID()}:`,
            store,
            another: open,
            pass: async (ms) => {
              if (manualClock) await manualClock.advance(ms);
              else await sleep(ms);
            },
            now: () => (manualClock ? manualClock.now() : Date.now()),
            unit,
            manual: manualClock !== undefined,
          });
        } finally {
          if (options.closeStores !== false) for (const handle of handles) await handle.close?.();
        }
      },
    });
  };

  add('get.absent', 'get() of an absent key is null', async ({ store, ns }) => {
    expect(await store.get(`${ns}missing`)).toBeNull();
  });

  add('set.create', 'set() creates an entry at version 1 without expiry', async ({ store, ns }) => {
    const entry = await store.set(`${ns}a`, 'one');
    expect(strip(entry)).toEqual({ key: `${ns}a`, value: 'one', version: 1 });
    expect(entry.expiresAt).toBeUndefined();
    const read = await store.get(`${ns}a`);
    expect(strip(read)).toEqual({ key: `${ns}a`, value: 'one', version: 1 });
    expect(read?.expiresAt).toBeUndefined();
  });

  add('set.version-increments', 'every successful set() adds exactly 1 to the version', async ({ store, ns }) => {
    for (let version = 1; version <= 4; version += 1) {
      expect((await store.set(`${ns}a`, `v${version}`)).version).toBe(version);
    }
    expect(strip(await store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: 'v4', version: 4 });
  });

  add('set.create-only', 'set() with expectedVersion null creates only when absent', async ({ store, ns }) => {
    expect((await store.set(`${ns}a`, 'first', { expectedVersion: null })).version).toBe(1);
    expectConflict(await settle(store.set(`${ns}a`, 'second', { expectedVersion: null })), 'create over an existing key');
    expect(strip(await store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: 'first', version: 1 });
  });

  add('set.compare-and-set', 'set() with a number writes only when the version matches', async ({ store, ns }) => {
    await store.set(`${ns}a`, 'v1');
    expect((await store.set(`${ns}a`, 'v2', { expectedVersion: 1 })).version).toBe(2);
    expectConflict(await settle(store.set(`${ns}a`, 'stale', { expectedVersion: 1 })), 'stale expectedVersion');
    expectConflict(await settle(store.set(`${ns}a`, 'future', { expectedVersion: 3 })), 'future expectedVersion');
    expectConflict(await settle(store.set(`${ns}absent`, 'x', { expectedVersion: 1 })), 'expectedVersion on an absent key');
    expect(await store.get(`${ns}absent`)).toBeNull();
    expect(strip(await store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: 'v2', version: 2 });
  });

  add('set.conflict-error', 'a conflict is a retryable LetmepostError store_conflict', async ({ store, ns }) => {
    await store.set(`${ns}a`, 'v1');
    const outcome = await settle(store.set(`${ns}a`, 'x', { expectedVersion: 7 }));
    expectConflict(outcome, 'conflict');
    if (outcome.status === 'rejected') expect((outcome.reason as LetmepostError).retryable).toBe(true);
  });

  add('set.roundtrip', 'values and keys round-trip exactly', async ({ store, ns }) => {
    const values = ['', ' padded ', 'naïve 😀 日本語', '{"quoted":"\\"x\\"","path":"C:\\\\tmp"}', 'line\nbreak\ttab', 'x'.repeat(256 * 1024)];
    for (const [index, value] of values.entries()) {
      await store.set(`${ns}value:${index}`, value);
      expect((await store.get(`${ns}value:${index}`))?.value, `value ${index}`).toBe(value);
    }
    const keys = [`${ns}with space`, `${ns}üñí/cødé:😀`, `${ns}quote'"\\`, `${ns}${'k'.repeat(200)}`];
    for (const key of keys) {
      await store.set(key, key);
      expect((await store.get(key))?.key).toBe(key);
      expect((await store.get(key))?.value).toBe(key);
    }
  });

  if (options.readRaw) {
    const readRaw = options.readRaw;
    add('set.raw', 'what set() writes is what the backing storage holds', async ({ store, ns }) => {
      await store.set(`${ns}a`, 'first value');
      expect(await readRaw(`${ns}a`)).toBe('first value');
      await store.set(`${ns}a`, 'second value', { expectedVersion: 1 });
      expect(await readRaw(`${ns}a`)).toBe('second value');
      await settle(store.set(`${ns}a`, 'refused value', { expectedVersion: 1 }));
      expect(await readRaw(`${ns}a`)).toBe('second value');
      await store.delete(`${ns}a`);
      expect(await readRaw(`${ns}a`)).toBeNull();
    });
  }

  add('delete', 'delete() reports whether it removed an entry', async ({ store, ns }) => {
    await store.set(`${ns}a`, 'x');
    expect(await store.delete(`${ns}a`)).toBe(true);
    expect(await store.get(`${ns}a`)).toBeNull();
    expect(await store.delete(`${ns}a`)).toBe(false);
    expect(await store.delete(`${ns}never`)).toBe(false);
  });

  add('delete.compare', 'delete() with expectedVersion removes only the expected version', async ({ store, ns }) => {
    await store.set(`${ns}a`, 'x');
    await store.set(`${ns}a`, 'y');
    const stale = await settle(store.delete(`${ns}a`, { expectedVersion: 1 }));
    // Either answer keeps the contract; what matters is that the newer entry survives.
    if (stale.status === 'fulfilled') expect(stale.value).toBe(false);
    else expectConflict(stale, 'delete with a stale version');
    expect(strip(await store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: 'y', version: 2 });
    expect(await store.delete(`${ns}a`, { expectedVersion: 2 })).toBe(true);
    expect(await store.get(`${ns}a`)).toBeNull();
  });

  add('delete.recreate', 'an entry created again after delete() starts at version 1', async ({ store, ns }) => {
    await store.set(`${ns}a`, 'x');
    await store.set(`${ns}a`, 'y');
    await store.delete(`${ns}a`);
    expect((await store.set(`${ns}a`, 'z', { expectedVersion: null })).version).toBe(1);
  });

  add('ttl.expires', 'an entry is readable until its TTL passes, then absent', async ({ store, ns, pass, now, unit }) => {
    const ttl = 3 * unit;
    const before = now();
    const written = await store.set(`${ns}a`, 'short-lived', { ttlMs: ttl });
    const after = now();
    expect(written.expiresAt).toBeGreaterThanOrEqual(before + ttl);
    expect(written.expiresAt).toBeLessThanOrEqual(after + ttl);
    const read = await store.get(`${ns}a`);
    expect(read?.value).toBe('short-lived');
    expect(read?.expiresAt).toBe(written.expiresAt);
    await pass(ttl + unit);
    expect(await store.get(`${ns}a`)).toBeNull();
  });

  add('ttl.absent-everywhere', 'an expired entry is absent for set, delete and list too', async ({ store, ns, pass, unit }) => {
    await store.set(`${ns}a`, 'v1', { ttlMs: unit });
    await store.set(`${ns}b`, 'v1', { ttlMs: unit });
    await store.set(`${ns}c`, 'v1', { ttlMs: unit });
    await store.set(`${ns}keep`, 'kept');
    await pass(2 * unit);
    expect((await store.list(ns)).map((entry) => entry.key)).toEqual([`${ns}keep`]);
    expect(await store.delete(`${ns}a`)).toBe(false);
    expect((await store.set(`${ns}b`, 'again', { expectedVersion: null })).version).toBe(1);
    expectConflict(await settle(store.set(`${ns}c`, 'stale', { expectedVersion: 1 })), 'compare-and-set on an expired entry');
    expect((await store.set(`${ns}c`, 'fresh')).version).toBe(1);
  });

  add('ttl.replaced-by-set', 'each set() writes the TTL it is given (none means permanent)', async ({ store, ns, pass, unit }) => {
    await store.set(`${ns}a`, 'v1', { ttlMs: 2 * unit });
    const permanent = await store.set(`${ns}a`, 'v2', { expectedVersion: 1 });
    expect(permanent.expiresAt).toBeUndefined();
    await store.set(`${ns}b`, 'v1');
    await store.set(`${ns}b`, 'v2', { ttlMs: 2 * unit });
    await pass(3 * unit);
    expect(strip(await store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: 'v2', version: 2 });
    expect(await store.get(`${ns}b`)).toBeNull();
  });

  add('list.prefix', 'list() returns only entries under the prefix, as full entries', async ({ store, ns }) => {
    await store.set(`${ns}acct:1`, 'one');
    await store.set(`${ns}acct:2`, 'two');
    await store.set(`${ns}acct:2`, 'two-b');
    await store.set(`${ns}acctx`, 'not under acct:');
    await store.set(`${ns}other:1`, 'other');
    const entries = await store.list(`${ns}acct:`);
    expect(entries.map(strip)).toEqual([
      { key: `${ns}acct:1`, value: 'one', version: 1 },
      { key: `${ns}acct:2`, value: 'two-b', version: 2 },
    ]);
    expect(await store.list(`${ns}nothing:`)).toEqual([]);
  });

  add('list.literal-prefix', 'list() treats %, _, * and \\ in the prefix literally', async ({ store, ns }) => {
    for (const suffix of ['a%b', 'a_b', 'aXb', 'a*b', 'a\\b', 'a[b]', 'a?b', 'ab']) await store.set(`${ns}${suffix}`, suffix);
    const keysUnder = async (prefix: string) => (await store.list(`${ns}${prefix}`)).map((entry) => entry.value);
    expect(await keysUnder('a%')).toEqual(['a%b']);
    expect(await keysUnder('a_')).toEqual(['a_b']);
    expect(await keysUnder('a*')).toEqual(['a*b']);
    expect(await keysUnder('a\\')).toEqual(['a\\b']);
    expect(await keysUnder('a[')).toEqual(['a[b]']);
    expect(await keysUnder('a?')).toEqual(['a?b']);
  });

  add('list.order', 'list() orders by key code units, whatever the insertion order', async ({ store, ns }) => {
    const suffixes = ['b', 'a:10', 'B', 'a:2', 'a', 'a:1', '_', 'Z', 'a:a', '0', '~', 'a:B'];
    for (const suffix of suffixes) await store.set(`${ns}${suffix}`, suffix);
    const expected = suffixes.map((suffix) => `${ns}${suffix}`).sort();
    expect((await store.list(ns)).map((entry) => entry.key)).toEqual(expected);
  });

  add('list.pagination', 'list() pages with limit and an exclusive after', async ({ store, ns }) => {
    const keys = Array.from({ length: 7 }, (_, index) => `${ns}item:${String(index).padStart(2, '0')}`);
    for (const key of [...keys].reverse()) await store.set(key, key);
    expect((await store.list(ns, { limit: 3 })).map((entry) => entry.key)).toEqual(keys.slice(0, 3));
    expect((await store.list(ns, { after: keys[2] })).map((entry) => entry.key)).toEqual(keys.slice(3));
    expect((await store.list(ns, { after: `${ns}item:025` })).map((entry) => entry.key)).toEqual(keys.slice(3));
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const entries = await store.list(ns, { limit: 2, ...(after === undefined ? {} : { after }) });
      if (entries.length === 0) break;
      expect(entries.length).toBeLessThanOrEqual(2);
      seen.push(...entries.map((entry) => entry.key));
      after = entries.at(-1)?.key;
    }
    expect(seen).toEqual(keys);
  });

  add('increment.counts', 'increment() counts events per key', async ({ store, ns }) => {
    const window = { windowMs: 60_000 };
    expect(await store.increment(`${ns}c`, window)).toEqual({ count: 1, accepted: true });
    expect(await store.increment(`${ns}c`, window)).toEqual({ count: 2, accepted: true });
    expect(await store.increment(`${ns}other`, window)).toEqual({ count: 1, accepted: true });
    expect(await store.increment(`${ns}c`, window)).toEqual({ count: 3, accepted: true });
  });

  add('increment.window', 'events leave the count once they are older than the rolling window', async ({ store, ns, pass, unit }) => {
    const window = { windowMs: 4 * unit };
    await store.increment(`${ns}c`, window);
    await store.increment(`${ns}c`, window);
    await pass(2 * unit);
    expect((await store.increment(`${ns}c`, window)).count).toBe(3);
    await pass(3 * unit);
    // The first two are now 5 units old, the third 3 units: only it and this one remain.
    expect((await store.increment(`${ns}c`, window)).count).toBe(2);
  });

  add('increment.limit', 'an increment that would pass the limit is refused and adds nothing', async ({ store, ns, pass, unit }) => {
    const options = { windowMs: 2 * unit, limit: 3 };
    for (let count = 1; count <= 3; count += 1) expect(await store.increment(`${ns}c`, options)).toEqual({ count, accepted: true });
    expect(await store.increment(`${ns}c`, options)).toEqual({ count: 3, accepted: false });
    expect(await store.increment(`${ns}c`, options)).toEqual({ count: 3, accepted: false });
    await pass(3 * unit);
    expect(await store.increment(`${ns}c`, options)).toEqual({ count: 1, accepted: true });
  });

  add('increment.amount', 'amount adds several events at once and the limit applies to the total', async ({ store, ns }) => {
    const window = { windowMs: 60_000 };
    expect(await store.increment(`${ns}c`, { ...window, amount: 3 })).toEqual({ count: 3, accepted: true });
    expect(await store.increment(`${ns}c`, { ...window, amount: 3, limit: 5 })).toEqual({ count: 3, accepted: false });
    expect(await store.increment(`${ns}c`, { ...window, amount: 2, limit: 5 })).toEqual({ count: 5, accepted: true });
  });

  add('increment.negative', 'a negative amount removes the newest events, never below zero', async ({ store, ns, pass, unit }) => {
    const window = { windowMs: 4 * unit };
    await store.increment(`${ns}c`, window);
    await pass(2 * unit);
    await store.increment(`${ns}c`, window);
    await store.increment(`${ns}c`, window);
    expect(await store.increment(`${ns}c`, { ...window, amount: -1, limit: 10 })).toEqual({ count: 2, accepted: true });
    await pass(3 * unit);
    // The oldest event has left the window; had the decrement removed it instead of the newest,
    // the count would be 3 here.
    expect((await store.increment(`${ns}c`, window)).count).toBe(2);
    expect(await store.increment(`${ns}c`, { ...window, amount: -5 })).toEqual({ count: 0, accepted: true });
    expect(await store.increment(`${ns}c`, window)).toEqual({ count: 1, accepted: true });
  });

  add('lock.runs', 'withLock() passes a lease and returns what fn returns', async ({ store, ns, now }) => {
    const before = now();
    const result = await store.withLock(
      `${ns}lock`,
      async (lease) => {
        expect(lease.key).toBe(`${ns}lock`);
        expect(Number.isSafeInteger(lease.token) && lease.token > 0).toBe(true);
        expect(lease.expiresAt).toBeGreaterThanOrEqual(before + 10_000);
        return { answer: 42 };
      },
      { ttlMs: 10_000 },
    );
    expect(result).toEqual({ answer: 42 });
    // Released: a new holder gets it at once.
    await store.withLock(`${ns}lock`, async () => undefined, { ttlMs: 10_000, waitMs: 0 });
  });

  add('lock.releases-on-error', 'withLock() rethrows what fn throws and releases the lock', async ({ store, ns }) => {
    const failure = new Error('fn failed');
    const outcome = await settle(
      store.withLock(
        `${ns}lock`,
        async () => {
          throw failure;
        },
        { ttlMs: 10_000 },
      ),
    );
    expect(outcome).toEqual({ status: 'rejected', reason: failure });
    expect(outcome.status === 'rejected' && outcome.reason).toBe(failure);
    await store.withLock(`${ns}lock`, async () => undefined, { ttlMs: 10_000, waitMs: 0 });
  });

  add('lock.exclusive', 'a second caller waits until the holder releases', async ({ store, ns, another, unit }) => {
    const other = await another();
    const events: string[] = [];
    const held = deferred();
    const release = deferred();
    const first = store.withLock(
      `${ns}lock`,
      async () => {
        events.push('first:start');
        held.resolve();
        await release.promise;
        events.push('first:end');
      },
      { ttlMs: 60_000 },
    );
    await signalled(held.promise, first, 'the first holder');
    const second = other.withLock(
      `${ns}lock`,
      async () => {
        events.push('second:start');
      },
      { ttlMs: 60_000, waitMs: 60_000 },
    );
    await sleep(unit);
    expect(events).toEqual(['first:start']);
    release.resolve();
    await Promise.all([first, second]);
    expect(events).toEqual(['first:start', 'first:end', 'second:start']);
  });

  add('lock.wait-timeout', 'a caller gives up with store_conflict after waitMs', async ({ store, ns, another, unit }) => {
    const other = await another();
    const held = deferred();
    const release = deferred();
    const holder = store.withLock(
      `${ns}lock`,
      async () => {
        held.resolve();
        await release.promise;
      },
      { ttlMs: 60_000 },
    );
    await signalled(held.promise, holder, 'the holder');
    let ran = false;
    const started = performance.now();
    const outcome = await settle(
      other.withLock(
        `${ns}lock`,
        async () => {
          ran = true;
        },
        { ttlMs: 60_000, waitMs: 2 * unit },
      ),
    );
    const waited = performance.now() - started;
    expectConflict(outcome, 'lock wait timeout');
    expect(ran).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(2 * unit * 0.9);
    expect(waited, 'gave up long after waitMs').toBeLessThan(2 * unit + 5_000);
    release.resolve();
    await holder;
  });

  add('lock.default-wait', 'waitMs defaults to ttlMs', async ({ store, ns, another, unit }) => {
    const other = await another();
    const held = deferred();
    const release = deferred();
    const holder = store.withLock(
      `${ns}lock`,
      async () => {
        held.resolve();
        await release.promise;
      },
      { ttlMs: 60_000 },
    );
    await signalled(held.promise, holder, 'the holder');
    const started = performance.now();
    const outcome = await settle(other.withLock(`${ns}lock`, async () => undefined, { ttlMs: 2 * unit }));
    expectConflict(outcome, 'lock wait with the default waitMs');
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * unit * 0.9);
    release.resolve();
    await holder;
  });

  add('lock.tokens-increase', 'every grant carries a larger fencing token, across handles', async ({ store, ns, another }) => {
    const other = await another();
    const tokens: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      const handle = round % 2 === 0 ? store : other;
      tokens.push(await handle.withLock(`${ns}lock`, async (lease) => lease.token, { ttlMs: 10_000 }));
    }
    for (let index = 1; index < tokens.length; index += 1) expect(tokens[index]).toBeGreaterThan(tokens[index - 1]!);
  });

  add('lock.expiry-takeover', 'a lease that expires can be taken over by another caller', async ({ store, ns, another, pass, unit, manual }) => {
    const other = await another();
    const takenOver = deferred();
    const held = deferred<LockLease>();
    const stale = store.withLock(
      `${ns}lock`,
      async (lease) => {
        held.resolve(lease);
        await takenOver.promise;
      },
      { ttlMs: 2 * unit },
    );
    const first = await signalled(held.promise, stale, 'the first holder');
    if (manual) await pass(3 * unit);
    const started = performance.now();
    const second = await other.withLock(`${ns}lock`, async (lease) => lease, { ttlMs: 60_000, waitMs: 60_000 });
    if (!manual) expect(performance.now() - started, 'took the lock only after expiry').toBeGreaterThanOrEqual(unit);
    expect(second.token).toBeGreaterThan(first.token);
    takenOver.resolve();
    await settle(stale);
  });

  add('lock.isolated-from-entries', 'a lock on a key leaves the entry of that key and list() alone', async ({ store, ns }) => {
    await store.set(`${ns}k`, 'value');
    await store.withLock(
      `${ns}k`,
      async () => {
        expect(strip(await store.get(`${ns}k`))).toEqual({ key: `${ns}k`, value: 'value', version: 1 });
        expect((await store.list(ns)).map((entry) => entry.key)).toEqual([`${ns}k`]);
      },
      { ttlMs: 10_000 },
    );
    await store.withLock(`${ns}only-a-lock`, async () => undefined, { ttlMs: 10_000 });
    expect(await store.get(`${ns}only-a-lock`)).toBeNull();
    expect((await store.list(ns)).map((entry) => entry.key)).toEqual([`${ns}k`]);
    expect(strip(await store.get(`${ns}k`))).toEqual({ key: `${ns}k`, value: 'value', version: 1 });
  });

  add('fence.current-lease', 'a set() fenced by the current lease succeeds (and still checks versions)', async ({ store, ns }) => {
    await store.withLock(
      `${ns}lock`,
      async (lease) => {
        expect((await store.set(`${ns}data`, 'v1', { fence: lease })).version).toBe(1);
        expect((await store.set(`${ns}data`, 'v2', { fence: lease, expectedVersion: 1 })).version).toBe(2);
        expectConflict(await settle(store.set(`${ns}data`, 'stale', { fence: lease, expectedVersion: 1 })), 'fenced write with a stale version');
      },
      { ttlMs: 60_000 },
    );
    expect((await store.get(`${ns}data`))?.value).toBe('v2');
  });

  add('fence.released-lease', 'a set() fenced by a released lease fails', async ({ store, ns }) => {
    const lease = await store.withLock(`${ns}lock`, async (granted) => granted, { ttlMs: 60_000 });
    expectConflict(await settle(store.set(`${ns}data`, 'late', { fence: lease })), 'write fenced by a released lease');
    expect(await store.get(`${ns}data`)).toBeNull();
  });

  add('fence.expired-lease', 'a set() fenced by an expired lease fails even with no new holder', async ({ store, ns, pass, unit }) => {
    await store.withLock(
      `${ns}lock`,
      async (lease) => {
        await pass(3 * unit);
        expectConflict(await settle(store.set(`${ns}data`, 'late', { fence: lease })), 'write fenced by an expired lease');
      },
      { ttlMs: 2 * unit },
    );
    expect(await store.get(`${ns}data`)).toBeNull();
  });

  add(
    'fence.superseded-lease',
    'after a lease expires and another process takes the lock, the old lease cannot write and its release leaves the new holder alone',
    async ({ store, ns, another, pass, unit, manual }) => {
      const other = await another();
      const third = await another();
      const aHolds = deferred<LockLease>();
      const bHolds = deferred<LockLease>();
      const aFinished = deferred();
      let staleWrite: Settled<StoreEntry> | undefined;
      const staleHolder = store.withLock(
        `${ns}lock`,
        async (lease) => {
          aHolds.resolve(lease);
          await bHolds.promise;
          staleWrite = await settle(store.set(`${ns}data`, 'from the stale holder', { fence: lease }));
        },
        { ttlMs: 2 * unit },
      );
      const leaseA = await signalled(aHolds.promise, staleHolder, 'the first holder');
      if (manual) await pass(3 * unit);
      const newHolder = other.withLock(
        `${ns}lock`,
        async (leaseB) => {
          expect(leaseB.token).toBeGreaterThan(leaseA.token);
          bHolds.resolve(leaseB);
          await aFinished.promise;
          await other.set(`${ns}data`, 'from the current holder', { fence: leaseB });
          // The stale holder has "released" by now; the lock must still be B's.
          expectConflict(
            await settle(third.withLock(`${ns}lock`, async () => undefined, { ttlMs: 60_000, waitMs: unit })),
            'a third caller while B holds the lock',
          );
          await other.set(`${ns}data`, 'again from the current holder', { fence: leaseB });
        },
        { ttlMs: 60_000, waitMs: 60_000 },
      );
      // If B never gets the lock, let A go on rather than wait forever.
      void newHolder.then(
        () => bHolds.resolve(leaseA),
        () => bHolds.resolve(leaseA),
      );
      await settle(staleHolder);
      aFinished.resolve();
      const current = await settle(newHolder);
      expect(staleWrite, 'the stale holder got to write').toBeDefined();
      expectConflict(staleWrite!, 'write fenced by a superseded lease');
      if (current.status === 'rejected') throw current.reason;
      expect((await store.get(`${ns}data`))?.value).toBe('again from the current holder');
    },
  );

  const handlesFor = async (context: CheckContext): Promise<TokenStore[]> => [context.store, await context.another(), await context.another()];

  add('race.compare-and-set', `of ${concurrency} concurrent compare-and-set writers, exactly one wins`, async (context) => {
    const { ns } = context;
    const handles = await handlesFor(context);
    await context.store.set(`${ns}a`, 'initial');
    const outcomes = await Promise.all(
      Array.from({ length: concurrency }, (_, index) =>
        settle(handles[index % handles.length]!.set(`${ns}a`, `writer-${index}`, { expectedVersion: 1 })),
      ),
    );
    const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [index] : []));
    expect(winners).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expectConflict(outcome, 'losing writer');
    expect(strip(await context.store.get(`${ns}a`))).toEqual({ key: `${ns}a`, value: `writer-${winners[0]}`, version: 2 });
  });

  add('race.create-only', `of ${concurrency} concurrent creators, exactly one wins`, async (context) => {
    const { ns } = context;
    const handles = await handlesFor(context);
    const outcomes = await Promise.all(
      Array.from({ length: concurrency }, (_, index) =>
        settle(handles[index % handles.length]!.set(`${ns}a`, `creator-${index}`, { expectedVersion: null })),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expectConflict(outcome, 'losing creator');
    expect((await context.store.get(`${ns}a`))?.version).toBe(1);
  });

  add('race.lost-update', `${concurrency} concurrent read-modify-write loops lose no update`, async (context) => {
    const { ns } = context;
    const handles = await handlesFor(context);
    await context.store.set(`${ns}counter`, '0');
    await Promise.all(
      Array.from({ length: concurrency }, async (_, index) => {
        const handle = handles[index % handles.length]!;
        for (let attempt = 0; attempt < 1_000; attempt += 1) {
          const current = await handle.get(`${ns}counter`);
          const outcome = await settle(
            handle.set(`${ns}counter`, String(Number(current!.value) + 1), { expectedVersion: current!.version }),
          );
          if (outcome.status === 'fulfilled') return;
          expectConflict(outcome, 'retrying writer');
        }
        throw new Error('a writer never got through');
      }),
    );
    expect(strip(await context.store.get(`${ns}counter`))).toEqual({ key: `${ns}counter`, value: String(concurrency), version: concurrency + 1 });
  });

  add('race.increment-limit', `${concurrency} concurrent limited increments never pass the limit`, async (context) => {
    const { ns } = context;
    const handles = await handlesFor(context);
    const limit = Math.max(1, Math.floor(concurrency / 2.5));
    const options = { windowMs: 60_000, limit };
    const results = await Promise.all(
      Array.from({ length: concurrency }, (_, index) => handles[index % handles.length]!.increment(`${ns}c`, options)),
    );
    expect(results.filter((result) => result.accepted)).toHaveLength(limit);
    for (const result of results) expect(result.count).toBeLessThanOrEqual(limit);
    expect(await context.store.increment(`${ns}c`, options)).toEqual({ count: limit, accepted: false });
  });

  add('race.lock', `${concurrency} concurrent withLock sections across handles never overlap`, async (context) => {
    const { ns } = context;
    const handles = await handlesFor(context);
    let active = 0;
    let maxActive = 0;
    const tokens: number[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, (_, index) =>
        handles[index % handles.length]!.withLock(
          `${ns}lock`,
          async (lease) => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            tokens.push(lease.token);
            await sleep(index % 3);
            active -= 1;
          },
          { ttlMs: 60_000, waitMs: 120_000 },
        ),
      ),
    );
    expect(maxActive).toBe(1);
    expect(tokens).toHaveLength(concurrency);
    expect(tokens, 'tokens grow in grant order').toEqual([...tokens].sort((left, right) => left - right));
    expect(new Set(tokens).size).toBe(concurrency);
  });

  const skip = new Set(options.skip ?? []);
  return checks.filter((check) => !skip.has(check.id));
}

/**
 * Registers the token store conformance suite with vitest: one `describe` per store and one `it`
 * per semantic documented on `TokenStore` in `@letmepost/core`.
 */
export function runTokenStoreConformance(options: TokenStoreConformanceOptions): void {
  const checks = tokenStoreConformanceChecks(options);
  // A manual clock is shared by all checks, so they cannot overlap.
  describe.sequential(`${options.name} token store conformance`, () => {
    for (const check of checks) it(`${check.id}: ${check.title}`, check.run, 60_000);
    if (options.cleanup) afterAll(options.cleanup);
  });
}
