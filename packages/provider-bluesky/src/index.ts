export { createBluesky, type BlueskyProvider, type BlueskyProviderSettings } from './bluesky-provider.js';
export {
  blueskyAccountDataSchema,
  blueskyCredentialsSchema,
  type BlueskyAccountData,
  type BlueskyCredentials,
} from './bluesky-credentials.js';
export { blueskyOptionsSchema, type BlueskyOptions } from './bluesky-options.js';
export { detectFacets, type DetectedFacet } from './bluesky-facets.js';
export { BLUESKY_LIMITS } from './bluesky-validate.js';
export type { ResolveTxt } from './bluesky-identity.js';
export type { SessionCacheSettings } from './bluesky-session.js';
