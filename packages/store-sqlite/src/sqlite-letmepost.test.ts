import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMultiProcessLetmepostSuite } from '@letmepost/testing';

// The cross-process refresh and launch-cap guarantees of `createLetmepost`, with 4 processes
// sharing one SQLite file: exactly one refresh for 4 × 25 publishes on an expired account, a
// lock holder killed or stalled mid-refresh, and a launch cap that holds across processes.
const directory = mkdtempSync(join(tmpdir(), 'letmepost-sqlite-letmepost-'));
runMultiProcessLetmepostSuite({
  name: 'sqlite',
  store: {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'sqliteTokenStore',
    storeOptions: { path: join(directory, 'letmepost.sqlite'), busyTimeoutMs: 10_000 },
  },
  cleanup: () => rmSync(directory, { recursive: true, force: true }),
});
