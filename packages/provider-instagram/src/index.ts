export { createInstagram, type InstagramProvider, type InstagramProviderSettings } from './instagram-provider.js';
export { instagramCredentialsSchema, instagramAccountDataSchema, type InstagramCredentials } from './instagram-credentials.js';
export { instagramOptionsSchema, instagramCapabilities, type InstagramOptions } from './instagram-options.js';
export { INSTAGRAM_WRITE_SCOPES, INSTAGRAM_EXTENDED_SCOPES } from './instagram-oauth.js';
