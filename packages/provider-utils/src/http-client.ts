import type { Clock, LetmepostError, PlatformId } from '@letmepost/core';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { OAuth1Credentials } from './oauth1.js';
import type { RateLimitInfo } from './rate-limit.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpTimeouts {
  /** TCP + TLS handshake. Default 10 s. */
  connectMs?: number;
  /** From sending the request to receiving the response headers. Default 30 s. */
  headersMs?: number;
  /** Longest silence between two pieces of the response body. Default 30 s. */
  bodyMs?: number;
}

export interface HttpRetrySettings {
  /** Attempts in total, the first included. Default 3. */
  maxAttempts?: number;
  /** Base of the exponential backoff. Default 250 ms. */
  baseDelayMs?: number;
  /**
   * Longest wait between two attempts. A `Retry-After`/reset further away than this is not waited
   * for: the error is thrown with `retryAfterMs` instead. Default 10 s.
   */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1); injectable so tests are deterministic. Default `Math.random`. */
  random?: () => number;
  /** How to wait; injectable so tests need not. Default: an abortable timer. */
  sleep?: (options: { ms: number; signal?: AbortSignal }) => Promise<void>;
}

export interface HttpClientSettings {
  platform: PlatformId;
  /** Injected for tests and proxies; default: one shared, pooled keep-alive `Agent`. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  timeouts?: HttpTimeouts;
  /** Largest response body accepted; default 8 MiB. Exceeding it aborts the download. */
  maxResponseBytes?: number;
  retry?: HttpRetrySettings;
  userAgent?: string;
  /** Sent with every request, below per-request headers. */
  headers?: Record<string, string>;
  /**
   * Maps a non-2xx response to a LetmepostError from the platform's structured error fields;
   * returning `undefined` falls back to `defaultErrorForStatus`.
   */
  mapError?: (response: HttpErrorResponse) => LetmepostError | undefined;
}

/** A non-2xx answer, as handed to `mapError`. */
export interface HttpErrorResponse {
  status: number;
  /** Lowercase names. */
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, otherwise the text (possibly truncated). */
  body: unknown;
  rateLimit: RateLimitInfo;
  request: { method: HttpMethod; url: string; retry: HttpRetryMode };
}

export type HttpBody =
  | { json: unknown }
  | { form: Record<string, string> }
  | { multipart: FormData }
  | { bytes: Uint8Array; contentType: string }
  /** Sent as it is read, never buffered; with `length` it goes out with a Content-Length. */
  | { stream: AsyncIterable<Uint8Array>; contentType: string; length?: number };

export type HttpAuth =
  | { bearer: string }
  | { basic: { username: string; password: string } }
  | { oauth1: OAuth1Credentials };

/**
 * - `safe`: reading (default for GET/HEAD); retried on network failures and 408/429/5xx.
 * - `idempotent`: a write that may be repeated (chunk PUT, re-playable refresh); retried likewise.
 * - `create` (default for other methods): never re-sent once it may have reached the platform; a
 *   failure after sending (reset, timeout, 500/502/504) becomes `publish_outcome_unknown`.
 *   Failures before sending (DNS, refused, connect timeout) are retried for every mode.
 */
export type HttpRetryMode = 'safe' | 'idempotent' | 'create';

export interface HttpRequestOptions {
  method: HttpMethod;
  url: string | URL;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: HttpBody;
  auth?: HttpAuth;
  retry?: HttpRetryMode;
  /** Values to mask in any error produced for this request (tokens in URLs or bodies). */
  secrets?: readonly string[];
  signal?: AbortSignal;
  /** Defaults to true for anything but GET/HEAD; a write is refused while a dry run is active. */
  isWrite?: boolean;
  /** Per-request override of the client's timeouts. */
  timeouts?: HttpTimeouts;
  /** Per-request override of the client's response byte cap. */
  maxResponseBytes?: number;
}

export interface HttpResponse {
  status: number;
  /** Lowercase names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Uint8Array;
  text(): string;
  /** Parses the body as JSON; a malformed body throws `platform_unavailable`. */
  json(): unknown;
  rateLimit: RateLimitInfo;
}

export interface HttpRawRequestOptions extends HttpRequestOptions {
  /** Statuses to return instead of throwing (e.g. 308 Resume Incomplete). 2xx always are. */
  acceptStatus?: (status: number) => boolean;
}

export interface HttpJsonRequestOptions<T> extends HttpRequestOptions {
  schema: z.ZodType<T>;
}

export interface HttpClient {
  readonly platform: PlatformId;
  /** Sends the request; a non-2xx answer (unless accepted) throws the mapped LetmepostError. */
  request(options: HttpRawRequestOptions): Promise<HttpResponse>;
  /** Like `request`, then parses and validates a JSON 2xx body against `schema`. */
  json<T>(options: HttpJsonRequestOptions<T>): Promise<{ value: T; response: HttpResponse }>;
}

export function createHttpClient(settings: HttpClientSettings): HttpClient {
  void settings;
  throw new Error('createHttpClient: not implemented yet');
}

/** The fallback status mapping used when a provider's `mapError` has nothing better. */
export function defaultErrorForStatus(response: HttpErrorResponse): LetmepostError {
  void response;
  throw new Error('defaultErrorForStatus: not implemented yet');
}
