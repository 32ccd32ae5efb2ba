import type { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Ambient facts about the publish in progress, read by the HTTP layer of provider-utils. It is
 * how `dryRun` is enforced at the HTTP boundary: whatever a provider does, no request that could
 * write leaves the process while a dry run is active. Core sets it for dry runs (and for a
 * publish started inside another publish's context, so a dry run does not carry over); an
 * ordinary publish runs without one.
 */
export interface PublishContext {
  dryRun: boolean;
  workspaceId?: string;
  requestId?: string;
}

// Made by the first publish that sets a context (`node:async_hooks` is not needed before): until
// then no context can be active, which is what `getPublishContext` answers.
let storage: AsyncLocalStorage<PublishContext> | undefined;

export function runWithPublishContext<T>(context: PublishContext, fn: () => T): T {
  storage ??= new (process.getBuiltinModule('node:async_hooks').AsyncLocalStorage)<PublishContext>();
  return storage.run(context, fn);
}

export function getPublishContext(): PublishContext | undefined {
  return storage?.getStore();
}

/**
 * Marks a call core makes to a provider method with input core has just parsed itself (a
 * publish's post, per-request credentials and target options), so the provider's boundary
 * (provider-utils' `defineProvider`) need not parse them again, while a direct caller's input
 * always is. The mark is a property under a symbol private to this module, set on the options
 * object core builds for the call: a caller of the provider cannot make one.
 */
const CHECKED_BY_CORE = Symbol('letmepost.checkedByCore');

export function markCheckedByCore<T extends object>(callOptions: T): T {
  (callOptions as Record<symbol, unknown>)[CHECKED_BY_CORE] = true;
  return callOptions;
}

/** Whether a provider method's options come from core with input it parsed (`markCheckedByCore`). */
export function isCheckedByCore(callOptions: unknown): boolean {
  return typeof callOptions === 'object' && callOptions !== null && (callOptions as Record<symbol, unknown>)[CHECKED_BY_CORE] === true;
}
