import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runTokenStoreConformance } from '@letmepost/testing';
import { sqliteTokenStore } from './sqlite-token-store.js';

const path = join(tmpdir(), `letmepost-sqlite-conformance-${process.pid}-${Date.now()}.db`);
const manualPath = join(tmpdir(), `letmepost-sqlite-conformance-manual-${process.pid}-${Date.now()}.db`);

const removeDatabase = (file: string) => () => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
};

/** Reads the table directly, with a separate connection, bypassing the store's code. */
function readRaw(file: string) {
  return (key: string): string | null => {
    const database = new DatabaseSync(file, { readOnly: true });
    try {
      const row = database.prepare('SELECT value FROM letmepost_entries WHERE key = ?').get(key) as { value: string } | undefined;
      return row?.value ?? null;
    } finally {
      database.close();
    }
  };
}

runTokenStoreConformance({
  name: 'sqlite (real clock)',
  createStore: () => sqliteTokenStore({ path }),
  readRaw: readRaw(path),
  cleanup: removeDatabase(path),
});

let now = Date.UTC(2025, 0, 1);
const clock = { now: () => now, advance: (ms: number) => void (now += ms) };

runTokenStoreConformance({
  name: 'sqlite (manual clock)',
  createStore: () => sqliteTokenStore({ path: manualPath, clock }),
  readRaw: readRaw(manualPath),
  clock,
  timeUnitMs: 50,
  cleanup: removeDatabase(manualPath),
});
