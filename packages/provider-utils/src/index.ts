/**
 * @letmepost/provider-utils — what every provider shares.
 *
 * The shared layer under every provider, with these refinements over the first API sketch:
 * - `HttpRequestOptions` also takes per-request `timeouts` and `maxResponseBytes`;
 *   `HttpErrorResponse.request` also carries the `retry` mode; `HttpClientSettings.headers`.
 * - `HttpRetrySettings` adds injectable `random` (jitter) and `sleep`.
 * - OAuth 2.0 returns `OAuth2TokenSet` (`TokenSet` with `tokenType`, `scopes` always set, plus `raw`).
 * - `oauth1Signature` takes the full `oauthParameters` set; `oauth1SignatureBaseString` and
 *   `oauth1PercentEncode` are exported too.
 * - `SafeFetcher.fetch` throws `media_unreachable` for non-2xx answers instead of returning them.
 * - `MediaBytes.reopenable` says whether `open()` may be called more than once.
 * - `trackProgress`'s `onProgress` also receives `totalBytes`.
 * - Dry-run guard: a write during a dry run throws `not_supported` (rule `http.dry_run_write`).
 * - `defaultErrorForStatus` takes an optional second `{ platform, knownSecrets }` argument.
 * - Extra exports: `repairTokenResponse` (a ready-made OAuth `conform`), `isBlockedAddress`,
 *   `parseRetryAfter`, `HttpMethod`, `HttpAuth`, `HttpRetryMode`, `HttpTimeouts`,
 *   `HttpRetrySettings`, option interfaces for every function.
 * - OAuth: `invalid_grant` maps to `reauth_required` on refresh but `platform_auth_failed` on code
 *   exchange (the code is dead, not an account).
 * - `HttpBody.multipart` also takes `MultipartPart[]` (exact length, file bytes by reference);
 *   `encodeMultipart` is exported.
 * - Chunking is `MediaBytes.openReader()` + `chunkReader` (instead of a `chunkStream` over
 *   `open()`): part uploads read into one buffer (`reuseBuffer`); an unread
 *   `fs.createReadStream` is read from its file descriptor into it (no per-read garbage).
 * - `HttpResponse.rateLimit` is computed on first read (a getter), from the time of the answer.
 */
export * from './blocked-address.js';
export * from './chunk.js';
export * from './http-client.js';
export * from './media.js';
export * from './multipart.js';
export * from './oauth1.js';
export * from './oauth2.js';
export * from './rate-limit.js';
export * from './safe-fetch.js';
export * from './settings.js';
export * from './text.js';
export * from './top-level-domains.js';
export * from './check-capabilities.js';
export * from './error-mapper.js';
export * from './define-provider.js';
