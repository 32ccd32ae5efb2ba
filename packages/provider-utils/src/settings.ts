import { LetmepostError, type ClientCredentials, type Clock, type PlatformId } from '@letmepost/core';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { HttpClientSettings, HttpRetrySettings, HttpTimeouts } from './http-client.js';
import { platformName } from './http-error.js';
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

const isObjectWith =
  (name: string) =>
  (value: unknown): boolean =>
    value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)[name] === 'function';

const timeoutSchema = z.number().int().positive().optional();

/**
 * The zod schema of `BaseProviderSettings`; providers `.extend()` it with every field of their
 * own (unknown fields are dropped) and hand it to `defineProvider` as `settingsSchema`.
 */
export const baseProviderSettingsSchema = z.object({
  clientId: z.string().min(1, 'must not be empty').optional(),
  clientSecret: z.string().min(1, 'must not be empty').optional(),
  dispatcher: z.custom<Dispatcher>(isObjectWith('dispatch'), 'must be an undici Dispatcher').optional(),
  clock: z.custom<Clock>(isObjectWith('now'), 'must be a clock ({ now(): number })').optional(),
  allowPrivateNetwork: z.boolean().optional(),
  mediaFetcher: z.custom<SafeFetcher>(isObjectWith('fetch'), 'must be a SafeFetcher').optional(),
  http: z
    .object({
      timeouts: z.object({ connectMs: timeoutSchema, headersMs: timeoutSchema, bodyMs: timeoutSchema }).optional(),
      retry: z.custom<HttpRetrySettings>((value) => value !== null && typeof value === 'object', 'must be an object').optional(),
      maxResponseBytes: z.number().int().positive().optional(),
      userAgent: z.string().min(1).optional(),
    })
    .optional(),
});

/** A base-URL setting: absolute http(s), without a trailing slash. */
export const baseUrlSettingSchema = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * The HTTP-client settings a provider's settings carry (`dispatcher`, `clock`, `http.*`), ready
 * to spread into `createHttpClient({ platform, mapError, ...httpClientSettingsOf({ settings }) })`.
 */
export function httpClientSettingsOf(options: {
  settings: Pick<BaseProviderSettings, 'dispatcher' | 'clock' | 'http'>;
}): Pick<HttpClientSettings, 'dispatcher' | 'clock' | 'timeouts' | 'retry' | 'maxResponseBytes' | 'userAgent'> {
  const { settings } = options;
  const http = settings.http ?? {};
  return {
    ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
    ...(settings.clock !== undefined && { clock: settings.clock }),
    ...(http.timeouts !== undefined && { timeouts: http.timeouts }),
    ...(http.retry !== undefined && { retry: http.retry }),
    ...(http.maxResponseBytes !== undefined && { maxResponseBytes: http.maxResponseBytes }),
    ...(http.userAgent !== undefined && { userAgent: http.userAgent }),
  };
}

/**
 * The OAuth app that refreshes or revokes a grant: the grant's own, else the instance's
 * (`defaultClient`); `app_credentials_missing` naming the settings and env variables when
 * neither exists (or, with `requireSecret`, has no secret).
 */
export function resolveAppClient(options: {
  platform: PlatformId;
  client: ClientCredentials | undefined;
  defaultClient: ClientCredentials | undefined;
  requireSecret?: boolean;
}): ClientCredentials {
  const chosen = options.client ?? options.defaultClient;
  if (chosen === undefined || (options.requireSecret === true && chosen.clientSecret === undefined)) {
    const prefix = options.platform.toUpperCase();
    throw new LetmepostError({
      code: 'app_credentials_missing',
      message: `No ${platformName(options.platform)} app (client id${options.requireSecret === true ? ' and secret' : ''}) is configured for this grant.`,
      platform: options.platform,
      remediation: `Pass clientId/clientSecret to the provider (${prefix}_CLIENT_ID / ${prefix}_CLIENT_SECRET with loadConfigFromEnv), or save the workspace's own app.`,
    });
  }
  return chosen;
}
