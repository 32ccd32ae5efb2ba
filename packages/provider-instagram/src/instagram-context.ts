import type { ClientCredentials, Clock } from '@letmepost/core';
import type { GraphHttpClient, ResolvedContainerWait } from '@letmepost/meta-graph';
import type { InstagramOAuth } from './instagram-oauth.js';

/** What every method of one provider instance shares: built once by `createInstagramContext`. */
export interface InstagramContext {
  /** `graph.instagram.com/<version>` with the Graph error table and `appsecret_proof`. */
  graph: GraphHttpClient;
  clock: Clock;
  oauth: InstagramOAuth;
  /** The instance-wide app from settings, used when a grant carries none. */
  defaultClient: ClientCredentials | undefined;
  containerWait: ResolvedContainerWait;
  /** Resolves a media host to its addresses, to refuse private ones before a container is made. */
  lookupHost: (options: { hostname: string }) => Promise<string[]>;
  /** `allowPrivateNetwork`: the sandbox and local tests serve media from loopback. */
  allowPrivateMediaUrls: boolean;
}
