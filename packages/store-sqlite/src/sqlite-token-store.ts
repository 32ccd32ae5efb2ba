import { DatabaseSync, type StatementSync } from 'node:sqlite';
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
import {
  checkStoreArguments,
  entryExistsError,
  leaseLostError,
  runWithLockLease,
  storeClosedError,
  versionConflictError,
} from '@letmepost/core/internal';

// This file has no relative imports on purpose: the multi-process test runs it in child
// processes straight from source with Node's type stripping.

export interface SqliteTokenStoreOptions {
  /** Database file, created if missing. Every process sharing the file shares the store. `:memory:` is private to one handle. */
  path: string;
  /**
   * How long a statement waits for another connection's write lock before failing with
   * `store_unavailable`. node:sqlite is synchronous, so this wait blocks the thread; write
   * transactions here last microseconds, so waits are short. Default 5000.
   */
  busyTimeoutMs?: number;
  /** Read for TTLs, counter windows and lease expiry. `withLock`'s `waitMs` is measured in real time. */
  clock?: Clock;
  /**
   * `full` (default) syncs every commit, so a rotated refresh token survives a power cut;
   * `normal` is faster in WAL mode but may lose the last commits on power loss (not on a crash).
   */
  synchronous?: 'full' | 'normal';
}

/** A TokenStore handle on an SQLite file. */
export interface SqliteTokenStore extends TokenStore {
  /** The file this handle writes to. */
  readonly path: string;
  /** Deletes expired entries (they are already invisible); returns how many rows were removed. */
  sweep(): number;
  close(): Promise<void>;
}

/** Schema migrations, applied in order, each once, recorded in `letmepost_migrations`. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS letmepost_entries (
    key TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS letmepost_entries_expires_at ON letmepost_entries (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS letmepost_counter_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    amount INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS letmepost_counter_events_key_at ON letmepost_counter_events (key, at);
  CREATE TABLE IF NOT EXISTS letmepost_locks (
    key TEXT NOT NULL PRIMARY KEY,
    last_token INTEGER NOT NULL,
    holder_token INTEGER,
    expires_at INTEGER
  );
  `,
];

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
/** Expired rows are invisible at once; they are deleted every this many writes of a handle. */
const SWEEP_EVERY_WRITES = 500;

interface EntryRow {
  key: string;
  value: string;
  version: number;
  expires_at: number | null;
}

interface LockRow {
  last_token: number;
  holder_token: number | null;
  expires_at: number | null;
}

function unavailable(cause: unknown): LetmepostError {
  const errcode = (cause as { errcode?: number } | null)?.errcode;
  const busy = errcode === SQLITE_BUSY || errcode === SQLITE_LOCKED;
  return new LetmepostError({
    code: 'store_unavailable',
    message: busy
      ? 'The SQLite database stayed locked by another connection for longer than busyTimeoutMs.'
      : `The SQLite store failed: ${(cause as Error)?.message ?? String(cause)}`,
    remediation: busy ? 'Retry, or raise busyTimeoutMs if writers hold the file for long.' : undefined,
    cause,
  });
}

/**
 * The smallest string greater than every string starting with `prefix`, in the code point order
 * SQLite's BINARY collation uses for UTF-8 text; `undefined` when no such bound exists.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const codePoints = [...prefix].map((character) => character.codePointAt(0)!);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!;
    if (last < 0x10ffff) {
      // Lone surrogates cannot be stored as UTF-8; skip over their range.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return String.fromCodePoint(...codePoints, next);
    }
  }
  return undefined;
}

const toEntry = (row: EntryRow): StoreEntry => ({
  key: row.key,
  value: row.value,
  version: row.version,
  ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
});

/**
 * A TokenStore on Node's built-in `node:sqlite`: one file, WAL mode, and `BEGIN IMMEDIATE`
 * around every read-modify-write, so compare-and-set, limited increments and locks hold across
 * processes that open the same file.
 */
export function sqliteTokenStore(options: SqliteTokenStoreOptions): SqliteTokenStore {
  const clock = options.clock ?? systemClock;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(options.path, { timeout: busyTimeoutMs });
    // Set before anything that may need a lock, so concurrent openers wait instead of failing.
    database.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    database.exec('PRAGMA journal_mode = WAL');
    database.exec(`PRAGMA synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    migrate(database, clock);
  } catch (error) {
    throw unavailable(error);
  }

  const statements = {
    getEntry: database.prepare('SELECT key, value, version, expires_at FROM letmepost_entries WHERE key = ?'),
    upsertEntry: database.prepare(
      `INSERT INTO letmepost_entries (key, value, version, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at`,
    ),
    deleteEntry: database.prepare('DELETE FROM letmepost_entries WHERE key = ?'),
    sweepEntries: database.prepare('DELETE FROM letmepost_entries WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    pruneEvents: database.prepare('DELETE FROM letmepost_counter_events WHERE key = ? AND at <= ?'),
    sumEvents: database.prepare('SELECT COALESCE(SUM(amount), 0) AS count FROM letmepost_counter_events WHERE key = ?'),
    newestEvents: database.prepare('SELECT id, amount FROM letmepost_counter_events WHERE key = ? ORDER BY at DESC, id DESC'),
    deleteEvent: database.prepare('DELETE FROM letmepost_counter_events WHERE id = ?'),
    shrinkEvent: database.prepare('UPDATE letmepost_counter_events SET amount = ? WHERE id = ?'),
    insertEvent: database.prepare('INSERT INTO letmepost_counter_events (key, at, amount) VALUES (?, ?, ?)'),
    getLock: database.prepare('SELECT last_token, holder_token, expires_at FROM letmepost_locks WHERE key = ?'),
    grantLock: database.prepare(
      `INSERT INTO letmepost_locks (key, last_token, holder_token, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET last_token = excluded.last_token, holder_token = excluded.holder_token, expires_at = excluded.expires_at`,
    ),
    releaseLock: database.prepare('UPDATE letmepost_locks SET holder_token = NULL, expires_at = NULL WHERE key = ? AND holder_token = ?'),
  } satisfies Record<string, StatementSync>;

  const listStatements = new Map<string, StatementSync>();
  const listStatement = (bounded: boolean, after: boolean, limited: boolean): StatementSync => {
    const id = `${bounded}:${after}:${limited}`;
    let statement = listStatements.get(id);
    if (!statement) {
      statement = database.prepare(
        `SELECT key, value, version, expires_at FROM letmepost_entries
         WHERE key >= ?${bounded ? ' AND key < ?' : ''}${after ? ' AND key > ?' : ''}
           AND (expires_at IS NULL OR expires_at > ?)
         ORDER BY key${limited ? ' LIMIT ?' : ''}`,
      );
      listStatements.set(id, statement);
    }
    return statement;
  };

  let writes = 0;
  let closed = false;

  /**
   * Runs `body` inside BEGIN IMMEDIATE … COMMIT. The body is synchronous: nothing else on this
   * connection can interleave, and the write lock is taken up front so two processes cannot both
   * read a version and then both write.
   */
  const transaction = <T>(body: () => T): T => {
    if (closed) throw storeClosedError({ storeName: 'SQLite' });
    try {
      database.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw unavailable(error);
    }
    try {
      const result = body();
      database.exec('COMMIT');
      return result;
    } catch (error) {
      if (database.isTransaction) database.exec('ROLLBACK');
      throw LetmepostError.isInstance(error) ? error : unavailable(error);
    }
  };

  const read = <T>(body: () => T): T => {
    if (closed) throw storeClosedError({ storeName: 'SQLite' });
    try {
      return body();
    } catch (error) {
      throw unavailable(error);
    }
  };

  const liveEntry = (key: string, now: number): EntryRow | undefined => {
    const row = statements.getEntry.get(key) as EntryRow | undefined;
    return row && (row.expires_at === null || row.expires_at > now) ? row : undefined;
  };

  const sweep = (): number =>
    transaction(() => Number(statements.sweepEntries.run(clock.now()).changes));

  const afterWrite = () => {
    writes += 1;
    if (writes % SWEEP_EVERY_WRITES === 0) sweep();
  };

  const tryAcquire = (key: string, ttlMs: number): LockLease | undefined =>
    transaction(() => {
      const now = clock.now();
      const row = statements.getLock.get(key) as LockRow | undefined;
      if (row?.holder_token != null && row.expires_at != null && row.expires_at > now) return undefined;
      // Tokens come from the persisted high-water mark, so they never repeat, even after restarts.
      const token = (row?.last_token ?? 0) + 1;
      const expiresAt = now + ttlMs;
      statements.grantLock.run(key, token, token, expiresAt);
      return { key, token, expiresAt };
    });

  return {
    path: options.path,
    sweep,

    async get(key) {
      checkStoreArguments.get({ key });
      return read(() => {
        const row = liveEntry(key, clock.now());
        return row ? toEntry(row) : null;
      });
    },

    async set(key: string, value: string, setOptions: StoreSetOptions = {}) {
      checkStoreArguments.set({ key, value, options: setOptions });
      const entry = transaction(() => {
        const now = clock.now();
        const fence = setOptions.fence;
        if (fence) {
          const lock = statements.getLock.get(fence.key) as LockRow | undefined;
          if (lock?.holder_token !== fence.token || lock.expires_at === null || lock.expires_at <= now) {
            throw leaseLostError({ fence });
          }
        }
        const current = liveEntry(key, now);
        const expected = setOptions.expectedVersion;
        if (expected === null && current) throw entryExistsError({ key, currentVersion: current.version });
        if (typeof expected === 'number' && current?.version !== expected) {
          throw versionConflictError({ key, expectedVersion: expected, currentVersion: current?.version ?? null });
        }
        const row: EntryRow = {
          key,
          value,
          version: (current?.version ?? 0) + 1,
          expires_at: setOptions.ttlMs === undefined ? null : now + setOptions.ttlMs,
        };
        statements.upsertEntry.run(row.key, row.value, row.version, row.expires_at);
        return toEntry(row);
      });
      afterWrite();
      return entry;
    },

    async delete(key, deleteOptions = {}) {
      checkStoreArguments.delete({ key, options: deleteOptions });
      const removed = transaction(() => {
        const current = liveEntry(key, clock.now());
        if (!current) {
          statements.deleteEntry.run(key);
          return false;
        }
        const { expectedVersion } = deleteOptions;
        if (expectedVersion !== undefined && current.version !== expectedVersion) {
          throw versionConflictError({ key, expectedVersion, currentVersion: current.version });
        }
        statements.deleteEntry.run(key);
        return true;
      });
      afterWrite();
      return removed;
    },

    async list(prefix, listOptions = {}) {
      checkStoreArguments.list({ prefix, options: listOptions });
      return read(() => {
        const upper = prefixUpperBound(prefix);
        const parameters: Array<string | number> = [prefix];
        if (upper !== undefined) parameters.push(upper);
        if (listOptions.after !== undefined) parameters.push(listOptions.after);
        parameters.push(clock.now());
        if (listOptions.limit !== undefined) parameters.push(listOptions.limit);
        const statement = listStatement(upper !== undefined, listOptions.after !== undefined, listOptions.limit !== undefined);
        return (statement.all(...parameters) as unknown as EntryRow[]).map(toEntry);
      });
    },

    async increment(key, incrementOptions): Promise<StoreIncrementResult> {
      checkStoreArguments.increment({ key, options: incrementOptions });
      const amount = incrementOptions.amount ?? 1;
      const result = transaction((): StoreIncrementResult => {
        const now = clock.now();
        statements.pruneEvents.run(key, now - incrementOptions.windowMs);
        const count = Number((statements.sumEvents.get(key) as { count: number }).count);
        if (amount < 0) {
          // Undo the newest events first: a refused publish gives back the slot it just took.
          let toRemove = -amount;
          for (const event of statements.newestEvents.all(key) as unknown as Array<{ id: number; amount: number }>) {
            if (toRemove === 0) break;
            if (event.amount <= toRemove) {
              statements.deleteEvent.run(event.id);
              toRemove -= event.amount;
            } else {
              statements.shrinkEvent.run(event.amount - toRemove, event.id);
              toRemove = 0;
            }
          }
          return { count: Math.max(0, count + amount), accepted: true };
        }
        if (incrementOptions.limit !== undefined && count + amount > incrementOptions.limit) return { count, accepted: false };
        if (amount > 0) statements.insertEvent.run(key, now, amount);
        return { count: count + amount, accepted: true };
      });
      afterWrite();
      return result;
    },

    async withLock(key, fn, lockOptions) {
      return runWithLockLease({
        key,
        options: lockOptions,
        fn,
        // Each attempt is its own short transaction: nothing is held while waiting.
        tryAcquire: () => tryAcquire(key, lockOptions.ttlMs),
        // Releases only our own grant: a lease that expired and was taken over leaves the new
        // holder alone. A failed release (or a handle closed meanwhile) is ignored: the lease
        // runs out at its expiresAt.
        release: (lease) => {
          transaction(() => statements.releaseLock.run(lease.key, lease.token));
        },
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      database.close();
    },
  };
}

function migrate(database: DatabaseSync, clock: Clock): void {
  database.exec('BEGIN IMMEDIATE');
  try {
    database.exec('CREATE TABLE IF NOT EXISTS letmepost_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = database.prepare('SELECT COALESCE(MAX(version), 0) AS version FROM letmepost_migrations').get() as { version: number };
    if (Number(applied.version) > MIGRATIONS.length) {
      throw new Error(
        `the database schema is at version ${applied.version}, newer than the ${MIGRATIONS.length} this release of @letmepost/store-sqlite knows; upgrade the package`,
      );
    }
    const record = database.prepare('INSERT INTO letmepost_migrations (version, applied_at) VALUES (?, ?)');
    for (let index = Number(applied.version); index < MIGRATIONS.length; index += 1) {
      database.exec(MIGRATIONS[index]!);
      record.run(index + 1, clock.now());
    }
    database.exec('COMMIT');
  } catch (error) {
    if (database.isTransaction) database.exec('ROLLBACK');
    throw error;
  }
}

/** The schema version this release writes (rows in `letmepost_migrations`). */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;
