import { LetmepostError } from './letmepost-error.js';
import { silentLogger, type Logger } from './logger.js';
import type { LockLease, StoreSetOptions } from './token-store.js';
import { sleep } from './sleep.js';

/**
 * Building blocks for `TokenStore` implementations: the memory store here, the
 * `@letmepost/store-*` packages, or a host's own store. Using them gives a store the same
 * `validation_failed`, `store_conflict` and `store_unavailable` errors, and the same lock waiting,
 * as every other store, so a host can swap stores without its error handling noticing.
 */

/**
 * Whether `value` has no lone (unpaired) UTF-16 surrogate. Such a surrogate has no UTF-8 form:
 * `encodeURIComponent` throws a raw `URIError` on it, and stores would write it differently.
 * `String.prototype.isWellFormed` (ES2024, native) answers it without a regular-expression scan.
 */
export function isWellFormedText(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A bad argument or store option (`validation_failed` naming the field). */
export function storeValidationError({ field, message }: { field: string; message: string }): LetmepostError {
  return new LetmepostError({ code: 'validation_failed', field, message });
}

/**
 * Keys and values must survive every backend unchanged, so one store accepts what another would
 * alter: PostgreSQL `text` cannot hold U+0000, and a lone surrogate would be silently replaced by
 * U+FFFD on its way to UTF-8 (SQLite, PostgreSQL, Redis). Core never writes either: keys are
 * percent-encoded and values are JSON.
 */
function assertStorableText({ text, field }: { text: string; field: string }): void {
  if (text.includes('\u0000')) {
    throw storeValidationError({ field, message: `${field} must not contain the NUL character (U+0000).` });
  }
  if (!isWellFormedText(text)) {
    throw storeValidationError({ field, message: `${field} must be well-formed Unicode (it has an unpaired surrogate).` });
  }
}

function assertKey({ key, field }: { key: unknown; field: string }): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw storeValidationError({ field, message: 'A store key must be a non-empty string.' });
  }
  assertStorableText({ text: key, field });
}

function assertPositiveDuration({ value, field }: { value: unknown; field: string }): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw storeValidationError({ field, message: `${field} must be a positive number of milliseconds.` });
  }
}

/**
 * Checks the arguments of each `TokenStore` operation and throws `validation_failed` naming the
 * offending field. Call it first in every operation, so a bad call never reaches the backend.
 */
export const checkStoreArguments = {
  get({ key }: { key: string }): void {
    assertKey({ key, field: 'key' });
  },

  set({ key, value, options }: { key: string; value: string; options: StoreSetOptions }): void {
    assertKey({ key, field: 'key' });
    if (typeof value !== 'string') {
      throw storeValidationError({ field: 'value', message: 'A store value must be a string.' });
    }
    assertStorableText({ text: value, field: 'value' });
    const { expectedVersion, ttlMs, fence } = options;
    if (ttlMs !== undefined) assertPositiveDuration({ value: ttlMs, field: 'ttlMs' });
    if (expectedVersion != null && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
      throw storeValidationError({ field: 'expectedVersion', message: 'expectedVersion must be null or a positive integer.' });
    }
    if (fence !== undefined) {
      assertKey({ key: fence?.key, field: 'fence.key' });
      if (!Number.isSafeInteger(fence.token) || fence.token < 1) {
        throw storeValidationError({ field: 'fence.token', message: 'fence.token must be a positive integer.' });
      }
    }
  },

  delete({ key, options }: { key: string; options: { expectedVersion?: number } }): void {
    assertKey({ key, field: 'key' });
    const { expectedVersion } = options;
    if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
      throw storeValidationError({ field: 'expectedVersion', message: 'expectedVersion must be a positive integer.' });
    }
  },

  list({ prefix, options }: { prefix: string; options: { limit?: number; after?: string } }): void {
    if (typeof prefix !== 'string') {
      throw storeValidationError({ field: 'prefix', message: 'The list prefix must be a string.' });
    }
    assertStorableText({ text: prefix, field: 'prefix' });
    const { limit, after } = options;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw storeValidationError({ field: 'limit', message: 'limit must be a positive integer.' });
    }
    if (after !== undefined) {
      if (typeof after !== 'string') {
        throw storeValidationError({ field: 'after', message: 'after must be a string key.' });
      }
      assertStorableText({ text: after, field: 'after' });
    }
  },

  increment({ key, options }: { key: string; options: { windowMs: number; amount?: number; limit?: number } }): void {
    assertKey({ key, field: 'key' });
    const { windowMs, amount, limit } = options ?? ({} as typeof options);
    assertPositiveDuration({ value: windowMs, field: 'windowMs' });
    if (amount !== undefined && !Number.isSafeInteger(amount)) {
      throw storeValidationError({ field: 'amount', message: 'amount must be an integer.' });
    }
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw storeValidationError({ field: 'limit', message: 'limit must be a non-negative integer.' });
    }
  },

  /** Also resolves `waitMs`, which defaults to `ttlMs`. */
  withLock({ key, options }: { key: string; options: { ttlMs: number; waitMs?: number } }): { ttlMs: number; waitMs: number } {
    assertKey({ key, field: 'key' });
    assertPositiveDuration({ value: options?.ttlMs, field: 'ttlMs' });
    const { ttlMs, waitMs = ttlMs } = options;
    if (typeof waitMs !== 'number' || !Number.isFinite(waitMs) || waitMs < 0) {
      throw storeValidationError({ field: 'waitMs', message: 'waitMs must be a non-negative number of milliseconds.' });
    }
    return { ttlMs, waitMs };
  },
};

/** For stores that keep durations as whole milliseconds: rounding up never shortens a TTL or lease. */
export function wholeMilliseconds(durationMs: number): number {
  return Math.ceil(durationMs);
}

export interface LockRetryOptions {
  /** First pause between attempts to take a busy lock. Default 10 ms. */
  minDelayMs?: number;
  /** Longest pause between attempts. Default 100 ms. */
  maxDelayMs?: number;
}

/**
 * The body of `withLock`: checks the arguments, takes the lease, runs `fn` with a copy of it, and
 * releases it, however `fn` ends. While the lock is busy, `tryAcquire` is retried after pauses
 * that grow exponentially with full jitter, so several processes queued on one key do not retry
 * in lockstep and a long-held lock costs a handful of queries rather than a busy loop. After
 * `waitMs` the caller gets `store_conflict`.
 *
 * `waitMs` is real time (`performance.now()`), not the store's clock: a test clock that stands
 * still must not turn a wait into an endless loop, nor may one that jumps cut it short. A lease is
 * still judged expired by the store's own clock, inside `tryAcquire`.
 */
export async function runWithLockLease<RESULT>({
  key,
  options,
  fn,
  tryAcquire,
  release,
  logger = silentLogger,
  retry = {},
  pause = (delayMs) => sleep(delayMs),
}: {
  key: string;
  /** As given to `withLock`; `waitMs` defaults to `ttlMs`. */
  options: { ttlMs: number; waitMs?: number };
  fn: (lease: LockLease) => Promise<RESULT>;
  /** One attempt to take a lease of `options.ttlMs`; `undefined` while someone else holds it. */
  tryAcquire: () => Promise<LockLease | undefined> | LockLease | undefined;
  /** Ends the lease, unless it ran out and was taken over meanwhile. */
  release: (lease: LockLease) => Promise<void> | void;
  /**
   * Warned when a release fails. The failure is not thrown: the lease ends at its `expiresAt`
   * regardless, and the caller's result (or error) matters more. `release` should throw
   * `LetmepostError`s, whose messages are safe to log; of anything else only the name is logged.
   */
  logger?: Logger | undefined;
  retry?: LockRetryOptions | undefined;
  /** Waits between attempts; a store that learns of releases may resolve it early. */
  pause?: ((delayMs: number) => Promise<void>) | undefined;
}): Promise<RESULT> {
  const { waitMs } = checkStoreArguments.withLock({ key, options });
  const minDelayMs = retry.minDelayMs ?? 10;
  const maxDelayMs = Math.max(minDelayMs, retry.maxDelayMs ?? 100);
  const deadline = performance.now() + waitMs;
  let ceiling = minDelayMs;
  let lease = await tryAcquire();
  while (lease === undefined) {
    const remainingMs = deadline - performance.now();
    if (remainingMs <= 0) {
      throw new LetmepostError({
        code: 'store_conflict',
        message: `Timed out after ${waitMs} ms waiting for the lock on "${key}".`,
      });
    }
    const delayMs = Math.min(remainingMs, minDelayMs + Math.random() * (ceiling - minDelayMs));
    await pause(Math.max(1, delayMs));
    ceiling = Math.min(maxDelayMs, ceiling * 2);
    lease = await tryAcquire();
  }

  const held = lease;
  try {
    return await fn({ ...held });
  } finally {
    try {
      await release(held);
    } catch (error) {
      logger.log('warn', 'Releasing a letmepost lock failed; it will expire at the end of its lease.', {
        key,
        error: LetmepostError.isInstance(error) ? error.message : error instanceof Error ? error.name : typeof error,
      });
    }
  }
}

/** A fenced write whose lease has ended or been taken over (`store_conflict`). */
export function leaseLostError({ fence }: { fence: LockLease }): LetmepostError {
  return new LetmepostError({
    code: 'store_conflict',
    message: `The lease on "${fence.key}" with fencing token ${fence.token} no longer holds the lock.`,
  });
}

/**
 * A create-only write (`expectedVersion: null`) on a live entry (`store_conflict`). Pass
 * `currentVersion` when the store knows it.
 */
export function entryExistsError({ key, currentVersion }: { key: string; currentVersion?: number }): LetmepostError {
  return new LetmepostError({
    code: 'store_conflict',
    message:
      currentVersion === undefined
        ? `"${key}" already exists; it was expected to be absent.`
        : `"${key}" already exists (version ${currentVersion}); it was expected to be absent.`,
  });
}

/**
 * A compare-and-set write or delete that found another version (`store_conflict`).
 * `currentVersion`: the live version, `null` when the entry is absent, omitted when the store
 * cannot tell which (a single conditional statement that simply matched nothing).
 */
export function versionConflictError({
  key,
  expectedVersion,
  currentVersion,
}: {
  key: string;
  expectedVersion: number;
  currentVersion?: number | null;
}): LetmepostError {
  return new LetmepostError({
    code: 'store_conflict',
    message:
      currentVersion === undefined
        ? `"${key}" is not at version ${expectedVersion}: it changed or no longer exists.`
        : currentVersion === null
          ? `"${key}" does not exist; expected version ${expectedVersion}.`
          : `"${key}" is at version ${currentVersion}; expected version ${expectedVersion}.`,
  });
}

/** Any operation on a store after its `close()` (`store_unavailable`, not retryable). */
export function storeClosedError({ storeName }: { storeName: string }): LetmepostError {
  return new LetmepostError({
    code: 'store_unavailable',
    message: `The ${storeName} token store is closed.`,
    retryable: false,
  });
}

/**
 * A failure to reach the backend (refused or reset sockets, DNS, timeouts): a retryable
 * `store_unavailable` naming the errno code when there is one. The driver's own message is not
 * copied, since it may quote connection details.
 */
export function storeUnreachableError({
  backend,
  cause,
  knownSecrets,
}: {
  /** The backend's name as a host knows it, e.g. `PostgreSQL`. */
  backend: string;
  cause: unknown;
  knownSecrets?: readonly string[];
}): LetmepostError {
  const errno = errnoCode(cause);
  return new LetmepostError({
    code: 'store_unavailable',
    message: errno === undefined ? `Could not reach ${backend}.` : `Could not reach ${backend} (${errno}).`,
    retryable: true,
    cause,
    knownSecrets,
  });
}

function errnoCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) ? code : undefined;
}

/**
 * The password in a connection URL (`postgres://user:password@host/db`), decoded and
 * percent-encoded, to pass as `knownSecrets` so it is masked in every error message.
 */
export function connectionUrlSecrets({ url }: { url: string | undefined }): string[] {
  if (url === undefined) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? [] : [password, encodeURIComponent(password)];
  } catch {
    return [];
  }
}
