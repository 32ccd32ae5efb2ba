import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  silentLogger,
  type Clock,
  type LockLease,
  type LockRetryOptions,
  type Logger,
  type StoreEntry,
  type StoreIncrementResult,
  type StoreSetOptions,
  type TokenStore,
} from '@letmepost/core';
import {
  checkStoreArguments,
  connectionUrlSecrets,
  entryExistsError,
  leaseLostError,
  runWithLockLease,
  storeClosedError,
  storeValidationError,
  versionConflictError,
  wholeMilliseconds,
} from '@letmepost/core/internal';
import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { redisReplyCode, toStoreError } from './redis-error.js';
import {
  acquireScript,
  deleteScript,
  getScript,
  incrementScript,
  listScript,
  releaseScript,
  setScript,
  type RedisScript,
} from './redis-scripts.js';

export interface RedisTokenStoreOptions {
  /**
   * A client the host already runs (`Redis` or `Cluster` from ioredis). The store only sends
   * commands on it: it never quits it, and it adds no commands or listeners to it.
   */
  client?: Redis | Cluster;
  /** `redis://user:password@host:6379/0` (or `rediss://` for TLS); the store then owns the client. */
  url?: string;
  /** ioredis options for the client made from `url`. */
  redisOptions?: RedisOptions;
  /**
   * Prefix of every key the store writes. Default `letmepost:`. On Redis Cluster use a hash tag,
   * e.g. `{letmepost}:`, so all of the store's keys share one slot (scripts touch several keys).
   */
  keyPrefix?: string;
  /**
   * Time source for TTLs, leases and counter windows. By default every script reads Redis's own
   * clock (`TIME`), so all processes judge expiry by one clock whatever the skew between
   * application hosts, and Redis's key expiry agrees with it. Inject a clock for deterministic
   * tests; every process sharing the keys must then share it.
   */
  clock?: Clock;
  /** Pauses between attempts to take a busy lock in `withLock`. */
  lockRetry?: LockRetryOptions;
  logger?: Logger;
}

export interface RedisTokenStore extends TokenStore {
  /** Stops using Redis; quits the client only if the store created it. */
  close(): Promise<void>;
}

type ScriptReply = Array<string | number | null>;

/**
 * With an injected clock, Redis's own expiry (real time) may run ahead of the logical expiry
 * (the injected clock); it is delayed by this much so it only ever reclaims entries that are
 * already logically gone. With the server clock both are the same instant.
 */
const INJECTED_CLOCK_EXPIRY_GRACE_MS = 60_000;

/**
 * A `TokenStore` on Redis, for hosts that run several instances against one Redis. Every
 * compound operation is a single Lua script, so each check-and-write is atomic on the server.
 *
 * Key layout under `keyPrefix` (P):
 * - `P` + `entry:<key>`: hash `{ v, n, x? }` (value, version, expires-at ms)
 * - `P` + `index`: sorted set of live entry keys, all score 0, so `ZRANGEBYLEX` lists a prefix in
 *   byte order
 * - `P` + `lock:<key>`: hash `{ t, h, x }` (fencing token, holder, expires-at ms) while held
 * - `P` + `fence:<key>`: the lock's fencing sequence (`INCR`); never expires
 * - `P` + `counter:<key>`: sorted set of events scored by time; `P` + `counter-seq` numbers them
 */
export function redisTokenStore(options: RedisTokenStoreOptions): RedisTokenStore {
  const { client: hostClient, url, redisOptions, clock, lockRetry } = options ?? {};
  if (hostClient === undefined && url === undefined) {
    throw storeValidationError({ field: 'client', message: 'Pass either an existing ioredis `client` or a `url`.' });
  }
  if (hostClient !== undefined && url !== undefined) {
    throw storeValidationError({ field: 'url', message: 'Pass either `client` or `url`, not both.' });
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw storeValidationError({ field: 'url', message: 'url must be a redis:// or rediss:// URL.' });
  }
  const keyPrefix = options.keyPrefix ?? 'letmepost:';
  if (typeof keyPrefix !== 'string') {
    throw storeValidationError({ field: 'keyPrefix', message: 'keyPrefix must be a string.' });
  }

  const logger = options.logger ?? silentLogger;
  const knownSecrets = [
    ...connectionUrlSecrets({ url }),
    ...(typeof redisOptions?.password === 'string' && redisOptions.password !== '' ? [redisOptions.password] : []),
  ];
  const ownsClient = hostClient === undefined;
  const client: Redis | Cluster =
    hostClient ??
    new Redis(url as string, {
      // Fail a command after a few reconnection attempts instead of queueing it for ~10 s (the
      // ioredis default of 20 attempts): a publish should learn quickly that its store is down.
      maxRetriesPerRequest: 3,
      connectTimeout: 5_000,
      ...redisOptions,
    });
  if (ownsClient) {
    // ioredis reconnects by itself; without a listener each failed attempt would be reported as
    // an unhandled 'error' event.
    client.on('error', (error: unknown) => {
      logger.log('warn', 'The Redis connection failed; ioredis is reconnecting.', {
        error: toStoreError(error, { knownSecrets }).message,
      });
    });
  }

  // ioredis prefixes the KEYS of a script with the client's own `keyPrefix` option, but not key
  // names a script builds itself; `list` builds entry keys in Lua, so it needs the full prefix.
  const clientKeyPrefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
  const keys = {
    entry: (key: string) => `${keyPrefix}entry:${key}`,
    entryPrefixInScript: `${typeof clientKeyPrefix === 'string' ? clientKeyPrefix : ''}${keyPrefix}entry:`,
    index: `${keyPrefix}index`,
    lock: (key: string) => `${keyPrefix}lock:${key}`,
    fence: (key: string) => `${keyPrefix}fence:${key}`,
    counter: (key: string) => `${keyPrefix}counter:${key}`,
    counterSequence: `${keyPrefix}counter-seq`,
  };
  /** Names the lease holder in the lock hash, to tell from redis-cli which process holds a lock. */
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const graceMs = clock === undefined ? 0 : INJECTED_CLOCK_EXPIRY_GRACE_MS;
  let closed = false;
  let closing: Promise<void> | undefined;

  const now = (): string => (clock === undefined ? '' : String(Math.floor(clock.now())));

  const assertOpen = (): void => {
    if (closed) throw storeClosedError({ storeName: 'Redis' });
  };

  /**
   * Runs a script by its SHA1 and sends the source only when the server does not have it cached
   * (after a restart, a failover or `SCRIPT FLUSH`); `EVAL` also caches it for the next call.
   */
  const runScript = async (script: RedisScript, scriptKeys: string[], args: Array<string | number | Buffer>): Promise<unknown> => {
    assertOpen();
    try {
      try {
        return await client.evalsha(script.sha, scriptKeys.length, ...scriptKeys, ...args);
      } catch (error) {
        if (redisReplyCode(error) !== 'NOSCRIPT') throw error;
        return await client.eval(script.lua, scriptKeys.length, ...scriptKeys, ...args);
      }
    } catch (error) {
      throw toStoreError(error, { knownSecrets });
    }
  };

  const toEntry = (key: string, value: string, version: number, expiresAt: number): StoreEntry =>
    expiresAt < 0 ? { key, value, version } : { key, value, version, expiresAt };

  const tryAcquireLease = async (key: string, ttlMs: number): Promise<LockLease | undefined> => {
    const reply = (await runScript(acquireScript, [keys.lock(key), keys.fence(key)], [now(), ttlMs, holder, graceMs])) as ScriptReply;
    return reply[0] === 1 ? { key, token: Number(reply[1]), expiresAt: Number(reply[2]) } : undefined;
  };

  return {
    async get(key) {
      checkStoreArguments.get({ key });
      const reply = (await runScript(getScript, [keys.entry(key), keys.index], [now(), key])) as ScriptReply | null;
      return reply === null ? null : toEntry(key, String(reply[0]), Number(reply[1]), Number(reply[2]));
    },

    async set(key, value, setOptions: StoreSetOptions = {}) {
      checkStoreArguments.set({ key, value, options: setOptions });
      const { expectedVersion, fence } = setOptions;
      const mode = expectedVersion === null ? 'create' : typeof expectedVersion === 'number' ? 'cas' : 'any';
      const scriptKeys = [keys.entry(key), keys.index, ...(fence === undefined ? [] : [keys.lock(fence.key)])];
      const reply = (await runScript(setScript, scriptKeys, [
        now(),
        key,
        value,
        mode,
        typeof expectedVersion === 'number' ? expectedVersion : '',
        setOptions.ttlMs === undefined ? '' : wholeMilliseconds(setOptions.ttlMs),
        fence === undefined ? '' : fence.token,
        graceMs,
      ])) as ScriptReply;

      if (reply[0] === 1) return toEntry(key, value, Number(reply[1]), Number(reply[2]));
      const current = Number(reply[2]);
      if (reply[1] === 'fence' && fence !== undefined) throw leaseLostError({ fence });
      if (reply[1] === 'exists') throw entryExistsError({ key, currentVersion: current });
      throw versionConflictError({ key, expectedVersion: Number(expectedVersion), currentVersion: current < 0 ? null : current });
    },

    async delete(key, deleteOptions = {}) {
      checkStoreArguments.delete({ key, options: deleteOptions });
      const { expectedVersion } = deleteOptions;
      const reply = (await runScript(deleteScript, [keys.entry(key), keys.index], [now(), key, expectedVersion ?? ''])) as ScriptReply;
      if (reply[0] === -1) {
        throw versionConflictError({ key, expectedVersion: Number(expectedVersion), currentVersion: Number(reply[1]) });
      }
      return reply[0] === 1;
    },

    async list(prefix, listOptions = {}) {
      checkStoreArguments.list({ prefix, options: listOptions });
      const { after, limit } = listOptions;
      // Members compare as UTF-8 bytes, so the range is computed on bytes too: start after
      // `after` when it lies at or past the prefix, else at the prefix itself. The end is the
      // prefix followed by 0xFF, a byte that never occurs in UTF-8, so every key with the prefix
      // sorts below it.
      const min =
        after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) >= 0
          ? Buffer.from(`(${after}`)
          : Buffer.from(`[${prefix}`);
      const max = prefix === '' ? Buffer.from('+') : Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
      const reply = (await runScript(listScript, [keys.index], [now(), keys.entryPrefixInScript, min, max, limit ?? 0])) as ScriptReply;

      const entries: StoreEntry[] = [];
      for (let index = 0; index + 3 < reply.length; index += 4) {
        entries.push(toEntry(String(reply[index]), String(reply[index + 1]), Number(reply[index + 2]), Number(reply[index + 3])));
      }
      return entries;
    },

    async increment(key, incrementOptions): Promise<StoreIncrementResult> {
      checkStoreArguments.increment({ key, options: incrementOptions });
      const { amount = 1, limit } = incrementOptions;
      const reply = (await runScript(incrementScript, [keys.counter(key), keys.counterSequence], [
        now(),
        wholeMilliseconds(incrementOptions.windowMs),
        amount,
        limit ?? '',
        graceMs,
      ])) as ScriptReply;
      return { count: Number(reply[0]), accepted: reply[1] === 1 };
    },

    async withLock(key, fn, lockOptions) {
      return runWithLockLease({
        key,
        options: lockOptions,
        fn,
        tryAcquire: () => tryAcquireLease(key, wholeMilliseconds(lockOptions.ttlMs)),
        release: async (lease) => {
          await runScript(releaseScript, [keys.lock(key)], [lease.token]);
        },
        // `runScript` maps a failed release to a LetmepostError, whose message is safe to log.
        logger,
        retry: lockRetry,
      });
    },

    async close() {
      closing ??= (async () => {
        closed = true;
        if (ownsClient) {
          await client.quit().catch(() => {
            client.disconnect();
          });
        }
      })();
      return closing;
    },
  };
}
