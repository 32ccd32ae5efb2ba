import { LetmepostError, type PlatformId } from '@letmepost/core';
import type { LookupFunction } from 'node:net';
import type { Agent, Dispatcher } from 'undici';
import { findBlockedAddressError, findInErrorChain, guardedLookup, isBlockedAddress, isIpLiteral } from './blocked-address.js';
import { loadUndici } from './undici.js';

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

const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/**
 * A fetcher for URLs that end users supply (media to upload). Only http/https; every address a
 * connection is about to use is checked inside the connection's own DNS lookup, so a name that
 * resolves to a public address for a pre-check and to 169.254.169.254 a moment later (DNS
 * rebinding) cannot slip through. Literal IPs are checked before connecting. Redirects are
 * followed by hand, each hop checked again; the body is capped and idle-timed.
 *
 * Errors: unreachable, refused, blocked, non-2xx, too many redirects → `media_unreachable`;
 * larger than `maxBytes` → `media_invalid`.
 */
export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const allowPrivateNetwork = options.allowPrivateNetwork ?? false;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const platform = options.platform;
  const lookup = allowPrivateNetwork
    ? options.lookup
    : guardedLookup({ purpose: 'media URLs', ...(options.lookup === undefined ? {} : { lookup: options.lookup }) });
  let ownAgent: Agent | undefined;
  const dispatcher = (): Dispatcher =>
    options.dispatcher ??
    (ownAgent ??= new (loadUndici().Agent)({ connect: { timeout: idleTimeoutMs, ...(lookup === undefined ? {} : { lookup }) }, keepAliveTimeout: 4_000 }));

  const fail = (fields: { code: 'media_unreachable' | 'media_invalid'; message: string; status?: number; retryable?: boolean; cause?: unknown }) =>
    new LetmepostError({ ...fields, ...(platform === undefined ? {} : { platform }) });

  return {
    async fetch(fetchOptions) {
      const cap = Math.min(fetchOptions.maxBytes ?? maxBytes, maxBytes);
      let url = parseMediaUrl(fetchOptions.url, fail);
      for (let hop = 0; ; hop += 1) {
        if (!allowPrivateNetwork) assertLiteralHostAllowed(url, fail);
        let response: Dispatcher.ResponseData<unknown>;
        try {
          const { request: undiciRequest } = loadUndici();
          response = await undiciRequest(url, {
            method: 'GET',
            dispatcher: dispatcher(),
            headers: { 'user-agent': 'letmepost-media-fetcher', accept: '*/*' },
            headersTimeout: idleTimeoutMs,
            bodyTimeout: idleTimeoutMs,
            ...(fetchOptions.signal === undefined ? {} : { signal: fetchOptions.signal }),
          } as Parameters<typeof undiciRequest>[1]);
        } catch (error) {
          throw describeFetchFailure({ error, url, fail, aborted: fetchOptions.signal?.aborted === true });
        }
        const headers = normalizeHeaders(response.headers);
        const status = response.statusCode;
        if (REDIRECT_STATUSES.has(status)) {
          discard(response.body);
          const location = headers.location;
          if (!location) throw fail({ code: 'media_unreachable', message: `${describeUrl(url)} answered ${status} without a Location.`, status });
          if (hop >= maxRedirects) {
            throw fail({ code: 'media_unreachable', message: `${describeUrl(url)} redirected more than ${maxRedirects} times.`, status });
          }
          url = parseMediaUrl(new URL(location, url).toString(), fail);
          continue;
        }
        if (status < 200 || status >= 300) {
          discard(response.body);
          throw fail({
            code: 'media_unreachable',
            message: `${describeUrl(url)} answered ${status}; the media could not be downloaded.`,
            status,
            retryable: status >= 500 || status === 429 || status === 408,
          });
        }
        const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
        const contentLength = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
        if (contentLength !== undefined && contentLength > cap) {
          discard(response.body);
          throw fail({ code: 'media_invalid', message: `${describeUrl(url)} is ${contentLength} bytes, more than the ${cap}-byte limit.` });
        }
        const contentType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        return {
          status,
          headers,
          ...(contentType ? { contentType } : {}),
          ...(contentLength === undefined ? {} : { contentLength }),
          url: url.toString(),
          body: cappedBody({ body: response.body, cap, url, fail, signal: fetchOptions.signal }),
        };
      }
    },
  };
}

function parseMediaUrl(raw: string, fail: (fields: { code: 'media_unreachable'; message: string }) => LetmepostError): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail({ code: 'media_unreachable', message: 'The media URL is not a valid absolute URL.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail({ code: 'media_unreachable', message: `Media URLs must be http or https, not ${url.protocol.replace(/:$/, '')}.` });
  }
  if (url.username !== '' || url.password !== '') {
    throw fail({ code: 'media_unreachable', message: 'Media URLs must not carry credentials.' });
  }
  return url;
}

function assertLiteralHostAllowed(url: URL, fail: (fields: { code: 'media_unreachable'; message: string }) => LetmepostError): void {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIpLiteral(host) && isBlockedAddress(host)) {
    throw fail({ code: 'media_unreachable', message: `${describeUrl(url)} points to ${host}, an address media URLs may not reach.` });
  }
}

function describeFetchFailure(fields: {
  error: unknown;
  url: URL;
  aborted: boolean;
  fail: (fields: { code: 'media_unreachable'; message: string; retryable?: boolean; cause?: unknown }) => LetmepostError;
}): LetmepostError {
  const { error, url } = fields;
  if (LetmepostError.isInstance(error)) return error;
  if (fields.aborted) return fields.fail({ code: 'media_unreachable', message: `Downloading ${describeUrl(url)} was aborted.`, cause: error });
  if (findBlockedAddressError(error) !== undefined) {
    return fields.fail({
      code: 'media_unreachable',
      message: `${describeUrl(url)} resolves to an address media URLs may not reach (loopback, private or metadata).`,
      retryable: false,
      cause: error,
    });
  }
  const reasons: Record<string, string> = {
    ENOTFOUND: 'the host does not exist',
    EAI_AGAIN: 'DNS lookup failed',
    ECONNREFUSED: 'the connection was refused',
    ECONNRESET: 'the connection was reset',
    UND_ERR_CONNECT_TIMEOUT: 'connecting timed out',
    UND_ERR_HEADERS_TIMEOUT: 'the server did not answer in time',
    UND_ERR_SOCKET: 'the connection closed',
  };
  const code = findCode(error);
  const reason = (code && reasons[code]) ?? 'the download failed';
  return fields.fail({
    code: 'media_unreachable',
    message: `${describeUrl(url)} could not be downloaded: ${reason}.`,
    retryable: code !== 'ENOTFOUND',
    cause: error,
  });
}

/** The first `code` in a failure's chain (undici and happy eyeballs wrap connect errors). */
function findCode(error: unknown): string | undefined {
  return findInErrorChain(error, (candidate) => typeof candidate.code === 'string')?.code as string | undefined;
}

async function* cappedBody(fields: {
  body: Dispatcher.ResponseData<unknown>['body'];
  cap: number;
  url: URL;
  signal: AbortSignal | undefined;
  fail: (fields: { code: 'media_unreachable' | 'media_invalid'; message: string; retryable?: boolean; cause?: unknown }) => LetmepostError;
}): AsyncGenerator<Uint8Array, void, undefined> {
  const { body, cap, url } = fields;
  let received = 0;
  try {
    for await (const piece of body as AsyncIterable<Uint8Array>) {
      received += piece.byteLength;
      if (received > cap) {
        throw fields.fail({ code: 'media_invalid', message: `${describeUrl(url)} is larger than the ${cap}-byte limit; the download was stopped.` });
      }
      yield piece;
    }
  } catch (error) {
    if (LetmepostError.isInstance(error)) throw error;
    throw fields.fail({
      code: 'media_unreachable',
      message: fields.signal?.aborted
        ? `Downloading ${describeUrl(url)} was aborted.`
        : `Downloading ${describeUrl(url)} failed after ${received} bytes (${findCode(error) === 'UND_ERR_BODY_TIMEOUT' ? 'the server stalled' : 'the connection broke'}).`,
      retryable: true,
      cause: error,
    });
  } finally {
    // Also runs when the consumer stops early: release the socket.
    if (!body.destroyed) discard(body);
  }
}

/** Releases a body we will not read, without an unhandled 'error' from the abort. */
function discard(body: Dispatcher.ResponseData<unknown>['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function normalizeHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Host and path, no query: signed media URLs carry credentials in the query string. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
