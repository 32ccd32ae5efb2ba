import type { ClientCredentials, Clock } from '@letmepost/core';
import type { GraphHttpClient } from '@letmepost/meta-graph';
import type { OAuth2Client, SafeFetcher } from '@letmepost/provider-utils';

/** What every method of one Facebook provider instance shares, built once at creation. */
export interface FacebookContext {
  /** `graph.facebook.com/<version>`, with the Graph error table and `appsecret_proof`. */
  graph: GraphHttpClient;
  /** `https://graph-video.facebook.com`: where Page videos are uploaded. */
  videoBaseUrl: string;
  graphVersion: string;
  clock: Clock;
  oauth: OAuth2Client;
  /** The instance-wide app from settings, used when a grant carries none. */
  defaultClient: ClientCredentials | undefined;
  /** Reads bytes and streams of a post's media (URLs are handed to Meta to fetch). */
  mediaFetcher(): SafeFetcher;
}
