export {
  createThreads,
  THREADS_DEFAULT_API_BASE_URL,
  THREADS_DEFAULT_API_VERSION,
  THREADS_DEFAULT_AUTHORIZE_URL,
  type ThreadsProvider,
  type ThreadsProviderSettings,
} from './threads-provider.js';
export { threadsCredentialsSchema, threadsAccountDataSchema, type ThreadsCredentials } from './threads-credentials.js';
export { threadsOptionsSchema, threadsCapabilities, THREADS_REPLY_CONTROLS, THREADS_TEXT_MAX_LENGTH, type ThreadsOptions } from './threads-options.js';
export { THREADS_WRITE_SCOPES, THREADS_EXTENDED_SCOPES } from './threads-oauth.js';
export { threadsTextLength } from './threads-validate.js';
