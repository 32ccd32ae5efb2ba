import { escapeIdentifier, type PoolClient } from 'pg';

/** Fully qualified, quoted names of the store's tables inside one schema and prefix. */
export interface PostgresTables {
  schema: string;
  tablePrefix: string;
  migrations: string;
  entries: string;
  locks: string;
  counterEvents: string;
  /** `schema.prefix`: identifies this store's tables in advisory-lock keys. */
  namespace: string;
}

export function postgresTables({ schema, tablePrefix }: { schema: string; tablePrefix: string }): PostgresTables {
  const qualified = (table: string): string => `${escapeIdentifier(schema)}.${escapeIdentifier(tablePrefix + table)}`;
  return {
    schema,
    tablePrefix,
    migrations: qualified('migrations'),
    entries: qualified('entries'),
    locks: qualified('locks'),
    counterEvents: qualified('counter_events'),
    namespace: `${schema}.${tablePrefix}`,
  };
}

export interface PostgresMigration {
  version: number;
  name: string;
  statements(tables: PostgresTables): string[];
}

/**
 * The schema's history. Each migration runs once, in its own transaction with the record of it
 * having run; a released migration is never edited, only followed by a new one, and each must
 * stay compatible with the previous release so a rolling deploy can run both versions at once.
 *
 * Keys use `COLLATE "C"` so ordering and `LIKE 'prefix%'` follow the bytes of their UTF-8 form
 * (Unicode code point order, as in SQLite and Redis) and can use the primary-key index whatever
 * the database's default collation is. Times are epoch milliseconds in `bigint`, the unit of the
 * `TokenStore` contract, so an injected clock and the server's clock compare the same way.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: 'create_entries_locks_counter_events',
    statements: (tables) => {
      const index = (name: string): string => escapeIdentifier(`${tables.tablePrefix}${name}`);
      return [
        `CREATE TABLE ${tables.entries} (
          key text COLLATE "C" PRIMARY KEY,
          value text NOT NULL,
          version bigint NOT NULL CHECK (version > 0),
          expires_at bigint
        )`,
        // Serves the periodic sweep of expired entries without scanning the whole table.
        `CREATE INDEX ${index('entries_expires_at_idx')} ON ${tables.entries} (expires_at) WHERE expires_at IS NOT NULL`,
        // One row per lock key, kept after release: `token` is the last fencing token issued for
        // the key, so the sequence survives releases and expiries and never goes backwards.
        `CREATE TABLE ${tables.locks} (
          key text COLLATE "C" PRIMARY KEY,
          token bigint NOT NULL CHECK (token > 0),
          holder text,
          expires_at bigint NOT NULL
        )`,
        // One row per counted event; the primary key serves "events of this key newer than t".
        // `expires_at` is when the event leaves the window it was counted in, so the periodic
        // sweep can drop the events of counters nobody increments any more.
        `CREATE TABLE ${tables.counterEvents} (
          key text COLLATE "C" NOT NULL,
          at bigint NOT NULL,
          id bigint GENERATED ALWAYS AS IDENTITY,
          expires_at bigint NOT NULL,
          PRIMARY KEY (key, at, id)
        )`,
        `CREATE INDEX ${index('counter_events_expires_at_idx')} ON ${tables.counterEvents} (expires_at)`,
      ];
    },
  },
];

export const LATEST_SCHEMA_VERSION = POSTGRES_MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Brings the schema up to date. Safe to run from many processes at once: everything happens in
 * one transaction that first takes a transaction-scoped advisory lock for this schema and prefix,
 * so concurrent starters queue behind the first, then find the work done and commit nothing.
 * (`CREATE ... IF NOT EXISTS` alone is not enough: two sessions can both pass the existence check
 * and one then fails on the catalog's unique index.)
 *
 * Returns the versions applied by this call.
 */
export async function runMigrations({
  client,
  tables,
}: {
  client: PoolClient;
  tables: PostgresTables;
}): Promise<number[]> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), 0)', [`letmepost.migrate:${tables.namespace}`]);

    // Up to date already (the usual case): no DDL at all, so a runtime role without CREATE on
    // the schema can leave `migrate` on once a deploy step has migrated with a privileged role.
    const recorded = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [tables.migrations]);
    if (recorded.rows[0]?.exists === true) {
      const versions = await client.query<{ version: number }>(`SELECT version FROM ${tables.migrations}`);
      const done = new Set(versions.rows.map((row) => row.version));
      if (POSTGRES_MIGRATIONS.every((migration) => done.has(migration.version))) {
        await client.query('COMMIT');
        return applied;
      }
    }

    // Checked first because `CREATE SCHEMA IF NOT EXISTS` still demands the CREATE privilege on
    // the database, which a least-privilege role given an existing schema does not have.
    const schemaExists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tables.schema]);
    if (schemaExists.rowCount === 0) {
      await client.query(`CREATE SCHEMA ${escapeIdentifier(tables.schema)}`);
    }
    await client.query(`CREATE TABLE IF NOT EXISTS ${tables.migrations} (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);

    const result = await client.query<{ version: number }>(`SELECT version FROM ${tables.migrations}`);
    const done = new Set(result.rows.map((row) => row.version));
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(tables)) await client.query(statement);
      await client.query(`INSERT INTO ${tables.migrations} (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
