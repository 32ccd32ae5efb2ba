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
import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { toStoreError } from './postgres-error.js';
import { postgresTables, runMigrations, type PostgresTables } from './postgres-schema.js';

export interface PostgresTokenStoreOptions {
  /**
   * A pool the host already runs. The store borrows connections from it and never ends it;
   * `close()` leaves it open for the host.
   */
  pool?: Pool;
  /** `postgres://user:password@host:5432/database`; the store then creates and owns its pool. */
  connectionString?: string;
  /** Further `pg` pool settings (size, timeouts, TLS) for the pool made from `connectionString`. */
  poolConfig?: Omit<PoolConfig, 'connectionString'>;
  /** Schema holding the tables; created if missing. Default `public`. */
  schema?: string;
  /** Prefix of every table name, so several stores can share a schema. Default `letmepost_`. */
  tablePrefix?: string;
  /**
   * Time source for TTLs, leases and counter windows. By default the database server's clock is
   * used, so every process sharing the store judges expiry by one clock whatever the skew between
   * application hosts. Inject a clock for deterministic tests; every process must then share it.
   */
  clock?: Clock;
  /**
   * Apply pending migrations on first use (default `true`). Set `false` when migrations run as a
   * deploy step (`await store.migrate()`) and the runtime role may not run DDL.
   */
  migrate?: boolean;
  /** Pauses between attempts to take a busy lock in `withLock`. */
  lockRetry?: LockRetryOptions;
  /**
   * At most this often (per store instance) a write also deletes a batch of expired entries and
   * of counter events past their window. Expired rows are invisible either way; this only
   * reclaims space. `false` disables it.
   * Default 60 000 ms.
   */
  cleanupIntervalMs?: number | false;
  /** Receives warnings about failed idle connections and background clean-ups. */
  logger?: Logger;
}

export interface PostgresTokenStore extends TokenStore {
  /** Applies pending migrations; safe to call from many processes at once. */
  migrate(): Promise<void>;
  /** Stops using the database; ends the pool only if the store created it. */
  close(): Promise<void>;
}

interface EntryRow extends QueryResultRow {
  version: string;
  expires_at: string | null;
}

interface Queryable {
  query<ROW extends QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: ROW[]; rowCount: number | null }>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL truncates identifiers past 63 bytes; the longest table suffix is 22 characters. */
const MAX_TABLE_PREFIX_LENGTH = 40;
const SWEEP_BATCH_SIZE = 1000;

/**
 * The current time in epoch milliseconds, always bound as `$1`: the injected clock's reading,
 * or NULL to use the server's clock. `statement_timestamp()` is fixed for the whole statement, so
 * every mention of it in one query sees the same instant.
 */
const NOW = `coalesce($1::bigint, floor(extract(epoch from statement_timestamp()) * 1000)::bigint)`;

/**
 * A `TokenStore` on PostgreSQL, for hosts that run several instances against one database.
 * Compare-and-set, leases, fencing and rolling counters are enforced by the database (row
 * conditions, `ON CONFLICT`, row and advisory locks), so they hold across any number of processes.
 */
export function postgresTokenStore(options: PostgresTokenStoreOptions): PostgresTokenStore {
  const { pool: hostPool, connectionString, poolConfig, clock, lockRetry } = options ?? {};
  if (hostPool === undefined && connectionString === undefined) {
    throw storeValidationError({ field: 'pool', message: 'Pass either an existing `pool` or a `connectionString`.' });
  }
  if (hostPool !== undefined && connectionString !== undefined) {
    throw storeValidationError({ field: 'connectionString', message: 'Pass either `pool` or `connectionString`, not both.' });
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    throw storeValidationError({ field: 'connectionString', message: 'connectionString must be a non-empty string.' });
  }
  const schema = options.schema ?? 'public';
  const tablePrefix = options.tablePrefix ?? 'letmepost_';
  if (typeof schema !== 'string' || !IDENTIFIER.test(schema) || schema.length > 63) {
    throw storeValidationError({ field: 'schema', message: 'schema must be a plain SQL identifier (letters, digits, underscores).' });
  }
  if (typeof tablePrefix !== 'string' || (tablePrefix !== '' && !IDENTIFIER.test(tablePrefix)) || tablePrefix.length > MAX_TABLE_PREFIX_LENGTH) {
    throw storeValidationError({
      field: 'tablePrefix',
      message: `tablePrefix must be letters, digits and underscores, at most ${MAX_TABLE_PREFIX_LENGTH} characters.`,
    });
  }
  const cleanupIntervalMs = options.cleanupIntervalMs ?? 60_000;
  if (cleanupIntervalMs !== false && (typeof cleanupIntervalMs !== 'number' || !(cleanupIntervalMs >= 0))) {
    throw storeValidationError({ field: 'cleanupIntervalMs', message: 'cleanupIntervalMs must be a number of milliseconds or false.' });
  }

  const logger = options.logger ?? silentLogger;
  const knownSecrets = [
    ...connectionUrlSecrets({ url: connectionString }),
    ...(typeof poolConfig?.password === 'string' && poolConfig.password !== '' ? [poolConfig.password] : []),
  ];
  const ownsPool = hostPool === undefined;
  const pool = hostPool ?? new Pool({ ...poolConfig, connectionString });
  if (ownsPool) {
    // Without a listener, an idle connection dropped by the server would crash the process.
    pool.on('error', (error) => {
      logger.log('warn', 'An idle PostgreSQL connection failed; the pool will open a new one.', {
        error: toStoreError(error, { knownSecrets }).message,
      });
    });
  }
  const tables: PostgresTables = postgresTables({ schema, tablePrefix });
  /** Names the lease holder in the locks table, to tell from SQL which process holds a lock. */
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  let closed = false;
  let closing: Promise<void> | undefined;
  let ready: Promise<void> | undefined;
  let lastSweepAt = Number.NEGATIVE_INFINITY;
  let sweeping: Promise<void> | undefined;

  const nowParameter = (): number | null => (clock === undefined ? null : Math.floor(clock.now()));

  const assertOpen = (): void => {
    if (closed) throw storeClosedError({ storeName: 'PostgreSQL' });
  };

  const migrate = async (): Promise<void> => {
    assertOpen();
    const { client, release } = await connect();
    try {
      const applied = await runMigrations({ client, tables });
      if (applied.length > 0) {
        logger.log('info', 'Applied letmepost store migrations.', { schema, tablePrefix, versions: applied });
      }
    } catch (error) {
      throw toStoreError(error, { knownSecrets });
    } finally {
      release(false);
    }
  };

  const ensureReady = (): Promise<void> => {
    if (options.migrate === false) return Promise.resolve();
    ready ??= migrate().catch((error: unknown) => {
      // Forget the failure so the next call retries, e.g. once the database is back.
      ready = undefined;
      throw error;
    });
    return ready;
  };

  /**
   * Checks a client out of the pool. While it is out, the pool no longer listens for its errors:
   * a server that terminates the connection between two statements (a failover, an admin's
   * `pg_terminate_backend`) would raise an uncaught error and end the process. The listener here
   * logs it instead; the statement in flight, if any, fails with `store_unavailable` as usual.
   */
  async function connect(): Promise<{ client: PoolClient; release: (broken: boolean) => void }> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStoreError(error, { knownSecrets });
    }
    let failed = false;
    const onError = (error: Error): void => {
      failed = true;
      logger.log('warn', 'A PostgreSQL connection in use failed; it will not go back to the pool.', {
        error: toStoreError(error, { knownSecrets }).message,
      });
    };
    client.on('error', onError);
    return {
      client,
      release: (broken) => {
        client.removeListener('error', onError);
        client.release(broken || failed);
      },
    };
  }

  const run = async <ROW extends QueryResultRow>(text: string, values: unknown[]): Promise<{ rows: ROW[]; rowCount: number | null }> => {
    assertOpen();
    await ensureReady();
    try {
      return await pool.query<ROW>(text, values);
    } catch (error) {
      throw toStoreError(error, { knownSecrets });
    }
  };

  const transaction = async <RESULT>(work: (client: Queryable) => Promise<RESULT>): Promise<RESULT> => {
    assertOpen();
    await ensureReady();
    const { client, release } = await connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // A connection that cannot roll back must not go back to the pool.
        broken = true;
      }
      throw toStoreError(error, { knownSecrets });
    } finally {
      release(broken);
    }
  };

  /** Occasionally reclaims expired entries; never delays or fails the write that triggered it. */
  const maybeSweep = (): void => {
    if (cleanupIntervalMs === false || closed || sweeping !== undefined) return;
    const now = performance.now();
    if (now - lastSweepAt < cleanupIntervalMs) return;
    lastSweepAt = now;
    const sweep = async (): Promise<void> => {
      const sweepNow = nowParameter();
      await pool.query(
        `DELETE FROM ${tables.entries} WHERE key IN (
           SELECT key FROM ${tables.entries} WHERE expires_at <= ${NOW}
           ORDER BY expires_at LIMIT ${SWEEP_BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
        [sweepNow],
      );
      // Events of counters that are no longer incremented (removed accounts); a live counter
      // prunes its own events on every increment.
      await pool.query(
        `DELETE FROM ${tables.counterEvents} WHERE (key, at, id) IN (
           SELECT key, at, id FROM ${tables.counterEvents} WHERE expires_at <= ${NOW}
           ORDER BY expires_at LIMIT ${SWEEP_BATCH_SIZE} FOR UPDATE SKIP LOCKED)`,
        [sweepNow],
      );
    };
    sweeping = sweep()
      .then(
        () => {},
        (error: unknown) => {
          logger.log('warn', 'Deleting expired letmepost entries failed; they stay invisible and are retried later.', {
            error: toStoreError(error, { knownSecrets }).message,
          });
        },
      )
      .finally(() => {
        sweeping = undefined;
      });
  };

  /**
   * Writes an entry in one statement whose row condition is the compare-and-set: the update
   * happens only if the stored row is in the expected state when the statement locks it, and no
   * row comes back otherwise. An expired row counts as absent, and its version restarts at 1.
   */
  const writeEntry = async (
    runner: Queryable,
    { key, value, expectedVersion, ttlMs }: { key: string; value: string; expectedVersion: number | null | undefined; ttlMs: number | null },
  ): Promise<EntryRow | undefined> => {
    const live = `(${tables.entries}.expires_at IS NULL OR ${tables.entries}.expires_at > ${NOW})`;
    const expiresAt = `${NOW} + $4::bigint`;
    if (typeof expectedVersion === 'number') {
      const result = await runner.query<EntryRow>(
        `UPDATE ${tables.entries} SET value = $3, version = version + 1, expires_at = ${expiresAt}
         WHERE key = $2 AND version = $5 AND ${live}
         RETURNING version, expires_at`,
        [nowParameter(), key, value, ttlMs, expectedVersion],
      );
      return result.rows[0];
    }
    const result = await runner.query<EntryRow>(
      `INSERT INTO ${tables.entries} (key, value, version, expires_at) VALUES ($2, $3, 1, ${expiresAt})
       ON CONFLICT (key) DO UPDATE SET
         value = EXCLUDED.value,
         version = CASE WHEN ${live} THEN ${tables.entries}.version + 1 ELSE 1 END,
         expires_at = EXCLUDED.expires_at
       ${expectedVersion === null ? `WHERE NOT ${live}` : ''}
       RETURNING version, expires_at`,
      [nowParameter(), key, value, ttlMs],
    );
    return result.rows[0];
  };

  const toEntry = (key: string, value: string, row: EntryRow): StoreEntry =>
    row.expires_at === null
      ? { key, value, version: Number(row.version) }
      : { key, value, version: Number(row.version), expiresAt: Number(row.expires_at) };

  const tryAcquireLease = async (key: string, ttlMs: number): Promise<LockLease | undefined> => {
    // Takes the row if it is free or its lease ran out; `ON CONFLICT ... WHERE` evaluates the
    // condition on the latest row version under its row lock, so two takers cannot both win.
    const result = await run<{ token: string; expires_at: string }>(
      `INSERT INTO ${tables.locks} AS lock (key, token, holder, expires_at) VALUES ($2, 1, $3, ${NOW} + $4::bigint)
       ON CONFLICT (key) DO UPDATE SET token = lock.token + 1, holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
       WHERE lock.expires_at <= ${NOW}
       RETURNING token, expires_at`,
      [nowParameter(), key, holder, ttlMs],
    );
    const row = result.rows[0];
    return row === undefined ? undefined : { key, token: Number(row.token), expiresAt: Number(row.expires_at) };
  };

  const releaseLease = async (lease: LockLease): Promise<void> => {
    // The row stays (it carries the fencing sequence); only the lease ends. A holder that ran
    // past its TTL matches no row here, since a later holder has bumped the token.
    await run(`UPDATE ${tables.locks} SET expires_at = 0, holder = NULL WHERE key = $1 AND token = $2`, [
      lease.key,
      lease.token,
    ]);
  };

  const get = async (key: string): Promise<StoreEntry | null> => {
    checkStoreArguments.get({ key });
    const result = await run<EntryRow & { value: string }>(
      `SELECT value, version, expires_at FROM ${tables.entries}
       WHERE key = $2 AND (expires_at IS NULL OR expires_at > ${NOW})`,
      [nowParameter(), key],
    );
    const row = result.rows[0];
    return row === undefined ? null : toEntry(key, row.value, row);
  };

  return {
    migrate,
    get,

    async set(key, value, setOptions: StoreSetOptions = {}) {
      checkStoreArguments.set({ key, value, options: setOptions });
      const { expectedVersion, fence } = setOptions;
      const ttlMs = setOptions.ttlMs === undefined ? null : wholeMilliseconds(setOptions.ttlMs);
      const write = (runner: Queryable) => writeEntry(runner, { key, value, expectedVersion, ttlMs });

      const row =
        fence === undefined
          ? await write({ query: (text, values) => run(text, values ?? []) })
          : await transaction(async (client) => {
              // FOR SHARE keeps the lease row as checked until this transaction commits: a process
              // taking the lock over has to wait for the write, so no write lands after a takeover.
              const lease = await client.query(
                `SELECT 1 FROM ${tables.locks} WHERE key = $2 AND token = $3 AND expires_at > ${NOW} FOR SHARE`,
                [nowParameter(), fence.key, fence.token],
              );
              if (lease.rowCount === 0) {
                throw leaseLostError({ fence });
              }
              return write(client);
            });

      if (row === undefined) {
        // One conditional statement matched nothing; which version it found is not known.
        throw typeof expectedVersion === 'number' ? versionConflictError({ key, expectedVersion }) : entryExistsError({ key });
      }
      maybeSweep();
      return toEntry(key, value, row);
    },

    async delete(key, deleteOptions = {}) {
      checkStoreArguments.delete({ key, options: deleteOptions });
      const expectedVersion = deleteOptions.expectedVersion ?? null;
      // Removes the live entry if its version matches, and an expired one in passing; `live`
      // tells which of the two was deleted.
      const result = await run<{ live: boolean }>(
        `DELETE FROM ${tables.entries}
         WHERE key = $2 AND (
           (expires_at IS NOT NULL AND expires_at <= ${NOW})
           OR $3::bigint IS NULL OR version = $3::bigint)
         RETURNING (expires_at IS NULL OR expires_at > ${NOW}) AS live`,
        [nowParameter(), key, expectedVersion],
      );
      if (result.rows[0]?.live === true) return true;
      if (expectedVersion === null) return false;
      // Nothing live was deleted: the key is absent (not an error) or at another version.
      const current = await get(key);
      if (current === null) return false;
      throw versionConflictError({ key, expectedVersion, currentVersion: current.version });
    },

    async list(prefix, listOptions = {}) {
      checkStoreArguments.list({ prefix, options: listOptions });
      const pattern = `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
      const result = await run<EntryRow & { key: string; value: string }>(
        `SELECT key, value, version, expires_at FROM ${tables.entries}
         WHERE key LIKE $2 ESCAPE '\\'
           AND ($3::text IS NULL OR key > $3::text)
           AND (expires_at IS NULL OR expires_at > ${NOW})
         ORDER BY key
         LIMIT $4`,
        [nowParameter(), pattern, listOptions.after ?? null, listOptions.limit ?? null],
      );
      return result.rows.map((row) => toEntry(row.key, row.value, row));
    },

    async increment(key, incrementOptions): Promise<StoreIncrementResult> {
      checkStoreArguments.increment({ key, options: incrementOptions });
      const { amount = 1, limit } = incrementOptions;
      const windowMs = wholeMilliseconds(incrementOptions.windowMs);

      const outcome = await transaction(async (client) => {
        // Serialises increments of this key (and only this key) until commit, so the count read
        // next is still true when the events are added. Every statement after it takes a fresh
        // snapshot under READ COMMITTED and so sees the previous holder's committed events.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          `letmepost.counter:${tables.namespace}`,
          key,
        ]);
        const state = await client.query<{ now: string; count: string }>(
          `WITH pruned AS (DELETE FROM ${tables.counterEvents} WHERE key = $2 AND at <= ${NOW} - $3::bigint)
           SELECT ${NOW} AS now,
                  (SELECT count(*) FROM ${tables.counterEvents} WHERE key = $2 AND at > ${NOW} - $3::bigint) AS count`,
          [nowParameter(), key, windowMs],
        );
        const now = Number(state.rows[0]?.now);
        const count = Number(state.rows[0]?.count ?? 0);

        if (amount < 0) {
          const removed = Math.min(count, -amount);
          if (removed > 0) {
            await client.query(
              `DELETE FROM ${tables.counterEvents} WHERE (key, at, id) IN (
                 SELECT key, at, id FROM ${tables.counterEvents}
                 WHERE key = $1 AND at > $2::bigint - $3::bigint
                 ORDER BY at DESC, id DESC LIMIT $4)`,
              [key, now, windowMs, removed],
            );
          }
          return { count: count - removed, accepted: true };
        }
        if (limit !== undefined && count + amount > limit) return { count, accepted: false };
        if (amount > 0) {
          await client.query(
            `INSERT INTO ${tables.counterEvents} (key, at, expires_at) SELECT $1, $2, $2::bigint + $3::bigint FROM generate_series(1, $4)`,
            [key, now, windowMs, amount],
          );
        }
        return { count: count + amount, accepted: true };
      });
      maybeSweep();
      return outcome;
    },

    async withLock(key, fn, lockOptions) {
      return runWithLockLease({
        key,
        options: lockOptions,
        fn,
        tryAcquire: () => tryAcquireLease(key, wholeMilliseconds(lockOptions.ttlMs)),
        release: releaseLease,
        // `run` maps a failed release to a LetmepostError, whose message is safe to log.
        logger,
        retry: lockRetry,
      });
    },

    async close() {
      closing ??= (async () => {
        closed = true;
        await sweeping;
        if (ownsPool) await pool.end();
      })();
      return closing;
    },
  };
}
