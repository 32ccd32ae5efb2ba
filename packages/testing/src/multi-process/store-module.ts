import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TokenStore } from '@letmepost/core';

/**
 * How a child process builds the store under test. Functions and live connections cannot cross a
 * process boundary, so each process imports the store's module itself and calls its factory with
 * JSON-serialisable options.
 */
export interface StoreModuleReference {
  /**
   * An ES module URL or absolute path, importable from any process; from a test file, e.g.
   * `import.meta.resolve('@letmepost/store-postgres')` or `new URL('../dist/index.js', import.meta.url).href`.
   */
  storeModule: string;
  /** Name of the factory the module exports, e.g. `postgresTokenStore`. */
  storeFactory: string;
  /**
   * Passed to the factory in every process: the same database and the same isolation prefix,
   * so all processes share one store. Must survive structured cloning.
   */
  storeOptions: Record<string, unknown>;
}

export async function loadStore({ storeModule, storeFactory, storeOptions }: StoreModuleReference): Promise<TokenStore> {
  const specifier = isAbsolute(storeModule) ? pathToFileURL(storeModule).href : storeModule;
  const module = (await import(specifier)) as Record<string, unknown>;
  const factory = module[storeFactory];
  if (typeof factory !== 'function') {
    throw new Error(`${storeModule} does not export a function named ${storeFactory}.`);
  }
  return (await (factory as (options: Record<string, unknown>) => TokenStore | Promise<TokenStore>)(storeOptions)) as TokenStore;
}
