import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMultiProcessLimitScenario } from '@letmepost/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteTokenStore } from './sqlite-token-store.js';

const workerPath = fileURLToPath(new URL('./__fixtures__/sqlite-worker.mjs', import.meta.url));
const files: string[] = [];

function databasePath(name: string): string {
  const path = join(tmpdir(), `letmepost-sqlite-${name}-${process.pid}-${Date.now()}.db`);
  files.push(path);
  return path;
}

afterAll(() => {
  for (const file of files) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
});

interface WorkerReply {
  ok: boolean;
  error?: string;
  conflicts?: number;
  sections?: Array<{ workerId: number; token: number; start: number; end: number }>;
}

/** Runs one job in a fresh Node process (the same Node binary as the tests). */
function runWorker(job: { path: string; task: 'cas-increments' | 'lock-sections'; workerId: number; operations: number }): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const child = fork(workerPath, [], { execArgv: ['--no-warnings'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let reply: WorkerReply | undefined;
    const timer = setTimeout(() => child.kill(), 60_000);
    child.once('message', (message) => {
      reply = message as WorkerReply;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (reply) resolve(reply);
      else reject(new Error(`worker ${job.workerId} exited with ${code} without a reply`));
    });
    child.send(job);
  });
}

describe('sqliteTokenStore across processes', () => {
  it('4 processes × 25 concurrent compare-and-set increments of one record add up to exactly 100', async () => {
    const path = databasePath('cas');
    const replies = await Promise.all([0, 1, 2, 3].map((workerId) => runWorker({ path, task: 'cas-increments', workerId, operations: 25 })));
    for (const reply of replies) expect(reply.error).toBeUndefined();
    const store = sqliteTokenStore({ path });
    const counter = await store.get('counter');
    await store.close();
    expect(counter?.value).toBe('100');
    expect(counter?.version).toBe(100);
    // The workers really did contend, so the CAS path was exercised, not just serialised.
    expect(replies.reduce((sum, reply) => sum + (reply.conflicts ?? 0), 0)).toBeGreaterThan(0);
  });

  it('withLock sections in 4 processes never overlap and their fencing tokens follow the grant order', async () => {
    const path = databasePath('lock');
    const replies = await Promise.all([0, 1, 2, 3].map((workerId) => runWorker({ path, task: 'lock-sections', workerId, operations: 8 })));
    for (const reply of replies) expect(reply.error).toBeUndefined();
    const sections = replies.flatMap((reply) => reply.sections ?? []).sort((left, right) => left.start - right.start);
    expect(sections).toHaveLength(32);
    expect(new Set(sections.map((section) => section.workerId)).size).toBe(4);
    for (let index = 1; index < sections.length; index += 1) {
      const previous = sections[index - 1]!;
      const current = sections[index]!;
      expect(current.start, `section ${index} started before section ${index - 1} ended`).toBeGreaterThanOrEqual(previous.end);
      expect(current.token).toBeGreaterThan(previous.token);
    }
    // What the workers wrote through the store agrees with what they reported.
    const store = sqliteTokenStore({ path });
    const stored = (await store.list('section:')).map((entry) => JSON.parse(entry.value) as { token: number; start: number; end: number });
    await store.close();
    expect(stored).toHaveLength(32);
    expect(stored.map((entry) => entry.token).sort((a, b) => a - b)).toEqual(sections.map((section) => section.token));
  });

  it('limited increments from 4 processes accept exactly the limit (shared @letmepost/testing scenario)', async () => {
    const path = databasePath('limit');
    const { accepted } = await runMultiProcessLimitScenario({
      // Loaded from source in each child (Node strips the types), so no build is needed first.
      storeModule: fileURLToPath(new URL('./sqlite-token-store.ts', import.meta.url)),
      storeFactory: 'sqliteTokenStore',
      storeOptions: { path, busyTimeoutMs: 10_000 },
      processes: 4,
      operationsPerProcess: 25,
      limit: 37,
    });
    expect(accepted).toBe(37);
  });
});
