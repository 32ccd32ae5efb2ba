import { randomUUID } from 'node:crypto';
import type { TokenStore } from '@letmepost/core';
import { expect } from 'vitest';
import { runWorkers } from './child-processes.js';
import type { StoreModuleReference } from './store-module.js';
import type { StoreWorkerConfig, StoreWorkerResult } from './store-worker.js';

export interface MultiProcessStoreOptions extends StoreModuleReference {
  /** Default 4. */
  processes?: number;
  /** Concurrent operations in each process. Default 25. */
  operationsPerProcess?: number;
  /** Default 120 000 ms for the whole scenario. */
  timeoutMs?: number;
}

const workerUrl = (): URL => new URL('./store-worker.js', import.meta.url);

async function runStoreWorkers(
  options: MultiProcessStoreOptions,
  scenario: StoreWorkerConfig['scenario'],
  extra: Partial<StoreWorkerConfig> = {},
): Promise<{ runKey: string; results: StoreWorkerResult[] }> {
  const runKey = `multi-process:${randomUUID()}`;
  const results = await runWorkers<StoreWorkerConfig, StoreWorkerResult>({
    workerUrl: workerUrl(),
    count: options.processes ?? 4,
    timeoutMs: options.timeoutMs ?? 120_000,
    config: () => ({
      storeModule: options.storeModule,
      storeFactory: options.storeFactory,
      storeOptions: options.storeOptions,
      scenario,
      runKey,
      operations: options.operationsPerProcess ?? 25,
      ...extra,
    }),
  });
  return { runKey, results };
}

/**
 * Every process runs `operationsPerProcess` concurrent read-modify-write increments of one
 * counter through `get` + `set({ expectedVersion })`, retrying on `store_conflict`. A store whose
 * compare-and-set is not atomic across processes loses updates and ends below the total.
 * Pass `readStore` to check the final entry from the parent.
 */
export async function runMultiProcessCasScenario(
  options: MultiProcessStoreOptions & { readStore: TokenStore },
): Promise<{ conflicts: number }> {
  const { runKey, results } = await runStoreWorkers(options, 'cas');
  const total = (options.processes ?? 4) * (options.operationsPerProcess ?? 25);
  const entry = await options.readStore.get(`${runKey}:counter`);
  expect(entry?.value, 'every compare-and-set increment from every process landed exactly once').toBe(String(total));
  expect(entry?.version).toBe(total);
  return { conflicts: results.reduce((sum, result) => sum + result.conflicts, 0) };
}

/**
 * Every process runs `operationsPerProcess` concurrent `withLock` sections on one key. Inside,
 * a section checks a marker entry nobody else may touch (written with the lease's fence) and
 * records when it entered and left. Asserts that no two sections overlapped in time, that no
 * section saw another's marker, and that fencing tokens grow in the order the lock was granted.
 */
export async function runMultiProcessLockScenario(options: MultiProcessStoreOptions): Promise<{ sections: number }> {
  const { results } = await runStoreWorkers(options, 'lock');
  const total = (options.processes ?? 4) * (options.operationsPerProcess ?? 25);
  const violations = results.flatMap((result) => result.violations);
  expect(violations, 'a section saw another holder inside the lock').toEqual([]);

  const sections = results.flatMap((result) => result.sections).sort((left, right) => left.enteredAt - right.enteredAt);
  expect(sections).toHaveLength(total);
  for (let index = 1; index < sections.length; index++) {
    const previous = sections[index - 1]!;
    const current = sections[index]!;
    expect(current.enteredAt, `section ${index} entered before section ${index - 1} left`).toBeGreaterThanOrEqual(previous.leftAt);
    expect(current.token, 'fencing tokens grow in the order the lock was granted').toBeGreaterThan(previous.token);
  }
  return { sections: sections.length };
}

/**
 * Every process fires `operationsPerProcess` concurrent increments of one rolling counter with a
 * `limit` below the total. Asserts that exactly `limit` were accepted overall and no answer ever
 * reported a count above the limit.
 */
export async function runMultiProcessLimitScenario(options: MultiProcessStoreOptions & { limit?: number }): Promise<{ accepted: number }> {
  const total = (options.processes ?? 4) * (options.operationsPerProcess ?? 25);
  const limit = options.limit ?? Math.floor(total / 2);
  const { results } = await runStoreWorkers(options, 'limit', { limit });
  const increments = results.flatMap((result) => result.increments);
  expect(increments).toHaveLength(total);
  const accepted = increments.filter((increment) => increment.accepted);
  expect(accepted, 'exactly `limit` increments are accepted across all processes').toHaveLength(limit);
  for (const increment of increments) expect(increment.count).toBeLessThanOrEqual(limit);
  return { accepted: accepted.length };
}
