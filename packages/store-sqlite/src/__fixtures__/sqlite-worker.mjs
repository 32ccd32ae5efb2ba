/**
 * Child process of the multi-process test. It imports the store from source (Node strips the
 * types), opens its own handle on the shared file, does its share of the work, and reports back
 * over IPC.
 *
 * @typedef {{ path: string; task: 'cas-increments' | 'lock-sections'; workerId: number; operations: number }} Job
 */
import { sqliteTokenStore } from '../sqlite-token-store.ts';

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

process.once('message', async (/** @type {Job} */ job) => {
  const store = sqliteTokenStore({ path: job.path, busyTimeoutMs: 10_000 });
  try {
    if (job.task === 'cas-increments') {
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: job.operations }, async () => {
          for (let attempt = 0; attempt < 10_000; attempt += 1) {
            const current = await store.get('counter');
            try {
              await store.set('counter', String(Number(current?.value ?? '0') + 1), { expectedVersion: current?.version ?? null });
              return;
            } catch (error) {
              if (/** @type {{ code?: string }} */ (error).code !== 'store_conflict') throw error;
              conflicts += 1;
              await sleep(Math.random() * 3);
            }
          }
          throw new Error('gave up after 10000 conflicts');
        }),
      );
      process.send?.({ ok: true, conflicts });
    } else {
      /** @type {Array<{ workerId: number; token: number; start: number; end: number }>} */
      const sections = [];
      await Promise.all(
        Array.from({ length: job.operations }, (_, index) =>
          store.withLock(
            'critical',
            async (lease) => {
              const start = performance.timeOrigin + performance.now();
              // Prove the fence too: only the current holder may write.
              await store.set(`section:${job.workerId}:${index}`, JSON.stringify({ token: lease.token }), { fence: lease });
              await sleep(2);
              const end = performance.timeOrigin + performance.now();
              sections.push({ workerId: job.workerId, token: lease.token, start, end });
              await store.set(`section:${job.workerId}:${index}`, JSON.stringify({ token: lease.token, start, end }), { fence: lease });
            },
            { ttlMs: 30_000, waitMs: 60_000 },
          ),
        ),
      );
      process.send?.({ ok: true, sections });
    }
  } catch (error) {
    process.send?.({ ok: false, error: String(error?.stack ?? error) });
  } finally {
    await store.close();
  }
});
