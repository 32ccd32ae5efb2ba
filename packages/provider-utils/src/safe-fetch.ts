import type { PlatformId } from '@letmepost/core';
import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';

export interface SafeFetchResponse {
  /** Always 2xx: other answers throw `media_unreachable`. */
  status: number;
  /** Lowercase names. */
  headers: Record<string, string>;
  contentType?: string;
  contentLength?: number;
  /** The URL finally answered, after redirects. */
  url: string;
  /** Single use; capped at `maxBytes`, throwing `media_invalid` beyond it. */
  body: AsyncIterable<Uint8Array>;
}

export interface SafeFetchOptions {
  url: string;
  signal?: AbortSignal;
  /** Lower cap for this fetch than the fetcher's. */
  maxBytes?: number;
}

/** Fetches user-supplied media URLs without letting them reach internal addresses. */
export interface SafeFetcher {
  fetch(options: SafeFetchOptions): Promise<SafeFetchResponse>;
}

export interface SafeFetcherOptions {
  /**
   * Replaces the fetcher's own connection pool. The address check lives in that pool's DNS
   * lookup, so an injected dispatcher must do its own (only literal IPs are still refused).
   */
  dispatcher?: Dispatcher;
  /** Allow loopback, private, link-local and other internal addresses. Default false. */
  allowPrivateNetwork?: boolean;
  /** Default 512 MiB. */
  maxBytes?: number;
  /** Longest silence while connecting, waiting for headers or between body pieces. Default 30 s. */
  idleTimeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** DNS resolution used by the fetcher's pool (tests, split-horizon DNS); each answer is checked. */
  lookup?: LookupFunction;
  /** Set on errors, when fetching on behalf of a provider. */
  platform?: PlatformId;
}

export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  void options;
  throw new Error('createSafeFetcher: not implemented yet');
}

/**
 * Whether an IP address is one that user-supplied URLs must not reach: loopback, private,
 * link-local (cloud metadata), CGNAT, multicast, unspecified, reserved, and IPv6 forms embedding
 * such an IPv4 address.
 */
export function isBlockedAddress(address: string): boolean {
  void address;
  throw new Error('isBlockedAddress: not implemented yet');
}
