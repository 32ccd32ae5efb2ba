import { createLetmepost, type AnyProvider } from '@letmepost/core';
import { serveWorker } from './child-processes.js';
import { loadModuleExport, type NeverTwiceWorkerConfig } from './never-twice-scenario.js';
import { loadStore } from './store-module.js';

/**
 * The process that gets killed: it builds the store, the provider and `createLetmepost` itself
 * (nothing live crosses a process boundary) and publishes once with the idempotency key. It is
 * expected never to report: the parent SIGKILLs it right after the platform answered the create.
 */
serveWorker<NeverTwiceWorkerConfig, { publish: ReturnType<typeof createLetmepost>['publish'] }, { results: unknown[] }>({
  prepare: async (config) => {
    const store = await loadStore(config.store);
    const factory = await loadModuleExport<(settings: Record<string, unknown>) => AnyProvider>(config.provider);
    const letmepost = createLetmepost({
      providers: [factory(config.provider.settings)],
      store,
      encryptionKey: config.encryptionKey,
      baseUrl: config.baseUrl,
    });
    return { publish: letmepost.publish };
  },
  work: async ({ publish }, config) => {
    const results = await publish(config.publish);
    return { results };
  },
});
