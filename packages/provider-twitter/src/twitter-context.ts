import type { Clock } from '@letmepost/core';
import type { HttpClient, SafeFetcher } from '@letmepost/provider-utils';
import type { TwitterOAuth } from './twitter-oauth.js';

/** What the X calls of one provider instance share. */
export interface TwitterContext {
  http: HttpClient;
  /** Without a trailing slash, e.g. `https://api.x.com`. */
  apiBaseUrl: string;
  mediaFetcher: SafeFetcher;
  clock: Clock;
  /** Video size cap used by preflight and upload (`maxVideoBytes` setting). */
  maxVideoBytes: number;
  /** The OAuth 2.0 flow (authorize, exchange, refresh, revoke) against the configured hosts. */
  oauth: TwitterOAuth;
}
