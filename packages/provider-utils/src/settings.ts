import type { Clock } from '@letmepost/core';
import type { Dispatcher } from 'undici';
import type { HttpRetrySettings, HttpTimeouts } from './http-client.js';
import type { SafeFetcher } from './safe-fetch.js';

/** Settings every `create<Brand>()` accepts; providers extend this with their own fields. */
export interface BaseProviderSettings {
  /** The instance-wide OAuth app (quickstart); workspaces may bring their own. */
  clientId?: string;
  clientSecret?: string;
  /** undici dispatcher for every request of this provider (proxies, tests). */
  dispatcher?: Dispatcher;
  clock?: Clock;
  /**
   * Lets media URLs resolve to loopback/private addresses. Off by default: media URLs come from
   * end users, and fetching them from the server must not reach internal services.
   */
  allowPrivateNetwork?: boolean;
  /** Replaces the media fetcher built from the settings above. */
  mediaFetcher?: SafeFetcher;
  http?: {
    timeouts?: HttpTimeouts;
    retry?: HttpRetrySettings;
    maxResponseBytes?: number;
    userAgent?: string;
  };
}
