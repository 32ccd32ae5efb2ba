export * from './account.js';
export * from './clock.js';
export * from './error-code.js';
export * from './letmepost-error.js';
export * from './logger.js';
export * from './platform-id.js';
export * from './post.js';
export * from './provider.js';
export * from './publish-result.js';
export * from './redact.js';
export * from './token-store.js';
export * from './envelope-encryption.js';
export * from './memory-token-store.js';
// Store-author helpers and the publish-context plumbing are in `@letmepost/core/internal`;
// the lock-retry option type stays here because hosts configure stores with it.
export type { LockRetryOptions } from './token-store-support.js';
export { createLetmepost, type CreateLetmepostOptions, type Letmepost } from './create-letmepost.js';
export type {
  ConnectApi,
  ConnectCandidate,
  ConnectCompletion,
  ConnectSelection,
  ConnectStartResult,
  SkippedAccount,
} from './connect.js';
export type { AccountsApi } from './accounts.js';
export type { RefreshDueGrant, RefreshDueOptions, RefreshDueReport } from './refresh-due.js';
export type { AccountTarget, AccountTargetPage, AccountTargetsApi } from './account-targets.js';
export type { AppCredentialsApi, AppCredentialsSummary } from './app-credentials.js';
export type { PublishOptions, PublishProgressEvent, PublishTarget } from './publish.js';
export type { ResumeOptions } from './resume.js';
export type { MediaStaging, StagedMediaInput } from './media-staging.js';
export type { AppCredentialsPolicyRequest, LaunchCap, LetmepostPolicy } from './letmepost-context.js';
export { DEFAULT_LAUNCH_CAPS } from './launch-cap.js';
export { redirectUriFor, redirectUris, type RedirectUri } from './redirect-uris.js';
export { INVALID_CLIENT_RULE } from './registered-clients.js';
export { loadConfigFromEnv, type LetmepostEnvConfig, type PlatformEnvSettings } from './load-config-from-env.js';
