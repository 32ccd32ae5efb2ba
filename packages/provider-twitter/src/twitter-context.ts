import type { Clock } from '@letmepost/core';
import type { HttpClient, SafeFetcher } from '@letmepost/provider-utils';

/** What the X calls of one provider instance share. */
export interface TwitterContext {
  http: HttpClient;
  /** Without a trailing slash, e.g. `https://api.x.com`. */
  apiBaseUrl: string;
  mediaFetcher: SafeFetcher;
  clock: Clock;
}
