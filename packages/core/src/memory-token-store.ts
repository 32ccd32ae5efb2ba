import { systemClock, type Clock } from './clock.js';
import { RollingWindowCounter } from './rolling-window-counter.js';
import type {
  LockLease,
  StoreEntry,
  StoreIncrementResult,
  StoreSetOptions,
  TokenStore,
} from './token-store.js';
import {
  checkStoreArguments,
  entryExistsError,
  leaseLostError,
  runWithLockLease,
  storeClosedError,
  versionConflictError,
} from './token-store-support.js';

export interface MemoryTokenStoreOptions {
  /** Time source for TTLs, rolling windows and lease expiry. Defaults to `Date.now()`. */
  clock?: Clock;
}

interface StoredValue {
  value: string;
  version: number;
  expiresAt: number | undefined;
}

interface LockState {
  token: number;
  expiresAt: number;
}

/**
 * How often a waiter re-checks a lease that nobody released (it may expire by the clock). No
 * backoff: a release wakes waiters at once, so polling only catches expiry and costs no queries.
 */
const LOCK_POLL = { minDelayMs: 10, maxDelayMs: 10 };

/**
 * A `TokenStore` kept in this process's memory. Honours every rule of the contract, so it is the
 * reference the conformance suite is checked against and a fine store for tests, scripts and a
 * single-process host that can afford to lose its state on restart. Leases are only exclusive
 * within this process.
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, StoredValue>();
  /** Rolling-window event counts per counter key. */
  const counters = new Map<string, RollingWindowCounter>();
  const locks = new Map<string, LockState>();
  /** Last fencing token issued per lock key; never reset, so tokens are never reused. */
  const lastFencingToken = new Map<string, number>();
  /** Wake-ups of `withLock` callers waiting on a key, in arrival order. */
  const lockWaiters = new Map<string, Set<() => void>>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw storeClosedError({ storeName: 'memory' });
  };

  const readLive = (key: string): StoredValue | undefined => {
    const stored = entries.get(key);
    if (stored === undefined) return undefined;
    if (stored.expiresAt !== undefined && stored.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return stored;
  };

  const toEntry = (key: string, stored: StoredValue): StoreEntry =>
    stored.expiresAt === undefined
      ? { key, value: stored.value, version: stored.version }
      : { key, value: stored.value, version: stored.version, expiresAt: stored.expiresAt };

  const currentLock = (key: string): LockState | undefined => {
    const lock = locks.get(key);
    if (lock !== undefined && lock.expiresAt <= clock.now()) {
      locks.delete(key);
      return undefined;
    }
    return lock;
  };

  const wakeWaiters = (key: string): void => {
    const waiters = lockWaiters.get(key);
    if (waiters === undefined) return;
    for (const wake of [...waiters]) wake();
  };

  const tryAcquire = (key: string, ttlMs: number): LockLease | undefined => {
    if (currentLock(key) !== undefined) return undefined;
    const token = (lastFencingToken.get(key) ?? 0) + 1;
    lastFencingToken.set(key, token);
    const expiresAt = clock.now() + ttlMs;
    locks.set(key, { token, expiresAt });
    return { key, token, expiresAt };
  };

  const release = (lease: LockLease): void => {
    // A lease that ran past its TTL may already belong to someone else; only the holder releases.
    if (locks.get(lease.key)?.token === lease.token) {
      locks.delete(lease.key);
      wakeWaiters(lease.key);
    }
  };

  /** Waits for a wake-up (a release) or `delayMs`, whichever comes first. */
  const waitForTurn = (key: string, delayMs: number): Promise<void> =>
    new Promise((resolve) => {
      let waiters = lockWaiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        lockWaiters.set(key, waiters);
      }
      const registered = waiters;
      const wake = (): void => {
        clearTimeout(timer);
        registered.delete(wake);
        if (registered.size === 0 && lockWaiters.get(key) === registered) lockWaiters.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, delayMs);
      registered.add(wake);
    });

  return {
    // Not an async function: a read is synchronous here, and every publish makes two of them.
    get(key) {
      try {
        assertOpen();
        checkStoreArguments.get({ key });
        const stored = readLive(key);
        return Promise.resolve(stored === undefined ? null : toEntry(key, stored));
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async set(key, value, setOptions: StoreSetOptions = {}) {
      assertOpen();
      checkStoreArguments.set({ key, value, options: setOptions });
      const { expectedVersion, ttlMs, fence } = setOptions;

      if (fence !== undefined) {
        const lock = currentLock(fence.key);
        if (lock === undefined || lock.token !== fence.token) {
          throw leaseLostError({ fence });
        }
      }

      const current = readLive(key);
      if (expectedVersion === null && current !== undefined) {
        throw entryExistsError({ key, currentVersion: current.version });
      }
      if (typeof expectedVersion === 'number' && current?.version !== expectedVersion) {
        throw versionConflictError({ key, expectedVersion, currentVersion: current?.version ?? null });
      }

      const stored: StoredValue = {
        value,
        version: (current?.version ?? 0) + 1,
        // A write defines the entry's lifetime afresh: no `ttlMs` means it no longer expires.
        expiresAt: ttlMs === undefined ? undefined : clock.now() + ttlMs,
      };
      entries.set(key, stored);
      return toEntry(key, stored);
    },

    async delete(key, deleteOptions = {}) {
      assertOpen();
      checkStoreArguments.delete({ key, options: deleteOptions });
      const current = readLive(key);
      if (current === undefined) return false;
      const { expectedVersion } = deleteOptions;
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw versionConflictError({ key, expectedVersion, currentVersion: current.version });
      }
      entries.delete(key);
      return true;
    },

    async list(prefix, listOptions = {}) {
      assertOpen();
      checkStoreArguments.list({ prefix, options: listOptions });
      const { limit, after } = listOptions;
      const keys: string[] = [];
      for (const key of entries.keys()) {
        if (key.startsWith(prefix) && (after === undefined || compareKeys(key, after) > 0)) keys.push(key);
      }
      keys.sort(compareKeys);
      const result: StoreEntry[] = [];
      for (const key of keys) {
        if (limit !== undefined && result.length >= limit) break;
        const stored = readLive(key);
        if (stored !== undefined) result.push(toEntry(key, stored));
      }
      return result;
    },

    async increment(key, incrementOptions): Promise<StoreIncrementResult> {
      assertOpen();
      checkStoreArguments.increment({ key, options: incrementOptions });
      const { windowMs, amount = 1, limit } = incrementOptions;

      const now = clock.now();
      let counter = counters.get(key);
      if (counter === undefined) {
        counter = new RollingWindowCounter();
        counters.set(key, counter);
      }
      counter.expire({ now, windowMs });

      let accepted = true;
      if (amount < 0) counter.removeNewest({ amount: -amount });
      else if (limit !== undefined && counter.count + amount > limit) accepted = false;
      else counter.add({ now, amount });

      const count = counter.count;
      if (count === 0) counters.delete(key);
      return { count, accepted };
    },

    async withLock(key, fn, lockOptions) {
      assertOpen();
      return runWithLockLease({
        key,
        options: lockOptions,
        fn,
        tryAcquire: () => {
          // `close()` wakes every waiter, which then fails here instead of taking a lease.
          assertOpen();
          return tryAcquire(key, lockOptions.ttlMs);
        },
        release,
        retry: LOCK_POLL,
        pause: (delayMs) => waitForTurn(key, delayMs),
      });
    },

    async close() {
      closed = true;
      entries.clear();
      counters.clear();
      locks.clear();
      for (const key of [...lockWaiters.keys()]) wakeWaiters(key);
    },
  };
}

/**
 * Orders keys by Unicode code point, which is the order of their UTF-8 bytes: the order SQLite
 * (BINARY), PostgreSQL (`COLLATE "C"`) and Redis give, so paging with `after` behaves the same in
 * every store. Plain `<` compares UTF-16 code units and disagrees for characters above U+FFFF.
 */
function compareKeys(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index++) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit === rightUnit) continue;
    const leftPoint = left.codePointAt(index) ?? leftUnit;
    const rightPoint = right.codePointAt(index) ?? rightUnit;
    // Surrogate halves (0xD800–0xDFFF) sort above the BMP range 0xE000–0xFFFF once decoded.
    return leftPoint < rightPoint ? -1 : 1;
  }
  return left.length - right.length;
}
