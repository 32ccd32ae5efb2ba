import { systemClock, type Clock } from './clock.js';
import { LetmepostError } from './letmepost-error.js';
import type {
  LockLease,
  StoreEntry,
  StoreIncrementResult,
  StoreSetOptions,
  TokenStore,
} from './token-store.js';

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

/** How often a waiter re-checks a lease that nobody released (it may expire by the clock). */
const LOCK_POLL_INTERVAL_MS = 10;

/**
 * A `TokenStore` kept in this process's memory. Honours every rule of the contract, so it is the
 * reference the conformance suite is checked against and a fine store for tests, scripts and a
 * single-process host that can afford to lose its state on restart. Leases are only exclusive
 * within this process.
 */
export function memoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, StoredValue>();
  /** Event timestamps per counter key, oldest first. */
  const counters = new Map<string, number[]>();
  const locks = new Map<string, LockState>();
  /** Last fencing token issued per lock key; never reset, so tokens are never reused. */
  const lastFencingToken = new Map<string, number>();
  /** Wake-ups of `withLock` callers waiting on a key, in arrival order. */
  const lockWaiters = new Map<string, Set<() => void>>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) {
      throw new LetmepostError({ code: 'store_unavailable', message: 'The memory token store is closed.' });
    }
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

  /** Waits for a wake-up (a release) or the poll interval, whichever comes first. */
  const waitForTurn = (key: string, remainingMs: number): Promise<void> =>
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
      const timer = setTimeout(wake, Math.max(1, Math.min(LOCK_POLL_INTERVAL_MS, remainingMs)));
      registered.add(wake);
    });

  const conflict = (message: string): LetmepostError =>
    new LetmepostError({ code: 'store_conflict', message });

  return {
    async get(key) {
      assertOpen();
      assertKey(key, 'key');
      const stored = readLive(key);
      return stored === undefined ? null : toEntry(key, stored);
    },

    async set(key, value, setOptions: StoreSetOptions = {}) {
      assertOpen();
      assertKey(key, 'key');
      if (typeof value !== 'string') {
        throw validationError({ field: 'value', message: 'A store value must be a string.' });
      }
      const { expectedVersion, ttlMs, fence } = setOptions;
      if (ttlMs !== undefined) assertPositiveDuration(ttlMs, 'ttlMs');
      if (expectedVersion != null && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
        throw validationError({ field: 'expectedVersion', message: 'expectedVersion must be null or a positive integer.' });
      }

      if (fence !== undefined) {
        const lock = currentLock(fence.key);
        if (lock === undefined || lock.token !== fence.token) {
          throw conflict(`The lease on "${fence.key}" with fencing token ${fence.token} no longer holds the lock.`);
        }
      }

      const current = readLive(key);
      if (expectedVersion === null && current !== undefined) {
        throw conflict(`"${key}" already exists (version ${current.version}); it was expected to be absent.`);
      }
      if (typeof expectedVersion === 'number' && current?.version !== expectedVersion) {
        throw conflict(
          current === undefined
            ? `"${key}" does not exist; expected version ${expectedVersion}.`
            : `"${key}" is at version ${current.version}; expected version ${expectedVersion}.`,
        );
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
      assertKey(key, 'key');
      const current = readLive(key);
      if (current === undefined) return false;
      const { expectedVersion } = deleteOptions;
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw conflict(`"${key}" is at version ${current.version}; expected version ${expectedVersion}.`);
      }
      entries.delete(key);
      return true;
    },

    async list(prefix, listOptions = {}) {
      assertOpen();
      if (typeof prefix !== 'string') {
        throw validationError({ field: 'prefix', message: 'The list prefix must be a string.' });
      }
      const { limit, after } = listOptions;
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
        throw validationError({ field: 'limit', message: 'limit must be a positive integer.' });
      }
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
      assertKey(key, 'key');
      const { windowMs, amount = 1, limit } = incrementOptions;
      assertPositiveDuration(windowMs, 'windowMs');
      if (!Number.isSafeInteger(amount)) {
        throw validationError({ field: 'amount', message: 'amount must be an integer.' });
      }
      if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
        throw validationError({ field: 'limit', message: 'limit must be a non-negative integer.' });
      }

      const now = clock.now();
      const windowStart = now - windowMs;
      const events = (counters.get(key) ?? []).filter((at) => at > windowStart);

      let accepted = true;
      if (amount < 0) {
        // Events are appended in time order, so the newest are at the end.
        events.splice(Math.max(0, events.length + amount));
      } else if (limit !== undefined && events.length + amount > limit) {
        accepted = false;
      } else {
        for (let index = 0; index < amount; index++) events.push(now);
      }

      if (events.length === 0) counters.delete(key);
      else counters.set(key, events);
      return { count: events.length, accepted };
    },

    async withLock(key, fn, lockOptions) {
      assertOpen();
      assertKey(key, 'key');
      const { ttlMs } = lockOptions;
      assertPositiveDuration(ttlMs, 'ttlMs');
      const waitMs = lockOptions.waitMs ?? ttlMs;
      if (!Number.isFinite(waitMs) || waitMs < 0) {
        throw validationError({ field: 'waitMs', message: 'waitMs must be a non-negative number of milliseconds.' });
      }

      // Leases expire by the injected clock, but `waitMs` is a real-time budget (as in every
      // store): a test clock that is frozen, or advanced in jumps, can neither stretch a wait
      // forever nor cut it short.
      const deadline = performance.now() + waitMs;
      let lease = tryAcquire(key, ttlMs);
      while (lease === undefined) {
        const remainingMs = deadline - performance.now();
        if (remainingMs <= 0) {
          throw conflict(`Timed out after ${waitMs} ms waiting for the lock on "${key}".`);
        }
        await waitForTurn(key, remainingMs);
        assertOpen();
        lease = tryAcquire(key, ttlMs);
      }

      const held = lease;
      try {
        return await fn({ ...held });
      } finally {
        release(held);
      }
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

function assertKey(key: unknown, field: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw validationError({ field, message: 'A store key must be a non-empty string.' });
  }
}

function assertPositiveDuration(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw validationError({ field, message: `${field} must be a positive number of milliseconds.` });
  }
}

function validationError({ field, message }: { field: string; message: string }): LetmepostError {
  return new LetmepostError({ code: 'validation_failed', field, message });
}
