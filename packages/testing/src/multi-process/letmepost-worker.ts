import { createLetmepost, type LogLevel, type PlatformId } from '@letmepost/core';
import { serveWorker } from './child-processes.js';
import { createLoopbackProvider, type LoopbackProviderSettings } from './loopback-provider.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

/** One process of a letmepost scenario: its own store handle, its own `createLetmepost`. */
export interface LetmepostWorkerConfig extends StoreModuleReference {
  provider: LoopbackProviderSettings;
  /** The master key, base64; the same in every process, or nothing could be decrypted. */
  encryptionKey: string;
  baseUrl: string;
  workspaceId: string;
  accountId: string;
  /** When given, process `n` publishes to `accountIds[n % length]` instead of `accountId`. */
  accountIds?: string[];
  /** Publishes this process starts at once. */
  publishes: number;
  launchCaps?: Partial<Record<PlatformId, { limit: number; windowMs?: number } | false>>;
}

export interface WorkerPublishOutcome {
  status: string;
  code?: string;
  postId?: string;
}

export interface WorkerLogLine {
  level: LogLevel;
  message: string;
  fields?: Record<string, unknown>;
}

export interface LetmepostWorkerResult {
  pid: number;
  results: WorkerPublishOutcome[];
  /** Everything core logged in this process (fields already redacted by core). */
  logs: WorkerLogLine[];
}

const logs: WorkerLogLine[] = [];

serveWorker<LetmepostWorkerConfig, { publish: ReturnType<typeof createLetmepost>['publish']; close: () => Promise<void> }, LetmepostWorkerResult>({
  prepare: async (config) => {
    const store = await loadStore(config);
    await store.get(`warm-up/${config.workspaceId}`);
    const letmepost = createLetmepost({
      providers: [createLoopbackProvider(config.provider)],
      store,
      encryptionKey: config.encryptionKey,
      baseUrl: config.baseUrl,
      logger: { log: (level, message, fields) => void logs.push({ level, message, ...(fields === undefined ? {} : { fields }) }) },
      ...(config.launchCaps === undefined ? {} : { launchCaps: config.launchCaps }),
    });
    return { publish: letmepost.publish, close: async () => store.close?.() };
  },
  work: async ({ publish, close }, config, index) => {
    const accountId = config.accountIds === undefined ? config.accountId : (config.accountIds[index % config.accountIds.length] ?? config.accountId);
    const results = await Promise.all(
      Array.from({ length: config.publishes }, async (_, publishIndex): Promise<WorkerPublishOutcome> => {
        const [result] = await publish({
          workspaceId: config.workspaceId,
          post: { text: `process ${index}, post ${publishIndex}` },
          targets: [{ accountId }],
        });
        if (result === undefined) return { status: 'missing' };
        return {
          status: result.status,
          ...(result.error === undefined ? {} : { code: result.error.code }),
          ...(result.postId === undefined ? {} : { postId: result.postId }),
        };
      }),
    );
    await close();
    return { pid: process.pid, results, logs };
  },
});
