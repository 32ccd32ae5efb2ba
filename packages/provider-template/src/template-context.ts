import type { ClientCredentials, Clock } from '@letmepost/core';
import type { HttpClient } from '@letmepost/provider-utils';
import type { TemplateOAuth } from './template-oauth.js';

/** What every method of one provider instance shares: built once by `createTemplateContext`. */
export interface TemplateContext {
  http: HttpClient;
  /** Without a trailing slash. */
  baseUrl: string;
  clock: Clock;
  oauth: TemplateOAuth;
  /** The instance-wide app from settings, used when a grant carries none. */
  defaultClient: ClientCredentials | undefined;
}
