/**
 * The storage contract a host implements to keep letmepost's state in its own database.
 * Values are opaque strings; core encrypts every secret before a store sees it.
 *
 * Semantics every implementation must honour (the conformance suite in `@letmepost/testing`
 * checks each one):
 * - `version` starts at 1 on creation and grows by exactly 1 on every successful `set`.
 * - `set` with `expectedVersion: null` creates only if the key is absent; with a number, writes
 *   only if the current version equals it; otherwise fails with `store_conflict`.
 * - An entry past its TTL is absent for every operation.
 * - `withLock` leases are exclusive across processes; each grant gets a fencing token larger
 *   than every token issued before for that key, and a `set` carrying a `fence` is rejected with
 *   `store_conflict` unless that lease is still the current, unexpired holder.
 * - `increment` counts events in a rolling window; with `limit`, an increment that would pass it
 *   is refused atomically (`accepted: false`, nothing added); a negative `amount` removes that
 *   many of the newest events.
 */
export interface StoreEntry {
  key: string;
  value: string;
  version: number;
  /** Epoch ms when the entry expires, if it was written with a TTL. */
  expiresAt?: number;
}

export interface LockLease {
  key: string;
  /** Fencing token: strictly increasing per lock key, never reused. */
  token: number;
  expiresAt: number;
}

export interface StoreSetOptions {
  /** `null`: create only. A number: compare-and-set against the current version. */
  expectedVersion?: number | null;
  ttlMs?: number;
  /** Reject the write unless this lease still holds its lock. */
  fence?: LockLease;
}

export interface StoreIncrementResult {
  /** Events in the window after this call. */
  count: number;
  accepted: boolean;
}

export interface TokenStore {
  get(key: string): Promise<StoreEntry | null>;
  set(key: string, value: string, options?: StoreSetOptions): Promise<StoreEntry>;
  /** Returns whether an entry was removed. Deleting an absent key is not an error. */
  delete(key: string, options?: { expectedVersion?: number }): Promise<boolean>;
  /** Entries whose key starts with `prefix`, ascending by key, after `after` (exclusive). */
  list(prefix: string, options?: { limit?: number; after?: string }): Promise<StoreEntry[]>;
  increment(
    key: string,
    options: { windowMs: number; amount?: number; limit?: number },
  ): Promise<StoreIncrementResult>;
  /**
   * Runs `fn` while holding an exclusive lease on `key`. Waits up to `waitMs` (default `ttlMs`)
   * for a holder to release or expire, then fails with `store_conflict`.
   */
  withLock<T>(
    key: string,
    fn: (lease: LockLease) => Promise<T>,
    options: { ttlMs: number; waitMs?: number },
  ): Promise<T>;
  close?(): Promise<void>;
}
