import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import type { Logger } from './logger.js';
import type { LockLease } from './token-store.js';
import {
  checkStoreArguments,
  connectionUrlSecrets,
  entryExistsError,
  leaseLostError,
  runWithLockLease,
  storeClosedError,
  storeUnreachableError,
  storeValidationError,
  versionConflictError,
} from './token-store-support.js';
import { letmepostErrorOf } from './test-support/errors.js';

const thrownBy = letmepostErrorOf;

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

const lease = (token: number): LockLease => ({ key: 'lock', token, expiresAt: 1_000 });

describe('checkStoreArguments', () => {
  it.each([
    ['get: empty key', () => checkStoreArguments.get({ key: '' }), 'key'],
    ['get: NUL in key', () => checkStoreArguments.get({ key: 'a\u0000b' }), 'key'],
    ['set: lone surrogate in key', () => checkStoreArguments.set({ key: 'a\ud800', value: 'x', options: {} }), 'key'],
    ['set: non-string value', () => checkStoreArguments.set({ key: 'k', value: 1 as unknown as string, options: {} }), 'value'],
    ['set: lone surrogate in value', () => checkStoreArguments.set({ key: 'k', value: 'x\udc00', options: {} }), 'value'],
    ['set: zero ttl', () => checkStoreArguments.set({ key: 'k', value: 'x', options: { ttlMs: 0 } }), 'ttlMs'],
    ['set: infinite ttl', () => checkStoreArguments.set({ key: 'k', value: 'x', options: { ttlMs: Infinity } }), 'ttlMs'],
    ['set: version 0', () => checkStoreArguments.set({ key: 'k', value: 'x', options: { expectedVersion: 0 } }), 'expectedVersion'],
    [
      'set: fence without key',
      () => checkStoreArguments.set({ key: 'k', value: 'x', options: { fence: { key: '', token: 1, expiresAt: 0 } } }),
      'fence.key',
    ],
    [
      'set: fractional fence token',
      () => checkStoreArguments.set({ key: 'k', value: 'x', options: { fence: { key: 'l', token: 1.5, expiresAt: 0 } } }),
      'fence.token',
    ],
    ['delete: version 1.5', () => checkStoreArguments.delete({ key: 'k', options: { expectedVersion: 1.5 } }), 'expectedVersion'],
    ['list: non-string prefix', () => checkStoreArguments.list({ prefix: 7 as unknown as string, options: {} }), 'prefix'],
    ['list: NUL in prefix', () => checkStoreArguments.list({ prefix: '\u0000', options: {} }), 'prefix'],
    ['list: limit 0', () => checkStoreArguments.list({ prefix: 'p', options: { limit: 0 } }), 'limit'],
    ['list: non-string after', () => checkStoreArguments.list({ prefix: 'p', options: { after: 3 as unknown as string } }), 'after'],
    ['increment: missing options', () => checkStoreArguments.increment({ key: 'k', options: undefined as never }), 'windowMs'],
    ['increment: fractional amount', () => checkStoreArguments.increment({ key: 'k', options: { windowMs: 1, amount: 0.5 } }), 'amount'],
    ['increment: negative limit', () => checkStoreArguments.increment({ key: 'k', options: { windowMs: 1, limit: -1 } }), 'limit'],
    ['withLock: NaN ttl', () => checkStoreArguments.withLock({ key: 'k', options: { ttlMs: Number.NaN } }), 'ttlMs'],
    ['withLock: negative wait', () => checkStoreArguments.withLock({ key: 'k', options: { ttlMs: 1, waitMs: -1 } }), 'waitMs'],
  ])('%s is validation_failed naming the field', (_, action, field) => {
    expect(thrownBy(action)).toMatchObject({ code: 'validation_failed', field });
  });

  it('accepts well-formed arguments, including astral characters and amount 0', () => {
    expect(() => checkStoreArguments.set({ key: 'k:😀', value: '{"a":1}', options: { expectedVersion: null, ttlMs: 0.5 } })).not.toThrow();
    expect(() => checkStoreArguments.list({ prefix: '', options: { after: 'k', limit: 1 } })).not.toThrow();
    expect(() => checkStoreArguments.increment({ key: 'k', options: { windowMs: 1, amount: -3, limit: 0 } })).not.toThrow();
    expect(() => checkStoreArguments.delete({ key: 'k', options: {} })).not.toThrow();
  });

  it('resolves waitMs to ttlMs when it is not given', () => {
    expect(checkStoreArguments.withLock({ key: 'k', options: { ttlMs: 250 } })).toEqual({ ttlMs: 250, waitMs: 250 });
    expect(checkStoreArguments.withLock({ key: 'k', options: { ttlMs: 250, waitMs: 0 } })).toEqual({ ttlMs: 250, waitMs: 0 });
  });
});

describe('runWithLockLease', () => {
  it('runs fn with a copy of the lease and releases that lease afterwards', async () => {
    const granted = lease(7);
    const released: LockLease[] = [];
    const result = await runWithLockLease({
      key: 'lock',
      options: { ttlMs: 60_000, waitMs: 0 },
      tryAcquire: () => granted,
      release: (held) => {
        released.push(held);
      },
      fn: async (held) => {
        expect(held).toEqual(granted);
        expect(held).not.toBe(granted);
        held.token = 99;
        return 'done';
      },
    });
    expect(result).toBe('done');
    expect(released).toEqual([lease(7)]);
  });

  it("rethrows fn's error after releasing, and logs (not throws) a failed release", async () => {
    const failure = new Error('fn failed');
    const releaseFailure = storeUnreachableError({ backend: 'PostgreSQL', cause: { code: 'ECONNRESET' } });
    const logged: unknown[][] = [];
    const logger: Logger = { log: (...entry) => logged.push(entry) };
    const error = await rejectionOf(
      runWithLockLease({
        key: 'lock',
        options: { ttlMs: 60_000, waitMs: 0 },
        tryAcquire: async () => lease(1),
        release: async () => {
          throw releaseFailure;
        },
        logger,
        fn: async () => {
          throw failure;
        },
      }),
    );
    expect(error).toBe(failure);
    expect(logged).toEqual([
      [
        'warn',
        'Releasing a letmepost lock failed; it will expire at the end of its lease.',
        { key: 'lock', error: 'Could not reach PostgreSQL (ECONNRESET).' },
      ],
    ]);

    // A raw driver error may quote connection details: only its name is logged.
    const canary = 'release-canary-7d1f';
    await expect(
      runWithLockLease({
        key: 'lock',
        options: { ttlMs: 60_000, waitMs: 0 },
        tryAcquire: () => lease(2),
        release: () => Promise.reject(new TypeError(`socket to ${canary} closed`)),
        logger,
        fn: async () => 'kept',
      }),
    ).resolves.toBe('kept');
    expect(logged[1]?.[2]).toEqual({ key: 'lock', error: 'TypeError' });
    expect(JSON.stringify(logged)).not.toContain(canary);
  });

  it('retries with growing, capped pauses until the lease is free', async () => {
    const pauses: number[] = [];
    let attempts = 0;
    const token = await runWithLockLease({
      key: 'lock',
      options: { ttlMs: 60_000, waitMs: 60_000 },
      retry: { minDelayMs: 5, maxDelayMs: 20 },
      tryAcquire: () => (++attempts < 6 ? undefined : lease(attempts)),
      pause: async (delayMs) => {
        pauses.push(delayMs);
      },
      release: () => {},
      fn: async (held) => held.token,
    });
    expect(token).toBe(6);
    expect(pauses).toHaveLength(5);
    // Full jitter under a ceiling of 5, 10, 20, 20, 20 ms.
    expect(pauses[0]).toBe(5);
    for (const [index, ceiling] of [5, 10, 20, 20, 20].entries()) {
      expect(pauses[index]).toBeGreaterThanOrEqual(5);
      expect(pauses[index]).toBeLessThanOrEqual(ceiling);
    }
  });

  it('gives up with store_conflict once waitMs of real time has passed, without calling fn', async () => {
    let attempts = 0;
    let ran = false;
    const started = performance.now();
    const error = await rejectionOf(
      runWithLockLease({
        key: 'busy',
        options: { ttlMs: 60_000, waitMs: 60 },
        tryAcquire: () => {
          attempts += 1;
          return undefined;
        },
        release: () => {},
        fn: async () => {
          ran = true;
        },
      }),
    );
    const waited = performance.now() - started;
    expect(error).toMatchObject({ code: 'store_conflict', message: 'Timed out after 60 ms waiting for the lock on "busy".' });
    expect(ran).toBe(false);
    expect(waited).toBeGreaterThanOrEqual(55);
    expect(waited).toBeLessThan(1_000);
    // Default pauses of 10 ms growing to 100 ms: a handful of attempts, not a busy loop.
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(12);
  });

  it('with waitMs 0 tries exactly once', async () => {
    let attempts = 0;
    const error = await rejectionOf(
      runWithLockLease({
        key: 'busy',
        options: { ttlMs: 60_000, waitMs: 0 },
        tryAcquire: () => {
          attempts += 1;
          return undefined;
        },
        release: () => {},
        fn: async () => undefined,
      }),
    );
    expect(LetmepostError.isInstance(error) && error.code).toBe('store_conflict');
    expect(attempts).toBe(1);
  });

  it('checks its arguments before the first attempt', async () => {
    let attempts = 0;
    const error = await rejectionOf(
      runWithLockLease({
        key: 'k',
        options: { ttlMs: 0 },
        tryAcquire: () => {
          attempts += 1;
          return lease(1);
        },
        release: () => {},
        fn: async () => 1,
      }),
    );
    expect(error).toMatchObject({ code: 'validation_failed', field: 'ttlMs' });
    expect(attempts).toBe(0);
  });

  it('lets an error of tryAcquire through unchanged', async () => {
    const unavailable = storeClosedError({ storeName: 'test' });
    const error = await rejectionOf(
      runWithLockLease({ key: 'k', options: { ttlMs: 1_000 }, tryAcquire: () => Promise.reject(unavailable), release: () => {}, fn: async () => 1 }),
    );
    expect(error).toBe(unavailable);
  });
});

describe('store errors', () => {
  it('say which conflict happened, as retryable store_conflict', () => {
    const errors = [
      leaseLostError({ fence: lease(3) }),
      entryExistsError({ key: 'k', currentVersion: 2 }),
      entryExistsError({ key: 'k' }),
      versionConflictError({ key: 'k', expectedVersion: 1, currentVersion: 2 }),
      versionConflictError({ key: 'k', expectedVersion: 1, currentVersion: null }),
      versionConflictError({ key: 'k', expectedVersion: 1 }),
    ];
    expect(errors.map((error) => [error.code, error.retryable, error.message])).toEqual([
      ['store_conflict', true, 'The lease on "lock" with fencing token 3 no longer holds the lock.'],
      ['store_conflict', true, '"k" already exists (version 2); it was expected to be absent.'],
      ['store_conflict', true, '"k" already exists; it was expected to be absent.'],
      ['store_conflict', true, '"k" is at version 2; expected version 1.'],
      ['store_conflict', true, '"k" does not exist; expected version 1.'],
      ['store_conflict', true, '"k" is not at version 1: it changed or no longer exists.'],
    ]);
  });

  it('report a bad option as validation_failed naming the field', () => {
    expect(storeValidationError({ field: 'schema', message: 'schema must be an identifier.' })).toMatchObject({
      code: 'validation_failed',
      field: 'schema',
      retryable: false,
      message: 'schema must be an identifier.',
    });
  });

  it('report a closed store as store_unavailable that retrying will not fix', () => {
    expect(storeClosedError({ storeName: 'SQLite' })).toMatchObject({
      code: 'store_unavailable',
      retryable: false,
      message: 'The SQLite token store is closed.',
    });
  });

  it('report an unreachable backend by errno code only, masking known secrets', () => {
    const canary = 'canary-Pa55-81c2';
    const refused = Object.assign(new Error(`connect ECONNREFUSED with ${canary}`), { code: 'ECONNREFUSED' });
    const error = storeUnreachableError({ backend: 'PostgreSQL', cause: refused, knownSecrets: [canary] });
    expect(error).toMatchObject({ code: 'store_unavailable', retryable: true, message: 'Could not reach PostgreSQL (ECONNREFUSED).' });
    expect(error.cause).toBe(refused);
    expect(JSON.stringify(error)).not.toContain(canary);
    expect(storeUnreachableError({ backend: 'Redis', cause: new Error('Connection is closed.') }).message).toBe('Could not reach Redis.');
    expect(storeUnreachableError({ backend: 'Redis', cause: { code: 'NOT_AN_ERRNO' } }).message).toBe('Could not reach Redis.');
  });

  it('find the password of a connection URL, decoded and encoded', () => {
    expect(connectionUrlSecrets({ url: 'postgres://user:p%40ss@localhost/db' })).toEqual(['p@ss', 'p%40ss']);
    expect(connectionUrlSecrets({ url: 'redis://localhost:6379' })).toEqual([]);
    expect(connectionUrlSecrets({ url: 'not a url' })).toEqual([]);
    expect(connectionUrlSecrets({ url: undefined })).toEqual([]);
  });
});
