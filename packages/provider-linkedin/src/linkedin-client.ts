import type { Clock } from '@letmepost/core';
import { createHttpClient, type HttpClient, type HttpClientSettings, type SafeFetcher } from '@letmepost/provider-utils';
import { createLinkedInErrorMapper } from './linkedin-error.js';

/** Everything the request-making modules share; built once per `createLinkedIn()`. */
export interface LinkedInClient {
  apiBaseUrl: string;
  apiVersion: string;
  clock: Clock;
  /** REST and OpenID calls; errors mapped as API errors. */
  http: HttpClient;
  /** Image/video upload calls; a 400/422 there means the media was refused. */
  mediaHttp: HttpClient;
  /** Fetches `{ url }` media; built on first use (a text-only provider never opens its pool). */
  mediaFetcher(): SafeFetcher;
  videoProcessing: { pollIntervalMs: number; maxWaitMs: number };
  identityRetry: { attempts: number; delayMs: number };
  sleep(options: { ms: number; signal?: AbortSignal }): Promise<void>;
}

/** Headers every versioned `/rest/*` call needs; without them LinkedIn answers 400/426. */
export function restHeaders(client: Pick<LinkedInClient, 'apiVersion'>): Record<string, string> {
  return {
    'LinkedIn-Version': client.apiVersion,
    'X-Restli-Protocol-Version': '2.0.0',
  };
}

export function restUrl(options: { client: Pick<LinkedInClient, 'apiBaseUrl'>; path: string }): string {
  return `${options.client.apiBaseUrl}${options.path}`;
}

/**
 * Whether an upload URL handed out by LinkedIn may receive the member's bearer token: only
 * LinkedIn's own hosts (or the configured API host, for the sandbox and tests). Anything else
 * gets the bytes without the token.
 */
export function isTrustedUploadUrl(options: { client: Pick<LinkedInClient, 'apiBaseUrl'>; url: string }): boolean {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    return false;
  }
  if (target.origin === new URL(options.client.apiBaseUrl).origin) return true;
  return (
    target.protocol === 'https:' && (target.hostname === 'linkedin.com' || target.hostname.endsWith('.linkedin.com'))
  );
}

export function createLinkedInHttpClients(
  options: Omit<HttpClientSettings, 'platform' | 'mapError'> & { apiVersion: string },
): Pick<LinkedInClient, 'http' | 'mediaHttp'> {
  const { apiVersion, ...settings } = options;
  return {
    http: createHttpClient({ ...settings, platform: 'linkedin', mapError: createLinkedInErrorMapper({ context: 'api', apiVersion }) }),
    mediaHttp: createHttpClient({ ...settings, platform: 'linkedin', mapError: createLinkedInErrorMapper({ context: 'media', apiVersion }) }),
  };
}
