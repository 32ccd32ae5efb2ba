import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Ambient facts about the publish in progress, read by the HTTP layer of provider-utils. It is
 * how `dryRun` is enforced at the HTTP boundary: whatever a provider does, no request that could
 * write leaves the process while a dry run is active.
 */
export interface PublishContext {
  dryRun: boolean;
  workspaceId?: string;
  requestId?: string;
}

const storage = new AsyncLocalStorage<PublishContext>();

export function runWithPublishContext<T>(context: PublishContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function getPublishContext(): PublishContext | undefined {
  return storage.getStore();
}
