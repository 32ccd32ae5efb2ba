import type { ClientCredentials, Clock } from '@letmepost/core';
import type { GraphHttpClient, ResolvedContainerWait } from '@letmepost/meta-graph';
import type { ThreadsOAuth } from './threads-oauth.js';

/** What every method of one provider instance shares: built once by `createThreadsContext`. */
export interface ThreadsContext {
  /**
   * The family's Graph client for `graph.threads.net/<version>`: paths are relative to the
   * version, the token travels as `access_token`, Graph errors (non-2xx and 2xx) are mapped.
   */
  graph: GraphHttpClient;
  /** API host without a trailing slash, e.g. `https://graph.threads.net` (the token endpoints are not versioned). */
  baseUrl: string;
  clock: Clock;
  oauth: ThreadsOAuth;
  /** The instance-wide Threads app from settings, used when a grant carries none. */
  defaultClient: ClientCredentials | undefined;
  /** How long `publish` waits for containers before answering `pending`. */
  containerWait: ResolvedContainerWait;
}
