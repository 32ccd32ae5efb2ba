import { runKeyRotationScenario } from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, deletePrefix, keysUnder, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';

await requireRedis();

/**
 * The test process and two rotation processes share one key prefix, each building the store
 * from the package's built entry point exactly as a host would.
 */
describe('rotateEncryptionKey on the redis store, across processes', () => {
  const keyPrefix = uniquePrefix('key-rotation');
  afterAll(async () => {
    await deletePrefix(keyPrefix);
    expect(await keysUnder(keyPrefix)).toEqual([]);
  });

  it('10 000 records, SIGKILLed mid-rotation and resumed in another process, all open under the new key alone', async () => {
    const report = await runKeyRotationScenario({
      storeModule: new URL('../dist/index.js', import.meta.url).href,
      storeFactory: 'redisTokenStore',
      storeOptions: { url: REDIS_URL, keyPrefix },
      records: 10_000,
      // Rotation rewrites every record twice over (interrupted, then resumed); on a busy 2-core
      // machine that has taken close to two minutes, so the bound leaves room for it.
      timeoutMs: 280_000,
    });
    console.info(`redis key rotation: ${JSON.stringify(report)}`);
    expect(report.interrupted.recordsUnderOldKey).toBeGreaterThan(0);
    expect(report.interrupted.lastProgress.rewrapped + report.resumed.rewrapped + report.resumed.alreadyCurrent).toBe(10_000);
    expect(report.confirmation).toMatchObject({ rewrapped: 0, alreadyCurrent: 10_000 });
  }, 300_000);
});
