import {
  parseEncryptionKey,
  rotateEncryptionKey,
  type EncryptionKeyInput,
  type Keyring,
  type RotateEncryptionKeyProgress,
  type RotateEncryptionKeyResult,
  type TokenStore,
} from '@letmepost/core';
import { serveWorker } from './child-processes.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

/** One `rotateEncryptionKey` run in its own process, as a host's maintenance job would run it. */
export interface KeyRotationWorkerConfig extends StoreModuleReference {
  /** The new key as `current`, the old one in `previous`; plain JSON so it crosses the process boundary. */
  encryptionKey: Exclude<EncryptionKeyInput, string>;
  batchSize: number;
  /** Resume after this key, the `lastKey` of the interrupted run's last progress report. */
  after?: string;
}

export interface KeyRotationWorkerResult {
  pid: number;
  result: RotateEncryptionKeyResult;
  /** The rotation alone, without process start and store connection. */
  elapsedMs: number;
}

/** Sent to the parent after every page, so it can pick the moment to kill this process. */
export interface KeyRotationProgressMessage {
  type: 'progress';
  progress: RotateEncryptionKeyProgress;
  elapsedMs: number;
}

serveWorker<KeyRotationWorkerConfig, { store: TokenStore; keyring: Keyring }, KeyRotationWorkerResult>({
  prepare: async (config) => {
    const store = await loadStore(config);
    // Opens the connection (and runs migrations) before the start barrier, not inside the timing.
    await store.get('key-rotation/warm-up');
    return { store, keyring: parseEncryptionKey(config.encryptionKey) };
  },
  work: async ({ store, keyring }, config) => {
    const startedAt = performance.now();
    const result = await rotateEncryptionKey({
      store,
      keyring,
      batchSize: config.batchSize,
      ...(config.after === undefined ? {} : { after: config.after }),
      onProgress: (progress) => {
        // Fire and forget: the rotation goes straight on with the next page, so a parent that
        // kills this process on a report catches it in the middle of that page's writes.
        process.send?.({ type: 'progress', progress, elapsedMs: performance.now() - startedAt } satisfies KeyRotationProgressMessage);
      },
    });
    const elapsedMs = performance.now() - startedAt;
    await store.close?.();
    return { pid: process.pid, result, elapsedMs };
  },
});
