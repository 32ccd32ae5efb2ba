import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGrantStoreFaultSuite } from '@letmepost/testing';
import { sqliteTokenStore } from './sqlite-token-store.js';

// Issue 11 #3 and #4 on SQLite: rotated tokens survive a store that fails mid-refresh, and a
// replayed older grant record is refused. SQLite has no connection to kill; its faults are
// injected writes that fail.
const directory = mkdtempSync(join(tmpdir(), 'letmepost-sqlite-grant-faults-'));
let opened = 0;
runGrantStoreFaultSuite({
  name: 'sqlite',
  openStore: () => sqliteTokenStore({ path: join(directory, `faults-${opened++}.sqlite`) }),
  cleanup: () => rmSync(directory, { recursive: true, force: true }),
});
