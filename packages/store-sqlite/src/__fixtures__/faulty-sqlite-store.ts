/**
 * The real SQLite store with one deliberate fault in its compare-and-set updates, so the tests
 * can show that the key rotation scenario notices a store that would lose data in a rotation.
 * Loaded by the scenario's child processes straight from source (Node strips the types), and it
 * wraps the built store, so it has no relative imports into the package's sources.
 */
import type { StoreEntry, StoreSetOptions, TokenStore } from '@letmepost/core';
import { sqliteTokenStore, type SqliteTokenStoreOptions } from '../../dist/index.js';

export type SqliteStoreFault =
  /** Every 100th compare-and-set update in a process is acknowledged but never written. */
  | 'lose-every-100th-update'
  /** Compare-and-set updates drop the TTL they were given, so expiring entries live forever. */
  | 'drop-ttl-on-update';

export function faultySqliteTokenStore(options: SqliteTokenStoreOptions & { fault: SqliteStoreFault }): TokenStore {
  const { fault, ...storeOptions } = options;
  const store = sqliteTokenStore(storeOptions);
  let updates = 0;
  return {
    get: (key) => store.get(key),
    delete: (key, deleteOptions) => store.delete(key, deleteOptions),
    list: (prefix, listOptions) => store.list(prefix, listOptions),
    increment: (key, incrementOptions) => store.increment(key, incrementOptions),
    withLock: (key, fn, lockOptions) => store.withLock(key, fn, lockOptions),
    close: () => store.close(),
    async set(key: string, value: string, setOptions?: StoreSetOptions): Promise<StoreEntry> {
      if (typeof setOptions?.expectedVersion !== 'number') return store.set(key, value, setOptions);
      updates += 1;
      if (fault === 'lose-every-100th-update' && updates % 100 === 0) {
        const current = await store.get(key);
        if (current !== null) return { ...current, value, version: current.version + 1 };
      }
      if (fault === 'drop-ttl-on-update') {
        const { ttlMs: _dropped, ...withoutTtl } = setOptions;
        return store.set(key, value, withoutTtl);
      }
      return store.set(key, value, setOptions);
    },
  };
}
