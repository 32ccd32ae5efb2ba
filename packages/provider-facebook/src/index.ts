/**
 * @letmepost/provider-facebook: publishing as a Facebook Page. Facebook Login yields every Page
 * the user manages (Business Portfolios included), each an account with its own Page token.
 */
export { createFacebook, type FacebookProvider, type FacebookProviderSettings } from './facebook-provider.js';
export { facebookCredentialsSchema, facebookAccountDataSchema, type FacebookCredentials } from './facebook-credentials.js';
export { facebookOptionsSchema, facebookCapabilities, type FacebookOptions } from './facebook-options.js';
export { FACEBOOK_WRITE_SCOPES, FACEBOOK_EXTENDED_SCOPES } from './facebook-oauth.js';
