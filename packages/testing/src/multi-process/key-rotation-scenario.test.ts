import { fileURLToPath } from 'node:url';
import { LetmepostError } from '@letmepost/core';
import { describe, expect, it } from 'vitest';
import { runKeyRotationScenario, type KeyRotationScenarioOptions } from './key-rotation-scenario.js';

/**
 * The scenario itself runs in each store package against the real store (10 000 records); these
 * are the refusals that happen before any process starts or any record is written.
 */
describe('runKeyRotationScenario input', () => {
  const store = {
    storeModule: fileURLToPath(new URL('../__fixtures__/prefilled-token-store.ts', import.meta.url)),
    storeFactory: 'prefilledTokenStore',
    storeOptions: {},
  };

  async function refusal(options: Partial<KeyRotationScenarioOptions>): Promise<unknown> {
    return runKeyRotationScenario({ ...store, ...options }).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it.each([
    [{ records: 70 }, 'records', 'records must be an integer from 71 to 1000000.'],
    [{ records: 10_000.5 }, 'records', 'records must be an integer from 71 to 1000000.'],
    [{ batchSize: 0 }, 'batchSize', 'batchSize must be an integer from 1 to 10000.'],
    [{ records: 1_000, batchSize: 250, interruptAfter: 501 }, 'interruptAfter', 'interruptAfter must be an integer from 1 to records - 2 × batchSize (500).'],
    [{ interruptAfter: 0 }, 'interruptAfter', 'interruptAfter must be an integer from 1 to records - 2 × batchSize (9500).'],
    [{ timeoutMs: -1 }, 'timeoutMs', 'timeoutMs must be a positive integer.'],
  ])('refuses %o with validation_failed naming %s', async (options, field, message) => {
    const error = await refusal(options);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'validation_failed', field, message });
  });

  it('refuses a store that already holds entries, since the rotation would cover them too', async () => {
    const error = await refusal({});
    expect((error as Error).message).toBe(
      'runKeyRotationScenario needs a store of its own (a fresh file, schema or key prefix): it rotates every entry, and this one already holds some.',
    );
  });
});
