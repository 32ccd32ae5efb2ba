import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The database the tests run against; they fail (never skip) when it is unreachable. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Connects once with a short timeout and throws a message that says what to start, so a missing
 * server fails the run loudly instead of every test timing out or being skipped.
 */
export async function requireDatabase(): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL.replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message}). ` +
        'These tests need a real server: start one or set DATABASE_URL.',
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema name no other test run uses, so runs can share one database and clean up after. */
export function uniqueSchema(label: string): string {
  return `lmp_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)): { now(): number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
