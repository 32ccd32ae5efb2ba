import { LetmepostError, type PlatformId } from '@letmepost/core';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';

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
const BLOCKED_ADDRESS_CODE = 'ELETMEPOST_BLOCKED_ADDRESS';

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
  let ownAgent: Agent | undefined;
  const dispatcher = (): Dispatcher =>
    options.dispatcher ??
    (ownAgent ??= createGuardedAgent({
      allowPrivateNetwork,
      connectTimeoutMs: idleTimeoutMs,
      keepAliveTimeoutMs: 4_000,
      purpose: 'media URLs',
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    }));

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

// Two lists: Node's BlockList matches IPv4 addresses against an IPv6 `::ffff:0:0/96` rule (and
// mapped IPv6 against IPv4 rules), so mixing families in one list would block every IPv4.
const ipv4BlockList = buildIpv4BlockList();
const ipv6BlockList = buildIpv6BlockList();

/**
 * Whether an IP address is one that user-supplied URLs must not reach: loopback, private,
 * link-local (cloud metadata), CGNAT, multicast, unspecified, reserved/documentation ranges,
 * IPv4-mapped/compatible IPv6, and IPv6 transition forms (NAT64, 6to4) embedding such an IPv4.
 * Anything that does not parse as an IP address is blocked too.
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return ipv4BlockList.check(bare, 'ipv4');
  if (family !== 6) return true;
  const bytes = ipv6Bytes(bare);
  if (!bytes) return true;
  // IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96): refused outright, whatever they embed.
  if (bytes.slice(0, 10).every((byte) => byte === 0)) {
    const marker = (bytes[10]! << 8) | bytes[11]!;
    if (marker === 0xffff || marker === 0) return true;
  }
  if (ipv6BlockList.check(bare, 'ipv6')) return true;
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
  const isNat64 = bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && bytes.slice(4, 12).every((byte) => byte === 0);
  if (isNat64) return ipv4BlockList.check(bytes.slice(12, 16).join('.'), 'ipv4');
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return ipv4BlockList.check(bytes.slice(2, 6).join('.'), 'ipv4');
  return false;
}

function buildIpv4BlockList(): BlockList {
  const list = new BlockList();
  const ipv4: Array<[string, number]> = [
    ['0.0.0.0', 8], // "this network", unspecified
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // CGNAT (also Alibaba's metadata 100.100.100.200)
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments (Oracle metadata 192.0.0.192)
    ['192.0.2.0', 24], // documentation
    ['192.88.99.0', 24], // 6to4 relay anycast
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // documentation
    ['203.0.113.0', 24], // documentation
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ];
  for (const [network, prefix] of ipv4) list.addSubnet(network, prefix, 'ipv4');
  return list;
}

function buildIpv6BlockList(): BlockList {
  const list = new BlockList();
  const ipv6: Array<[string, number]> = [
    ['64:ff9b:1::', 48], // local-use NAT64
    ['100::', 64], // discard-only
    ['2001::', 32], // Teredo (embeds an obfuscated IPv4)
    ['2001:db8::', 32], // documentation
    ['fc00::', 7], // unique local (AWS metadata fd00:ec2::254)
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
  ];
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

function ipv6Bytes(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    tail.push(...dotted[1].split('.').map(Number));
    text = `${text.slice(0, -dotted[1].length)}0:0`;
  }
  const [headText = '', tailText] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const headGroups = parse(headText);
  const tailGroups = tailText === undefined ? [] : parse(tailText);
  const fill = 8 - headGroups.length - tailGroups.length;
  if (fill < 0 || (tailText === undefined && fill !== 0)) return undefined;
  const groups = [...headGroups, ...new Array<number>(fill).fill(0), ...tailGroups];
  const bytes = groups.flatMap((group) => [(group >> 8) & 0xff, group & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 && bytes.every((byte) => Number.isInteger(byte)) ? bytes : undefined;
}

export interface GuardedAgentOptions {
  /** Allow loopback, private, link-local and other internal addresses. Default false. */
  allowPrivateNetwork?: boolean;
  /** DNS resolution to wrap (tests, split-horizon DNS); each answer is checked. */
  lookup?: LookupFunction;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Default 4 s. */
  keepAliveTimeoutMs?: number;
  /** Names, in the refusal's message, what may not reach the address (`media URLs`). */
  purpose?: string;
}

/**
 * An undici `Agent` that will not connect to loopback, private, link-local or other internal
 * addresses (unless allowed): every address a connection is about to use is checked inside that
 * connection's own DNS lookup, so DNS rebinding cannot slip past a pre-check. For hosts that end
 * users choose (media URLs, a Bluesky PDS named in a DID document). A refused connection fails
 * with an error whose `code` is `ELETMEPOST_BLOCKED_ADDRESS` (see `findBlockedAddressError`).
 * Literal IP hosts never reach a lookup, so callers check those themselves (`isBlockedAddress`).
 */
export function createGuardedAgent(options: GuardedAgentOptions = {}): Agent {
  const lookup = options.allowPrivateNetwork === true ? options.lookup : guardedLookup({ base: options.lookup ?? dnsLookup, purpose: options.purpose ?? 'letmepost' });
  return new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 10_000, ...(lookup === undefined ? {} : { lookup }) },
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
  });
}

/** The refusal, when an error (or one of its causes) is a connection `createGuardedAgent` refused. */
export function findBlockedAddressError(error: unknown): Error | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if ((current as NodeJS.ErrnoException).code === BLOCKED_ADDRESS_CODE) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * Wraps a DNS lookup so that a connection can only be made to addresses that pass the check.
 * It runs for every connection undici opens, redirects and reconnects included.
 */
function guardedLookup(fields: { base: LookupFunction | typeof dnsLookup; purpose: string }): LookupFunction {
  const { base, purpose } = fields;
  return ((hostname: string, lookupOptions: Parameters<LookupFunction>[1], callback: Parameters<LookupFunction>[2]) => {
    (base as LookupFunction)(hostname, lookupOptions, (error, address, family) => {
      if (error) {
        callback(error, address, family);
        return;
      }
      const addresses: LookupAddress[] = Array.isArray(address)
        ? (address as LookupAddress[])
        : [{ address: address as string, family: typeof family === 'number' ? family : isIP(address as string) }];
      const blocked = addresses.find((entry) => isBlockedAddress(entry.address));
      if (blocked || addresses.length === 0) {
        const refusal = Object.assign(
          new Error(`${hostname} resolves to ${blocked ? `${blocked.address}, a private or internal address,` : 'no address,'} which ${purpose} may not reach`),
          { code: BLOCKED_ADDRESS_CODE, hostname },
        ) as NodeJS.ErrnoException;
        callback(refusal, '', 4);
        return;
      }
      callback(null, address, family);
    });
  }) as LookupFunction;
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
  if (isIP(host) !== 0 && isBlockedAddress(host)) {
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
  const code = findCode(error);
  if (code === BLOCKED_ADDRESS_CODE) {
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
  const reason = (code && reasons[code]) ?? 'the download failed';
  return fields.fail({
    code: 'media_unreachable',
    message: `${describeUrl(url)} could not be downloaded: ${reason}.`,
    retryable: code !== 'ENOTFOUND',
    cause: error,
  });
}

/** The connect error may be wrapped (undici, AggregateError from happy eyeballs). */
function findCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (current as { errors?: unknown[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = errors.map((item) => findCode(item)).find((item) => item !== undefined);
      if (inner) return inner;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
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
