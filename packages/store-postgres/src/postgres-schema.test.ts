import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';
import { LATEST_SCHEMA_VERSION, postgresTables, runMigrations } from './postgres-schema.js';
import { postgresTokenStore } from './postgres-token-store.js';

await requireDatabase();

describe('postgres migrations', () => {
  const schemas: string[] = [];
  const freshSchema = (label: string): string => {
    const schema = uniqueSchema(label);
    schemas.push(schema);
    return schema;
  };
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(schema);
  });

  it('run from 4 connections at once: exactly one applies them, the others find them done', async () => {
    const tables = postgresTables({ schema: freshSchema('migrate_race'), tablePrefix: 'letmepost_' });
    // Four separate connections (not one pool), as four processes starting together would have.
    const clients = Array.from({ length: 4 }, () => new pg.Client({ connectionString: DATABASE_URL }));
    await Promise.all(clients.map((client) => client.connect()));
    try {
      for (let round = 0; round < 3; round++) {
        const applied = await Promise.all(clients.map((client) => runMigrations({ client: client as pg.PoolClient, tables })));
        expect(applied.flat()).toEqual(round === 0 ? [LATEST_SCHEMA_VERSION] : []);
      }
      const recorded = await clients[0]!.query(`SELECT version FROM ${tables.migrations} ORDER BY version`);
      expect(recorded.rows).toEqual([{ version: 1 }]);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it('lets 4 stores start at once on an empty schema and work immediately', async () => {
    const schema = freshSchema('start_race');
    const stores = Array.from({ length: 4 }, () => postgresTokenStore({ connectionString: DATABASE_URL, schema }));
    try {
      // First use triggers the migration in each store, all racing; the creates race as well.
      const outcomes = await Promise.allSettled(stores.map((store, index) => store.set('first', `store-${index}`, { expectedVersion: null })));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'store_conflict' });
      }
      await Promise.all(stores.map((store) => store.migrate()));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('works with least-privilege roles: no CREATE on the database, then DML rights only', async () => {
    const schema = freshSchema('least_privilege');
    const role = `${schema}_role`;
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
      await admin.query(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN`);
      await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${pg.escapeIdentifier(schema)} TO ${pg.escapeIdentifier(role)}`);
      const url = new URL(DATABASE_URL);
      url.username = role;
      url.password = '';
      const store = postgresTokenStore({ connectionString: url.href, schema });
      try {
        expect((await store.set('k', 'v')).version).toBe(1);
      } finally {
        await store.close();
      }

      // A runtime role with DML rights only, after a deploy step migrated: leaving `migrate` on
      // must not attempt DDL.
      const runtimeRole = `${schema}_runtime`;
      await admin.query(`CREATE ROLE ${pg.escapeIdentifier(runtimeRole)} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA ${pg.escapeIdentifier(schema)} TO ${pg.escapeIdentifier(runtimeRole)}`);
      await admin.query(
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${pg.escapeIdentifier(schema)} TO ${pg.escapeIdentifier(runtimeRole)}`,
      );
      url.username = runtimeRole;
      const runtime = postgresTokenStore({ connectionString: url.href, schema });
      try {
        expect((await runtime.set('k', 'w', { expectedVersion: 1 })).version).toBe(2);
        expect(await runtime.increment('c', { windowMs: 1_000 })).toEqual({ count: 1, accepted: true });
        expect(await runtime.withLock('l', async (lease) => lease.token, { ttlMs: 1_000 })).toBe(1);
      } finally {
        await runtime.close();
        await admin.query(`DROP OWNED BY ${pg.escapeIdentifier(runtimeRole)}`);
        await admin.query(`DROP ROLE ${pg.escapeIdentifier(runtimeRole)}`);
      }
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await admin.query(`DROP OWNED BY ${pg.escapeIdentifier(role)}`).catch(() => {});
      await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
      await admin.end();
    }
  });
});
