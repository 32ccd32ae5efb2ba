/**
 * @letmepost/provider-utils: what every provider shares, so each one stays a thin mapping of
 * its platform: the HTTP client (retries, timeouts, rate limits, error excerpts with secrets
 * redacted), OAuth 1.0a and 2.0, media reading, chunking and multipart encoding, the guarded
 * fetcher for media URLs, settings parsing and text measuring.
 */
export * from './blocked-address.js';
export * from './chunk.js';
export * from './http-client.js';
export * from './media.js';
export * from './multipart.js';
export * from './oauth1.js';
export * from './oauth2.js';
export * from './poll.js';
export * from './rate-limit.js';
export * from './safe-fetch.js';
export * from './settings.js';
export * from './text.js';
export * from './top-level-domains.js';
export * from './check-capabilities.js';
export * from './error-mapper.js';
export * from './define-provider.js';
