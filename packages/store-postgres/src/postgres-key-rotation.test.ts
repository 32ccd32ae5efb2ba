import { runKeyRotationScenario } from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';

await requireDatabase();

/**
 * The test process and two rotation processes share one schema, each building the store from
 * the package's built entry point exactly as a host would.
 */
describe('rotateEncryptionKey on the postgres store, across processes', () => {
  const schema = uniqueSchema('key_rotation');
  afterAll(() => dropSchema(schema));

  it('10 000 records, SIGKILLed mid-rotation and resumed in another process, all open under the new key alone', async () => {
    const report = await runKeyRotationScenario({
      storeModule: new URL('../dist/index.js', import.meta.url).href,
      storeFactory: 'postgresTokenStore',
      storeOptions: { connectionString: DATABASE_URL, schema, poolConfig: { max: 20 } },
      records: 10_000,
      // Rotation rewrites every record twice over (interrupted, then resumed); on a busy 2-core
      // machine that has taken close to two minutes, so the bound leaves room for it.
      timeoutMs: 280_000,
    });
    console.info(`postgres key rotation: ${JSON.stringify(report)}`);
    expect(report.interrupted.recordsUnderOldKey).toBeGreaterThan(0);
    expect(report.interrupted.lastProgress.rewrapped + report.resumed.rewrapped + report.resumed.alreadyCurrent).toBe(10_000);
    expect(report.confirmation).toMatchObject({ rewrapped: 0, alreadyCurrent: 10_000 });
  }, 300_000);
});
