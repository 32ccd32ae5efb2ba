import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { ProviderAccount, PublishAuth, TokenSet } from '@letmepost/core';
import { createBluesky, type BlueskyProviderSettings } from '../bluesky-provider.js';
import type { BlueskyCredentials } from '../bluesky-credentials.js';

/** 2026-03-01T12:00:00Z: the fixtures' JWTs were issued at this instant. */
export const NOW = 1_772_366_400_000;
export const clock = { now: () => NOW };

export const DID = 'did:plc:4xq3aw5nqk2lk5wb6h2rfk7v';
export const HANDLE = 'alice.example.com';
export const PDS = 'https://morel.us-east.host.bsky.network';
export const PLC = 'https://plc.directory';
export const VIDEO = 'https://video.bsky.app';
export const APPVIEW = 'https://public.api.bsky.app';
/** Planted secret: must never appear in an error, a result or a log. */
export const CANARY_APP_PASSWORD = 'cnry-7q2x-9zk4-w8pt';

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8')) as T;
}

export const session = fixture<{ accessJwt: string; refreshJwt: string }>('create-session.json');
export const refreshed = fixture<{ accessJwt: string; refreshJwt: string }>('refresh-session.json');

export const account: ProviderAccount = {
  platformAccountId: DID,
  username: HANDLE,
  data: { did: DID, handle: HANDLE, pdsUrl: PDS },
};

export const tokens: TokenSet = {
  accessToken: session.accessJwt,
  refreshToken: session.refreshJwt,
  tokenType: 'Bearer',
  expiresAt: NOW + 7200 * 1000,
  secrets: { appPassword: CANARY_APP_PASSWORD },
};

export const accountAuth = { type: 'account', account, tokens } satisfies PublishAuth<BlueskyCredentials>;

export const credentials: BlueskyCredentials = { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD };

export const notFound = Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });

/** A provider whose DNS, clock, retries and video waits are under the test's control. */
export function testProvider(settings: BlueskyProviderSettings = {}) {
  return createBluesky({
    clock,
    resolveTxt: async () => {
      throw notFound;
    },
    http: { retry: { maxAttempts: 1 } },
    videoProcessing: { pollIntervalMs: 1, maxWaitMs: 0, sleep: async () => {} },
    ...settings,
  });
}

/** Everything an error exposes: message, JSON form and inspect output. */
export function exposedText(value: unknown): string {
  return [String((value as Error)?.message), JSON.stringify(value), inspect(value, { depth: 8 })].join('\n');
}
