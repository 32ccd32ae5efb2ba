import type { Clock } from '@letmepost/core';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
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
