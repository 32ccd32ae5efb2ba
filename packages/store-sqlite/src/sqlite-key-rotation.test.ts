import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKeyRotationScenario } from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';

const path = join(tmpdir(), `letmepost-sqlite-key-rotation-${process.pid}-${Date.now()}.db`);

afterAll(() => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
});

/**
 * One database file shared by the test process and two rotation processes, each opening it
 * through the package's built entry point exactly as a host would.
 */
describe('rotateEncryptionKey on the sqlite store, across processes', () => {
  it('10 000 records, SIGKILLed mid-rotation and resumed in another process, all open under the new key alone', async () => {
    const report = await runKeyRotationScenario({
      storeModule: new URL('../dist/index.js', import.meta.url).href,
      storeFactory: 'sqliteTokenStore',
      storeOptions: { path, busyTimeoutMs: 10_000 },
      records: 10_000,
    });
    console.info(`sqlite key rotation: ${JSON.stringify(report)}`);
    expect(report.interrupted.recordsUnderOldKey).toBeGreaterThan(0);
    expect(report.interrupted.lastProgress.rewrapped + report.resumed.rewrapped + report.resumed.alreadyCurrent).toBe(10_000);
    expect(report.confirmation).toMatchObject({ rewrapped: 0, alreadyCurrent: 10_000 });
  }, 120_000);
});
