import { randomBytes } from 'node:crypto';
import { runGrantStoreFaultSuite } from '@letmepost/testing';
import pg from 'pg';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';
import { postgresTokenStore } from './postgres-token-store.js';

await requireDatabase();

// Issue 11 #3 and #4 on PostgreSQL, including the server terminating every connection of the
// store (a failover, a restart) while a rotating refresh is in flight.
const schema = uniqueSchema('grant_faults');
// Only this run's connections carry this name, so killing them touches nobody else's.
const applicationName = `lmp_faults_${randomBytes(6).toString('hex')}`;

runGrantStoreFaultSuite({
  name: 'postgres',
  openStore: () => postgresTokenStore({ connectionString: DATABASE_URL, schema, poolConfig: { max: 4, application_name: applicationName } }),
  breakConnections: async () => {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ]);
      if (!rowCount) throw new Error('no store connection was open to terminate');
    } finally {
      await admin.end();
    }
  },
  cleanup: () => dropSchema(schema),
});
