import { inspect } from 'node:util';
import { LetmepostError, type TokenStore } from '@letmepost/core';
import { runTokenStoreConformance } from '@letmepost/testing';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, manualClock, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';
import { postgresTokenStore } from './postgres-token-store.js';

await requireDatabase();

const rawValue = (schema: string) => async (key: string): Promise<string | null> => {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const result = await client.query<{ value: string }>(
      `SELECT value FROM ${pg.escapeIdentifier(schema)}.letmepost_entries WHERE key = $1`,
      [key],
    );
    return result.rows[0]?.value ?? null;
  } finally {
    await client.end();
  }
};

async function settleError(promise: Promise<unknown>): Promise<LetmepostError> {
  try {
    await promise;
  } catch (error) {
    if (LetmepostError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

// The production configuration: the store owns its pools and reads the database server's clock.
const serverClockSchema = uniqueSchema('conf_server');
runTokenStoreConformance({
  name: 'postgres (server clock, own pool per handle)',
  createStore: () => postgresTokenStore({ connectionString: DATABASE_URL, schema: serverClockSchema }),
  readRaw: rawValue(serverClockSchema),
  cleanup: () => dropSchema(serverClockSchema),
});

// An injected clock, and one pool shared by every handle as a host would share its own; a store
// that ended a pool it did not create would break every later check.
const injectedClockSchema = uniqueSchema('conf_clock');
const conformanceClock = manualClock();
const sharedPool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
runTokenStoreConformance({
  name: 'postgres (injected clock, host pool)',
  clock: conformanceClock,
  createStore: () =>
    postgresTokenStore({ pool: sharedPool, schema: injectedClockSchema, tablePrefix: 'lmp_', clock: conformanceClock }),
  cleanup: async () => {
    await sharedPool.end();
    await dropSchema(injectedClockSchema);
  },
});

describe('postgresTokenStore', () => {
  const schema = uniqueSchema('unit');
  const stores: TokenStore[] = [];
  const open = (options: Partial<Parameters<typeof postgresTokenStore>[0]> = {}) => {
    const store = postgresTokenStore({ connectionString: DATABASE_URL, schema, ...options });
    stores.push(store);
    return store;
  };

  afterAll(async () => {
    for (const store of stores) await store.close?.();
    await dropSchema(schema);
  });

  it('creates its tables in the schema under the prefix and records the migration', async () => {
    await open({ tablePrefix: 'layout_' }).get('any');
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'layout\\_%' ORDER BY table_name`,
        [schema],
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        'layout_counter_events',
        'layout_entries',
        'layout_locks',
        'layout_migrations',
      ]);
      const migrations = await client.query(`SELECT version, name FROM ${pg.escapeIdentifier(schema)}.layout_migrations`);
      expect(migrations.rows).toEqual([{ version: 1, name: 'create_entries_locks_counter_events' }]);
      const keyCollation = await client.query<{ collation_name: string }>(
        `SELECT collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'layout_entries' AND column_name = 'key'`,
        [schema],
      );
      expect(keyCollation.rows[0]?.collation_name).toBe('C');
    } finally {
      await client.end();
    }
  });

  it('keeps stores with different table prefixes apart in one schema', async () => {
    const first = open({ tablePrefix: 'first_' });
    const second = open({ tablePrefix: 'second_' });
    await first.set('shared-key', 'from first');
    expect(await second.get('shared-key')).toBeNull();
    await second.set('shared-key', 'from second');
    expect((await first.get('shared-key'))?.value).toBe('from first');
  });

  it('lists keys in Unicode code point order (UTF-8 byte order), whatever the database collation', async () => {
    const store = open({ tablePrefix: 'order_' });
    // U+FF5A sorts below U+1F600 by code point, but above it in UTF-16 code units.
    const keys = ['k:a', 'k:B', 'k:é', 'k:😀', 'k:ｚ', 'k:a b', 'k:A'];
    for (const key of keys) await store.set(key, key);
    const listed = (await store.list('k:')).map((entry) => entry.key);
    expect(listed).toEqual(['k:A', 'k:B', 'k:a', 'k:a b', 'k:é', 'k:ｚ', 'k:😀']);
    expect((await store.list('k:', { after: 'k:ｚ' })).map((entry) => entry.key)).toEqual(['k:😀']);
  });

  it('leaves a host pool open on close() and ends a pool it created', async () => {
    const hostPool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    try {
      const borrowed = postgresTokenStore({ pool: hostPool, schema });
      await borrowed.set('pool-test', 'x');
      await borrowed.close();
      expect((await hostPool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await expect(borrowed.get('pool-test')).rejects.toMatchObject({ code: 'store_unavailable' });
    } finally {
      await hostPool.end();
    }

    const applicationName = `lmp-owned-${process.pid}-${Date.now()}`;
    const owned = postgresTokenStore({ connectionString: DATABASE_URL, schema, poolConfig: { application_name: applicationName } });
    await owned.set('pool-test', 'y');
    const connections = async () => {
      const result = await hostQuery('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      return (result.rows[0] as { n: number }).n;
    };
    expect(await connections()).toBeGreaterThan(0);
    await owned.close();
    await expect.poll(connections, { timeout: 5_000 }).toBe(0);
  });

  it('maps an unreachable server to a retryable store_unavailable that never shows the password', async () => {
    const canary = 'pg-canary-Pa55w0rd-4f1e9c';
    const store = postgresTokenStore({
      connectionString: `postgres://postgres:${canary}@127.0.0.1:1/test`,
      poolConfig: { connectionTimeoutMillis: 2_000 },
    });
    try {
      const error = await settleError(store.get('anything'));
      expect(error.code).toBe('store_unavailable');
      expect(error.retryable).toBe(true);
      expect(error.message).toBe('Could not reach PostgreSQL (ECONNREFUSED).');
      for (const rendering of [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: 10 }), String(error)]) {
        expect(rendering).not.toContain(canary);
      }
    } finally {
      await store.close();
    }
  });

  it('reports a missing database as a store_unavailable that retrying will not fix', async () => {
    const store = postgresTokenStore({ connectionString: 'postgres://postgres@127.0.0.1:5432/lmp_no_such_database' });
    try {
      const error = await settleError(store.get('anything'));
      expect(error).toMatchObject({ code: 'store_unavailable', retryable: false });
      expect(error.message).toBe('PostgreSQL refused the connection or the operation (SQLSTATE 3D000).');
    } finally {
      await store.close();
    }
  });

  it('with migrate: false and no tables, says to run the migrations', async () => {
    const store = open({ tablePrefix: 'unmigrated_', migrate: false });
    const error = await settleError(store.get('anything'));
    expect(error).toMatchObject({ code: 'store_unavailable', retryable: false });
    expect(error.remediation).toContain('migrate()');
    await store.migrate?.();
    expect(await store.get('anything')).toBeNull();
  });

  it('refuses bad options and arguments with validation_failed naming the field, before any query', async () => {
    const invalid = (build: () => unknown) => {
      try {
        build();
      } catch (error) {
        return error as LetmepostError;
      }
      throw new Error('expected validation_failed');
    };
    expect(invalid(() => postgresTokenStore({}))).toMatchObject({ code: 'validation_failed', field: 'pool' });
    expect(invalid(() => postgresTokenStore({ connectionString: DATABASE_URL, tablePrefix: 'bad"; DROP' }))).toMatchObject({
      code: 'validation_failed',
      field: 'tablePrefix',
    });
    expect(invalid(() => postgresTokenStore({ connectionString: DATABASE_URL, schema: 'a.b' }))).toMatchObject({
      code: 'validation_failed',
      field: 'schema',
    });

    // Pointed at a closed port: a query would fail with store_unavailable, not validation_failed.
    const offline = postgresTokenStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test' });
    try {
      await expect(offline.get('')).rejects.toMatchObject({ code: 'validation_failed', field: 'key' });
      await expect(offline.set('nul\u0000key', 'x')).rejects.toMatchObject({ code: 'validation_failed', field: 'key' });
      await expect(offline.set('key', 'lone \ud800 surrogate')).rejects.toMatchObject({ code: 'validation_failed', field: 'value' });
      await expect(offline.set('key', 'x', { ttlMs: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'ttlMs' });
      await expect(offline.increment('key', { windowMs: -1 })).rejects.toMatchObject({ code: 'validation_failed', field: 'windowMs' });
      await expect(offline.withLock('key', async () => 1, { ttlMs: Number.NaN })).rejects.toMatchObject({
        code: 'validation_failed',
        field: 'ttlMs',
      });
      await expect(offline.list('p', { limit: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'limit' });
    } finally {
      await offline.close();
    }
  });

  it('deletes expired entries and stale counter events in the background', async () => {
    const clock = manualClock();
    const tablePrefix = 'sweep_';
    const writer = postgresTokenStore({ connectionString: DATABASE_URL, schema, tablePrefix, clock, cleanupIntervalMs: false });
    const rows = async () =>
      (await hostQuery(`SELECT key FROM ${pg.escapeIdentifier(schema)}.sweep_entries ORDER BY key`)).rows.map((row) => row.key as string);
    const events = async () =>
      (await hostQuery(`SELECT key FROM ${pg.escapeIdentifier(schema)}.sweep_counter_events ORDER BY key`)).rows.map((row) => row.key as string);
    await writer.set('short', 'x', { ttlMs: 1_000 });
    await writer.set('long', 'x', { ttlMs: 60_000 });
    await writer.set('forever', 'x');
    await writer.increment('abandoned-counter', { windowMs: 1_000 });
    await writer.increment('live-counter', { windowMs: 60_000 });
    await writer.close();
    clock.advance(2_000);
    const store = postgresTokenStore({ connectionString: DATABASE_URL, schema, tablePrefix, clock, cleanupIntervalMs: 0 });
    expect(await store.get('short')).toBeNull();
    expect(await rows()).toEqual(['forever', 'long', 'short']);
    expect(await events()).toEqual(['abandoned-counter', 'live-counter']);
    // The next write triggers the sweep; close() waits for it to finish.
    await store.set('another', 'x');
    await store.close();
    expect(await rows()).toEqual(['another', 'forever', 'long']);
    expect(await events()).toEqual(['live-counter']);
  });

  it('keeps one lock row per key whose token only grows, across releases and expiries', async () => {
    const clock = manualClock();
    const store = open({ tablePrefix: 'fence_', clock });
    const tokens: number[] = [];
    tokens.push(await store.withLock('account:1', async (lease) => lease.token, { ttlMs: 1_000 }));
    // A holder that never releases (its process died): the lease runs out by the clock.
    let stalled: (() => void) | undefined;
    const abandoned = store.withLock(
      'account:1',
      async (lease) => {
        tokens.push(lease.token);
        await new Promise<void>((resolve) => {
          stalled = resolve;
        });
      },
      { ttlMs: 1_000 },
    );
    await expect.poll(() => tokens.length).toBe(2);
    clock.advance(1_001);
    tokens.push(await store.withLock('account:1', async (lease) => lease.token, { ttlMs: 1_000 }));
    stalled?.();
    await abandoned;
    tokens.push(await store.withLock('account:1', async (lease) => lease.token, { ttlMs: 1_000 }));
    expect(tokens).toEqual([1, 2, 3, 4]);

    const lockRows = await hostQuery(`SELECT key, token::int AS token, holder FROM ${pg.escapeIdentifier(schema)}.fence_locks`);
    expect(lockRows.rows).toEqual([{ key: 'account:1', token: 4, holder: null }]);
  });
});

async function hostQuery(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}
