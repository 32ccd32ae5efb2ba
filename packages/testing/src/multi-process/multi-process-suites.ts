import type { TokenStore } from '@letmepost/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  runMultiProcessGrantSiblingsScenario,
  runCrossTenantScenario,
  runMultiProcessLaunchCapScenario,
  runMultiProcessRefreshLockHolderScenario,
  runMultiProcessRefreshScenario,
} from './letmepost-scenarios.js';
import { runMultiProcessCasScenario, runMultiProcessLimitScenario, runMultiProcessLockScenario } from './store-scenarios.js';
import type { StoreModuleReference } from './store-module.js';

export interface MultiProcessSuiteOptions {
  /** Suite title, e.g. `postgres`. */
  name: string;
  /**
   * How each of the 4 child processes builds the store, e.g. from the package's built entry
   * point exactly as a host would. Every process must reach the same data.
   */
  store: StoreModuleReference;
  /** Runs once after the suite (drop the schema, delete the keys). */
  cleanup?: () => Promise<void> | void;
}

/** Each scenario forks processes and may wait out leases. */
const SCENARIO_TIMEOUT_MS = 120_000;

/**
 * Registers the store checks across 4 real Node processes that share nothing but the store:
 * compare-and-set, lock exclusivity with fencing order, and increment limits.
 * `readStore` is a handle in this process, used to read the final state; the suite closes it.
 */
export function runMultiProcessStoreSuite(options: MultiProcessSuiteOptions & { readStore: TokenStore }): void {
  const { store, readStore } = options;
  describe(`${options.name} store shared by 4 processes`, () => {
    afterAll(async () => {
      await readStore.close?.();
      await options.cleanup?.();
    });

    it('100 concurrent compare-and-set increments (25 per process) land exactly once each', async () => {
      const { conflicts } = await runMultiProcessCasScenario({ ...store, processes: 4, operationsPerProcess: 25, readStore });
      // The run is only meaningful if the writers really collided.
      expect(conflicts).toBeGreaterThan(0);
    }, SCENARIO_TIMEOUT_MS);

    it('lock sections never overlap across processes and fencing tokens follow the grant order', async () => {
      expect((await runMultiProcessLockScenario({ ...store, processes: 4, operationsPerProcess: 25 })).sections).toBe(100);
    }, SCENARIO_TIMEOUT_MS);

    it('an increment limit holds across processes', async () => {
      expect((await runMultiProcessLimitScenario({ ...store, processes: 4, operationsPerProcess: 25, limit: 37 })).accepted).toBe(37);
    }, SCENARIO_TIMEOUT_MS);
  });
}

/**
 * Registers `createLetmepost` checks across 4 real Node processes sharing the store, against a
 * loopback OAuth platform that rotates refresh tokens: exactly one refresh for 100 concurrent
 * publishes on an expired account, a launch cap that holds across processes, and a refresh lock
 * holder that dies or stalls mid-refresh. The last two wait out core's 30 s account lease.
 */
export function runMultiProcessLetmepostSuite(options: MultiProcessSuiteOptions): void {
  const { store } = options;
  describe(`letmepost on the ${options.name} store, across 4 processes`, () => {
    if (options.cleanup) afterAll(options.cleanup);

    it('100 concurrent publishes on an expired account make exactly one refresh, and all succeed', async () => {
      const report = await runMultiProcessRefreshScenario({ ...store, processes: 4, publishesPerProcess: 25 });
      expect(report.stats.refreshRequests).toBe(1);
    }, SCENARIO_TIMEOUT_MS);

    it('4 processes publishing to different accounts of one expired rotating grant make exactly one refresh', async () => {
      const report = await runMultiProcessGrantSiblingsScenario({ ...store, processes: 4, publishesPerProcess: 10 });
      expect(report.stats.refreshRequests).toBe(1);
    }, SCENARIO_TIMEOUT_MS);

    it('a connected account answers only to its own workspace (no publish without one, none across tenants)', async () => {
      const report = await runCrossTenantScenario({ ...store });
      expect(report.stats.publishesAccepted).toBe(1);
    }, SCENARIO_TIMEOUT_MS);

    it('processes publishing to one X account together never pass its launch cap', async () => {
      const report = await runMultiProcessLaunchCapScenario({ ...store, processes: 4, publishesPerProcess: 25, limit: 30 });
      expect(report.stats.publishesAccepted).toBe(30);
    }, SCENARIO_TIMEOUT_MS);

    // Each waits out the 30 s account lease of core, so they run side by side.
    describe.concurrent('a refresh lock holder that dies mid-refresh', () => {
      it('killed: the others take over after the lease and one of them refreshes', async () => {
        const report = await runMultiProcessRefreshLockHolderScenario({ ...store, holder: 'killed', processes: 4, publishesPerProcess: 25 });
        expect(report.takeoverAfterMs).toBeGreaterThan(20_000);
      }, SCENARIO_TIMEOUT_MS);

      it('stalled past its lease: its late fenced write is rejected and the account stays active', async () => {
        const report = await runMultiProcessRefreshLockHolderScenario({ ...store, holder: 'stalled', processes: 4, publishesPerProcess: 25 });
        expect(report.takeoverAfterMs).toBeGreaterThan(20_000);
      }, SCENARIO_TIMEOUT_MS);
    });
  });
}
