import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNeverTwiceScenario } from '@letmepost/testing';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * A platform whose create endpoint (`POST /publish`, the loopback provider's) answers once per
 * request and tells the test in the same tick as it writes an answer, so the publishing process can be
 * killed before it records the outcome.
 */
async function startCreatePlatform() {
  let creates = 0;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/publish') {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
        return;
      }
      creates += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `post-${creates}` }));
      // Released in the same tick the answer is written, so the kill lands before the publishing
      // process can read it and record the outcome (on 'finish' it sometimes finished first).
      for (const waiter of waiters.splice(0)) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    creates: () => creates,
    nextCreateAnswered: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One scenario on a fresh SQLite file and platform; `retryIdempotencyKey` makes it the control run. */
async function runOnSqlite({ cleanups, retryIdempotencyKey }: { cleanups: Array<() => Promise<void> | void>; retryIdempotencyKey?: string }) {
  const platform = await startCreatePlatform();
  const path = join(tmpdir(), `letmepost-never-twice-${process.pid}-${Date.now()}-${cleanups.length}.db`);
  cleanups.push(platform.close, () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  });
  return runNeverTwiceScenario({
    // Loaded from source in the child too (Node strips the types), so no build is needed first.
    store: {
      storeModule: fileURLToPath(new URL('./sqlite-token-store.ts', import.meta.url)),
      storeFactory: 'sqliteTokenStore',
      storeOptions: { path, busyTimeoutMs: 10_000 },
    },
    provider: {
      module: import.meta.resolve('@letmepost/testing'),
      export: 'createLoopbackProvider',
      settings: { id: 'linkedin', baseUrl: platform.url, clientId: 'loopback-client', clientSecret: 'canary-never-twice-secret' },
    },
    createAnswered: platform.nextCreateAnswered,
    createCount: platform.creates,
    publish: {
      workspaceId: 'ws-1',
      post: { text: 'exactly once' },
      targets: [{ platform: 'linkedin', credentials: { accessToken: 'per-request-token' } }],
      idempotencyKey: 'job-42',
    },
    ...(retryIdempotencyKey !== undefined && { retryIdempotencyKey }),
  });
}

describe('never twice: a publishing process SIGKILLed right after the platform answered the create', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('the retry with the same idempotency key on the same SQLite file makes no second create', async () => {
    const report = await runOnSqlite({ cleanups });

    expect(report.killedBy).toBe('SIGKILL');
    expect(report.createsBeforeKill).toBe(1);
    expect(report.createsDuringRetry).toBe(0);
    expect(report.retryResults).toHaveLength(1);
    const [result] = report.retryResults;
    // Either the killed process got to record its outcome, or the claim it left is answered as
    // `unknown`: never a second post.
    if (result?.status === 'published') expect(result.postId).toBe('post-1');
    else expect(result).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
  });

  it('control: a retry under another key is a second create, and the harness sees it', async () => {
    // Proves the scenario can observe a duplicate, so the zero above means something.
    const report = await runOnSqlite({ cleanups, retryIdempotencyKey: 'a-different-key' });
    expect(report.createsBeforeKill).toBe(1);
    expect(report.createsDuringRetry).toBe(1);
  });
});
