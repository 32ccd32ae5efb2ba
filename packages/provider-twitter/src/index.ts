export { createTwitter, twitterCapabilities } from './twitter-provider.js';
export type { TwitterProvider, TwitterProviderSettings } from './twitter-provider.js';
export type { TwitterPublishOptions } from './convert-to-twitter-post.js';
export { twitterCredentialsSchema, twitterAccountDataSchema } from './twitter-credentials.js';
export type { TwitterCredentials } from './twitter-credentials.js';
export { twitterOptionsSchema, TWITTER_LIMITS } from './twitter-validate.js';
export { TWITTER_WRITE_SCOPES, TWITTER_EXTENDED_SCOPES } from './twitter-oauth.js';
export { parseTwitterText, twitterWeightedLength, extractTwitterUrls, twitterTextConfigV3 } from './twitter-text.js';
export type { ParsedTwitterText, TwitterTextConfig, TwitterUrlEntity } from './twitter-text.js';
