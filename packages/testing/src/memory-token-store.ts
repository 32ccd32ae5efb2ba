import {
  LetmepostError,
  systemClock,
  type Clock,
  type LockLease,
  type StoreEntry,
  type StoreIncrementResult,
  type StoreSetOptions,
  type TokenStore,
} from '@letmepost/core';

interface MemoryEntry {
  value: string;
  version: number;
  expiresAt?: number;
}

export interface MemoryTokenStoreOptions {
  clock?: Clock;
}

const conflict = (message: string) => new LetmepostError({ code: 'store_conflict', message });

/**
 * A complete in-process TokenStore: the reference the conformance suite is proven against, and a
 * store for tests and single-process demos. Nothing survives a restart and nothing is shared
 * between processes.
 */
export function createMemoryTokenStore(options: MemoryTokenStoreOptions = {}): TokenStore {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, MemoryEntry>();
  const events = new Map<string, number[]>();
  const locks = new Map<string, { token: number; expiresAt: number }>();
  const lastTokens = new Map<string, number>();

  const live = (key: string): MemoryEntry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= clock.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const toEntry = (key: string, entry: MemoryEntry): StoreEntry => ({
    key,
    value: entry.value,
    version: entry.version,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
  });

  const holds = (lease: LockLease): boolean => {
    const lock = locks.get(lease.key);
    return lock !== undefined && lock.token === lease.token && lock.expiresAt > clock.now();
  };

  const tryAcquire = (key: string, ttlMs: number): LockLease | undefined => {
    const now = clock.now();
    const current = locks.get(key);
    if (current && current.expiresAt > now) return undefined;
    const token = (lastTokens.get(key) ?? 0) + 1;
    lastTokens.set(key, token);
    const lease = { key, token, expiresAt: now + ttlMs };
    locks.set(key, { token, expiresAt: lease.expiresAt });
    return lease;
  };

  return {
    async get(key) {
      const entry = live(key);
      return entry ? toEntry(key, entry) : null;
    },

    async set(key: string, value: string, setOptions: StoreSetOptions = {}) {
      if (setOptions.fence && !holds(setOptions.fence)) throw conflict(`The lock on "${setOptions.fence.key}" is no longer held by this lease.`);
      const current = live(key);
      const expected = setOptions.expectedVersion;
      if (expected === null && current) throw conflict(`"${key}" already exists.`);
      if (typeof expected === 'number' && current?.version !== expected) throw conflict(`"${key}" is not at version ${expected}.`);
      const entry: MemoryEntry = {
        value,
        version: (current?.version ?? 0) + 1,
        ...(setOptions.ttlMs === undefined ? {} : { expiresAt: clock.now() + setOptions.ttlMs }),
      };
      entries.set(key, entry);
      return toEntry(key, entry);
    },

    async delete(key, deleteOptions = {}) {
      const current = live(key);
      if (!current) return false;
      if (deleteOptions.expectedVersion !== undefined && current.version !== deleteOptions.expectedVersion) {
        throw conflict(`"${key}" is not at version ${deleteOptions.expectedVersion}.`);
      }
      return entries.delete(key);
    },

    async list(prefix, listOptions = {}) {
      const keys = [...entries.keys()]
        .filter((key) => key.startsWith(prefix) && (listOptions.after === undefined || key > listOptions.after))
        .sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
      const output: StoreEntry[] = [];
      for (const key of keys) {
        if (listOptions.limit !== undefined && output.length >= listOptions.limit) break;
        const entry = live(key);
        if (entry) output.push(toEntry(key, entry));
      }
      return output;
    },

    async increment(key, incrementOptions): Promise<StoreIncrementResult> {
      const now = clock.now();
      const amount = incrementOptions.amount ?? 1;
      const window = (events.get(key) ?? []).filter((time) => time > now - incrementOptions.windowMs);
      if (amount < 0) {
        window.splice(Math.max(0, window.length + amount));
        events.set(key, window);
        return { count: window.length, accepted: true };
      }
      if (incrementOptions.limit !== undefined && window.length + amount > incrementOptions.limit) {
        events.set(key, window);
        return { count: window.length, accepted: false };
      }
      for (let index = 0; index < amount; index += 1) window.push(now);
      events.set(key, window);
      return { count: window.length, accepted: true };
    },

    async withLock(key, fn, lockOptions) {
      const waitMs = lockOptions.waitMs ?? lockOptions.ttlMs;
      const deadline = performance.now() + waitMs;
      let lease = tryAcquire(key, lockOptions.ttlMs);
      for (let delay = 2; !lease; delay = Math.min(delay * 2, 50)) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw conflict(`Timed out after ${waitMs} ms waiting for the lock on "${key}".`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)));
        lease = tryAcquire(key, lockOptions.ttlMs);
      }
      try {
        return await fn(lease);
      } finally {
        if (locks.get(key)?.token === lease.token) locks.delete(key);
      }
    },
  };
}
