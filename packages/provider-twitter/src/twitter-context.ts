import type { Clock } from '@letmepost/core';
import type { HttpClient, SafeFetcher } from '@letmepost/provider-utils';

/** What the X calls of one provider instance share. */
export interface TwitterContext {
  http: HttpClient;
  /** Without a trailing slash, e.g. `https://api.x.com`. */
  apiBaseUrl: string;
  mediaFetcher: SafeFetcher;
  clock: Clock;
  /** Video size cap used by preflight and upload (`maxVideoBytes` setting). */
  maxVideoBytes: number;
}
