/**
 * `@letmepost/core/internal`: plumbing for the authors of providers, token stores and the
 * packages of this repository, not for hosts. Versioned with core; its names may change in a
 * minor release, which the changelog says.
 *
 * - Token-store support: the argument checks, lock-lease loop and store errors every
 *   `TokenStore` shares.
 * - Publish context: the ambient facts of the publish in progress (`dryRun`) that the HTTP layer
 *   of provider-utils enforces.
 * - Validation: the capability checker behind provider-utils' `checkCapabilities`, core's
 *   preflight (`validatePost`), and the text measures they count with.
 * - `isCheckedByCore`: whether a provider method's call comes from core with input it parsed.
 * - `isPlainObject`: an object literal (or `Object.create(null)`), as zod's objects and JSON's are.
 * - `nodeCrypto()`: `node:crypto`, loaded on first use rather than on import; `sleep()` likewise
 *   for `node:timers/promises`.
 * - `lazySchema`: a schema built on first use, not on import (every internal schema is one).
 * - `createBoundedCache`: a size-bounded map for values that are pure functions of their key;
 *   `deepFreeze` for what such a cache (or any memo shared between calls) hands out.
 */
export * from './token-store-support.js';
export { nodeCrypto } from './node-crypto.js';
export { sleep } from './sleep.js';
export { lazySchema } from './lazy-schema.js';
export { createBoundedCache, deepFreeze, type BoundedCache } from './bounded-cache.js';
export { runWithPublishContext, getPublishContext, isCheckedByCore, type PublishContext } from './publish-context.js';
export {
  CAPABILITY_RULES,
  capabilityRuleId,
  checkCapabilities,
  knownMediaSize,
  validatePost,
  type CapabilityRule,
} from './check-capabilities.js';
export { countCodePoints, countGraphemes, graphemeSegmenter, measureText, utf8ByteLength } from './text-measure.js';
export { isPlainObject } from './publish-input.js';
