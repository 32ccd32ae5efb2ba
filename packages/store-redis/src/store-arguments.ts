import { LetmepostError, type StoreSetOptions } from '@letmepost/core';

/**
 * Argument checks shared by every operation. They mirror the reference memory store in
 * `@letmepost/core` so a host sees the same `validation_failed` errors whichever store it runs,
 * and they run before any query so a bad call never reaches the database.
 */

/** Matches an unpaired UTF-16 surrogate, which cannot be encoded as UTF-8 without being altered. */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function validationError({ field, message }: { field: string; message: string }): LetmepostError {
  return new LetmepostError({ code: 'validation_failed', field, message });
}

export function assertKey(key: unknown, field: string): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw validationError({ field, message: 'A store key must be a non-empty string.' });
  }
  assertStorableText(key, field);
}

/**
 * A lone surrogate would be silently replaced by U+FFFD on its way to UTF-8, so a different key
 * or value would be stored than the one given.
 */
export function assertStorableText(text: string, field: string): void {
  if (LONE_SURROGATE.test(text)) {
    throw validationError({ field, message: `${field} must be well-formed Unicode (it has an unpaired surrogate).` });
  }
}

export function assertPositiveDuration(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw validationError({ field, message: `${field} must be a positive number of milliseconds.` });
  }
}

export function assertSetArguments(key: unknown, value: unknown, options: StoreSetOptions): void {
  assertKey(key, 'key');
  if (typeof value !== 'string') {
    throw validationError({ field: 'value', message: 'A store value must be a string.' });
  }
  assertStorableText(value, 'value');
  const { expectedVersion, ttlMs, fence } = options;
  if (ttlMs !== undefined) assertPositiveDuration(ttlMs, 'ttlMs');
  if (expectedVersion != null && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
    throw validationError({ field: 'expectedVersion', message: 'expectedVersion must be null or a positive integer.' });
  }
  if (fence !== undefined) {
    assertKey(fence?.key, 'fence.key');
    if (!Number.isSafeInteger(fence.token) || fence.token < 1) {
      throw validationError({ field: 'fence.token', message: 'fence.token must be a positive integer.' });
    }
  }
}

export function assertDeleteArguments(key: unknown, options: { expectedVersion?: number }): void {
  assertKey(key, 'key');
  const { expectedVersion } = options;
  if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
    throw validationError({ field: 'expectedVersion', message: 'expectedVersion must be a positive integer.' });
  }
}

export function assertListArguments(prefix: unknown, options: { limit?: number; after?: string }): void {
  if (typeof prefix !== 'string') {
    throw validationError({ field: 'prefix', message: 'The list prefix must be a string.' });
  }
  assertStorableText(prefix, 'prefix');
  const { limit, after } = options;
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw validationError({ field: 'limit', message: 'limit must be a positive integer.' });
  }
  if (after !== undefined) {
    if (typeof after !== 'string') {
      throw validationError({ field: 'after', message: 'after must be a string key.' });
    }
    assertStorableText(after, 'after');
  }
}

export function assertIncrementArguments(
  key: unknown,
  options: { windowMs: number; amount?: number; limit?: number },
): void {
  assertKey(key, 'key');
  const { windowMs, amount, limit } = options ?? ({} as typeof options);
  assertPositiveDuration(windowMs, 'windowMs');
  if (amount !== undefined && !Number.isSafeInteger(amount)) {
    throw validationError({ field: 'amount', message: 'amount must be an integer.' });
  }
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw validationError({ field: 'limit', message: 'limit must be a non-negative integer.' });
  }
}

export function assertLockArguments(key: unknown, options: { ttlMs: number; waitMs?: number }): void {
  assertKey(key, 'key');
  assertPositiveDuration(options?.ttlMs, 'ttlMs');
  const { waitMs } = options;
  if (waitMs !== undefined && (typeof waitMs !== 'number' || !Number.isFinite(waitMs) || waitMs < 0)) {
    throw validationError({ field: 'waitMs', message: 'waitMs must be a non-negative number of milliseconds.' });
  }
}

/** Durations are stored as whole milliseconds; rounding up never shortens a TTL or lease. */
export function wholeMilliseconds(durationMs: number): number {
  return Math.ceil(durationMs);
}
