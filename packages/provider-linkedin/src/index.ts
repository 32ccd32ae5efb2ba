export {
  createLinkedIn,
  LINKEDIN_DEFAULT_API_VERSION,
  type LinkedInProvider,
  type LinkedInProviderSettings,
} from './linkedin-provider.js';
export {
  linkedInCredentialSchema,
  linkedInAccountDataSchema,
  type LinkedInCredentials,
  type LinkedInAccountData,
} from './linkedin-credentials.js';
export {
  linkedInPublishOptionsSchema,
  linkedInCapabilities,
  type LinkedInPublishOptions,
} from './linkedin-options.js';
export { LINKEDIN_WRITE_SCOPES, LINKEDIN_EXTENDED_SCOPES } from './linkedin-oauth.js';
export { escapeLittleText } from './convert-to-linkedin-post.js';
export { mapLinkedInError } from './linkedin-error.js';
export { linkedInPostUrl } from './linkedin-publish.js';
