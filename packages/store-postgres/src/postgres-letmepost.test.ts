import {
  runMultiProcessLaunchCapScenario,
  runMultiProcessRefreshLockHolderScenario,
  runMultiProcessRefreshScenario,
  type StoreModuleReference,
} from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';

await requireDatabase();

/**
 * `createLetmepost` in 4 real Node processes sharing this store, against a loopback OAuth
 * platform that rotates refresh tokens: the cross-process refresh guarantees of issue 5.
 */
describe('letmepost on the postgres store, across 4 processes', () => {
  const schema = uniqueSchema('letmepost');
  const store: StoreModuleReference = {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'postgresTokenStore',
    storeOptions: { connectionString: DATABASE_URL, schema, poolConfig: { max: 10 } },
  };
  afterAll(() => dropSchema(schema));

  it('100 concurrent publishes on an expired account make exactly one refresh, and all succeed', async () => {
    const report = await runMultiProcessRefreshScenario({ ...store, processes: 4, publishesPerProcess: 25 });
    expect(report.stats.refreshRequests).toBe(1);
  }, 120_000);

  it('processes publishing to one X account together never pass its launch cap', async () => {
    const report = await runMultiProcessLaunchCapScenario({ ...store, processes: 4, publishesPerProcess: 25, limit: 30 });
    expect(report.stats.publishesAccepted).toBe(30);
  }, 120_000);

  // Each waits out the 30 s account lease of core, so they run side by side.
  describe.concurrent('a refresh lock holder that dies mid-refresh', () => {
    it('killed: the others take over after the lease and one of them refreshes', async () => {
      const report = await runMultiProcessRefreshLockHolderScenario({ ...store, holder: 'killed', processes: 4, publishesPerProcess: 25 });
      expect(report.takeoverAfterMs).toBeGreaterThan(20_000);
    }, 120_000);

    it('stalled past its lease: its late fenced write is rejected and the account stays active', async () => {
      const report = await runMultiProcessRefreshLockHolderScenario({ ...store, holder: 'stalled', processes: 4, publishesPerProcess: 25 });
      expect(report.takeoverAfterMs).toBeGreaterThan(20_000);
    }, 120_000);
  });
});
