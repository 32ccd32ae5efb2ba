import { setTimeout as sleep } from 'node:timers/promises';
import { LetmepostError, type TokenStore } from '@letmepost/core';
import { serveWorker } from './child-processes.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

/** What one worker process is asked to do against the shared store. */
export interface StoreWorkerConfig extends StoreModuleReference {
  scenario: 'cas' | 'lock' | 'limit';
  /** Shared by every process of one run; all keys live under it. */
  runKey: string;
  operations: number;
  limit?: number;
}

export interface LockSection {
  token: number;
  /** Wall-clock ms with sub-ms precision, comparable across processes on one host. */
  enteredAt: number;
  leftAt: number;
}

export interface StoreWorkerResult {
  pid: number;
  /** `cas`: conflicts met before each increment landed. */
  conflicts: number;
  /** `lock`: every critical section this process ran. */
  sections: LockSection[];
  /** `lock`: another holder's marker was seen inside a section. */
  violations: string[];
  /** `limit`: the result of every increment. */
  increments: Array<{ count: number; accepted: boolean }>;
}

const wallClock = (): number => performance.timeOrigin + performance.now();

async function casIncrement(store: TokenStore, key: string, result: StoreWorkerResult): Promise<void> {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const current = await store.get(key);
    const next = String((current === null ? 0 : Number(current.value)) + 1);
    try {
      await store.set(key, next, { expectedVersion: current === null ? null : current.version });
      return;
    } catch (error) {
      if (!(LetmepostError.isInstance(error) && error.code === 'store_conflict')) throw error;
      result.conflicts++;
      // A little jitter so 100 writers do not keep colliding in the same rhythm.
      await sleep(Math.random() * 3);
    }
  }
  throw new Error('A CAS increment did not land in 10 000 attempts.');
}

async function lockedSection(store: TokenStore, runKey: string, owner: string, result: StoreWorkerResult): Promise<void> {
  const markerKey = `${runKey}:marker`;
  await store.withLock(
    `${runKey}:lock`,
    async (lease) => {
      const enteredAt = wallClock();
      const before = await store.get(markerKey);
      if (before !== null && before.value !== 'free') result.violations.push(`entered while ${before.value} was inside`);
      await store.set(markerKey, owner, { fence: lease });
      await sleep(1 + Math.random() * 2);
      const during = await store.get(markerKey);
      if (during?.value !== owner) result.violations.push(`marker changed to ${during?.value} during ${owner}'s section`);
      await store.set(markerKey, 'free', { fence: lease });
      result.sections.push({ token: lease.token, enteredAt, leftAt: wallClock() });
    },
    { ttlMs: 30_000, waitMs: 120_000 },
  );
}

serveWorker<StoreWorkerConfig, TokenStore, StoreWorkerResult>({
  prepare: async (config) => {
    const store = await loadStore(config);
    // Opens the connection (and runs migrations) before the start signal, so the timed part is
    // only the contended work.
    await store.get(`${config.runKey}:warm-up`);
    return store;
  },
  work: async (store, config, index) => {
    const result: StoreWorkerResult = { pid: process.pid, conflicts: 0, sections: [], violations: [], increments: [] };
    const jobs = Array.from({ length: config.operations }, (_, operation) => {
      switch (config.scenario) {
        case 'cas':
          return casIncrement(store, `${config.runKey}:counter`, result);
        case 'lock':
          return lockedSection(store, config.runKey, `process-${index}-op-${operation}`, result);
        case 'limit':
          return store
            .increment(`${config.runKey}:capped`, { windowMs: 600_000, limit: config.limit ?? 1 })
            .then((outcome) => void result.increments.push(outcome));
      }
    });
    await Promise.all(jobs);
    await store.close?.();
    return result;
  },
});
