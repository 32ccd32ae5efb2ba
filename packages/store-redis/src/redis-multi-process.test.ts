import {
  runMultiProcessCasScenario,
  runMultiProcessLimitScenario,
  runMultiProcessLockScenario,
  type StoreModuleReference,
} from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, deletePrefix, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';
import { redisTokenStore } from './redis-token-store.js';

await requireRedis();

/**
 * Four real Node processes share one store, each building it from the package's built entry
 * point exactly as a host would. Nothing is shared between them except Redis.
 */
describe('redis store shared by 4 processes', () => {
  const keyPrefix = uniquePrefix('multi-process');
  const store: StoreModuleReference = {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'redisTokenStore',
    storeOptions: { url: REDIS_URL, keyPrefix },
  };
  const reader = redisTokenStore({ url: REDIS_URL, keyPrefix });
  afterAll(async () => {
    await reader.close();
    await deletePrefix(keyPrefix);
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
