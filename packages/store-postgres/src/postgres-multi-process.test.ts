import {
  runMultiProcessCasScenario,
  runMultiProcessLimitScenario,
  runMultiProcessLockScenario,
  type StoreModuleReference,
} from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';
import { postgresTokenStore } from './postgres-token-store.js';

await requireDatabase();

/**
 * Four real Node processes share one store, each building it from the package's built entry
 * point exactly as a host would. Nothing is shared between them except the database.
 */
describe('postgres store shared by 4 processes', () => {
  const schema = uniqueSchema('multi_process');
  const store: StoreModuleReference = {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'postgresTokenStore',
    storeOptions: { connectionString: DATABASE_URL, schema, poolConfig: { max: 10 } },
  };
  const reader = postgresTokenStore({ connectionString: DATABASE_URL, schema });
  afterAll(async () => {
    await reader.close();
    await dropSchema(schema);
  });

  it('100 concurrent compare-and-set increments (25 per process) land exactly once each', async () => {
    const { conflicts } = await runMultiProcessCasScenario({ ...store, processes: 4, operationsPerProcess: 25, readStore: reader });
    // The run is only meaningful if the writers really collided.
    expect(conflicts).toBeGreaterThan(0);
  }, 120_000);

  it('lock sections never overlap across processes and fencing tokens follow the grant order', async () => {
    expect((await runMultiProcessLockScenario({ ...store, processes: 4, operationsPerProcess: 25 })).sections).toBe(100);
  }, 120_000);

  it('an increment limit holds across processes', async () => {
    expect((await runMultiProcessLimitScenario({ ...store, processes: 4, operationsPerProcess: 25, limit: 37 })).accepted).toBe(37);
  }, 120_000);
});
