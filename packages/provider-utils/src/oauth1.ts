import { createBoundedCache, nodeCrypto } from '@letmepost/core/internal';
import { Buffer } from 'node:buffer';

/** OAuth 1.0a client (consumer) and user (token) credentials. */
export interface OAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  /** Absent for the temporary-credentials (request token) step. */
  token?: string;
  tokenSecret?: string;
}

/** Name/value pairs; a list keeps repeated names (`a=1&a=2`), which RFC 5849 signs separately. */
export type OAuth1Parameters = Record<string, string> | ReadonlyArray<readonly [string, string]>;

export interface OAuth1SignatureOptions {
  method: string;
  url: string | URL;
  credentials: OAuth1Credentials;
  /**
   * Every `oauth_*` protocol parameter that is sent (consumer key, token, nonce, timestamp,
   * signature method, version, callback...). `oauth_signature` and `realm` are ignored.
   */
  oauthParameters: OAuth1Parameters;
  /**
   * Decoded `application/x-www-form-urlencoded` body parameters. Only form bodies are signed
   * (RFC 5849 section 3.4.1.3.1); JSON and multipart bodies are not, so do not pass them.
   */
  bodyParameters?: OAuth1Parameters;
}

export interface OAuth1AuthorizationHeaderOptions {
  method: string;
  url: string | URL;
  credentials: OAuth1Credentials;
  bodyParameters?: OAuth1Parameters;
  /** Fixed nonce, for reproducible tests; default: 128 random bits as 32 hexadecimal characters. */
  nonce?: string;
  /** Epoch seconds; default: now. */
  timestamp?: number;
  /** Further protocol parameters, e.g. `oauth_callback` or `oauth_verifier`. */
  extraOAuthParameters?: Record<string, string>;
  /** Emitted first, as RFC 5849 section 3.5.1 allows; never signed. */
  realm?: string;
}

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/**
 * Percent-encoding of RFC 5849 section 3.6: everything but the RFC 3986 unreserved characters,
 * with uppercase hex. `encodeURIComponent` leaves `!*'()` alone, so they are fixed up here.
 */
export function oauth1PercentEncode(value: string): string {
  // Most values (keys, tokens, nonces, timestamps) are unreserved characters only: returned as
  // they are, without building two new strings per parameter on every signed request.
  if (UNRESERVED_ONLY.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) =>
    `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The signature base string of RFC 5849 section 3.4.1. */
export function oauth1SignatureBaseString(options: Omit<OAuth1SignatureOptions, 'credentials'>): string {
  const protocol = toPairs(options.oauthParameters).map(([name, value]): EncodedPair => [oauth1PercentEncode(name), oauth1PercentEncode(value)]);
  return signatureBaseString({ method: options.method, url: options.url, protocol, bodyParameters: options.bodyParameters });
}

/**
 * The base string from the request's query, its protocol parameters (already percent-encoded;
 * `oauth_signature` and `realm` are left out) and its form body parameters.
 */
function signatureBaseString(options: {
  method: string;
  url: string | URL;
  protocol: readonly EncodedPair[];
  bodyParameters: OAuth1Parameters | undefined;
}): string {
  // Only read here, so a URL the caller already parsed is used as it is.
  const url = typeof options.url === 'string' ? new URL(options.url) : options.url;
  const pairs: EncodedPair[] = [];
  const add = (name: string, value: string): void => {
    pairs.push([oauth1PercentEncode(name), oauth1PercentEncode(value)]);
  };
  // `searchParams` is only built when there is a query.
  if (url.search !== '') for (const [name, value] of url.searchParams) add(name, value);
  for (const pair of options.protocol) if (pair[0] !== 'oauth_signature' && pair[0] !== 'realm') pairs.push(pair);
  if (options.bodyParameters) for (const [name, value] of toPairs(options.bodyParameters)) add(name, value);
  return baseStringFromEncodedPairs({ method: options.method, url, pairs });
}

type EncodedPair = readonly [name: string, value: string];

/**
 * The base string from parameters that are already percent-encoded. Encoding the normalized
 * parameter string again only has to turn `%`, `=` and `&` into `%25`, `%3D` and `%26`: every
 * other character of an encoded pair is unreserved. Doing that per pair spares encoding the
 * whole string (and a regular-expression pass over it) on every signed request.
 */
function baseStringFromEncodedPairs(options: { method: string; url: URL; pairs: EncodedPair[] }): string {
  const { pairs } = options;
  pairs.sort(compareEncodedPairs);
  let normalized = '';
  for (let index = 0; index < pairs.length; index += 1) {
    const [name, value] = pairs[index] as EncodedPair;
    normalized += `${index === 0 ? '' : '%26'}${escapePercent(name)}%3D${escapePercent(value)}`;
  }
  return `${options.method.toUpperCase()}&${encodedBaseStringUri(options.url)}&${normalized}`;
}

function escapePercent(encoded: string): string {
  return encoded.includes('%') ? encoded.replaceAll('%', '%25') : encoded;
}

/** By encoded name, then by encoded value (RFC 5849 section 3.4.1.3.2). */
function compareEncodedPairs(left: EncodedPair, right: EncodedPair): number {
  return left[0] === right[0] ? compareBytes(left[1], right[1]) : compareBytes(left[0], right[0]);
}

/** HMAC-SHA1 signature (RFC 5849 section 3.4.2), base64. */
export function oauth1Signature(options: OAuth1SignatureOptions): string {
  return hmacSha1({ credentials: options.credentials, baseString: oauth1SignatureBaseString(options) });
}

function hmacSha1(options: { credentials: OAuth1Credentials; baseString: string }): string {
  const { credentials } = options;
  const key = `${oauth1PercentEncode(credentials.consumerSecret)}&${oauth1PercentEncode(credentials.tokenSecret ?? '')}`;
  return nodeCrypto().createHmac('sha1', key).update(options.baseString).digest('base64');
}

// The protocol parameters every header carries, by name already sorted: they are unreserved
// characters only, so their encoded form is their own.
const SIGNATURE_METHOD = 'HMAC-SHA1';
const VERSION = '1.0';

/** A complete `Authorization: OAuth ...` header value for one request. */
export function oauth1AuthorizationHeader(options: OAuth1AuthorizationHeaderOptions): string {
  const { credentials } = options;
  // Name and value as sent (percent-encoded), built once and used for both the base string and
  // the header.
  const protocol: EncodedPair[] = [
    ['oauth_consumer_key', oauth1PercentEncode(credentials.consumerKey)],
    ['oauth_nonce', oauth1PercentEncode(options.nonce ?? randomNonce())],
    ['oauth_signature_method', SIGNATURE_METHOD],
    ['oauth_timestamp', String(options.timestamp ?? Math.floor(Date.now() / 1000))],
    ['oauth_version', VERSION],
  ];
  if (credentials.token !== undefined) protocol.push(['oauth_token', oauth1PercentEncode(credentials.token)]);
  const extra = options.extraOAuthParameters;
  if (extra !== undefined) {
    for (const name in extra) {
      const encodedName = oauth1PercentEncode(name);
      const value = oauth1PercentEncode(extra[name] as string);
      // A later value for the same name replaces the earlier one, as the object spread did.
      const existing = protocol.findIndex(([known]) => known === encodedName);
      if (existing === -1) protocol.push([encodedName, value]);
      else protocol[existing] = [encodedName, value];
    }
  }

  const baseString = signatureBaseString({ method: options.method, url: options.url, protocol, bodyParameters: options.bodyParameters });
  const signature = hmacSha1({ credentials, baseString });

  const fields = protocol.filter(([name]) => name !== 'oauth_signature');
  fields.push(['oauth_signature', oauth1PercentEncode(signature)]);
  fields.sort(compareFirst);
  let header = options.realm === undefined ? 'OAuth ' : `OAuth realm="${options.realm.replace(/["\\]/g, '')}", `;
  for (let index = 0; index < fields.length; index += 1) {
    const [name, value] = fields[index] as EncodedPair;
    header += `${index === 0 ? '' : ', '}${name}="${value}"`;
  }
  return header;
}

function compareFirst(left: EncodedPair, right: EncodedPair): number {
  return compareBytes(left[0], right[0]);
}

function toPairs(parameters: OAuth1Parameters): ReadonlyArray<readonly [string, string]> {
  return Array.isArray(parameters)
    ? (parameters as ReadonlyArray<readonly [string, string]>)
    : Object.entries(parameters as Record<string, string>);
}

// RFC 5849 section 3.4.1.2: scheme and host lowercase, default ports dropped, no query/fragment.
// WHATWG URL already lowercases scheme and host and drops default ports. A client signs for a
// handful of endpoints, so their encoded form is kept (bounded).
const encodedUris = createBoundedCache<string, string>({ max: 256 });

function encodedBaseStringUri(url: URL): string {
  const uri = `${url.protocol}//${url.host}${url.pathname}`;
  let encoded = encodedUris.get(uri);
  if (encoded === undefined) {
    encoded = oauth1PercentEncode(uri);
    encodedUris.set(uri, encoded);
  }
  return encoded;
}

// Parameters are sorted by byte value of their encoded form; after percent-encoding every
// character is ASCII, so code-unit order is byte order.
function compareBytes(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

// Nonces are cut from a pool of random bytes filled 128 nonces at a time: one call into the
// CSPRNG per 128 signed requests instead of one each. Every byte is used once.
const NONCE_BYTES = 16;
const noncePool = Buffer.alloc(NONCE_BYTES * 128);
let noncePoolOffset = noncePool.length;

/** 32 hexadecimal characters (128 random bits): alphanumeric, so never percent-encoded. */
function randomNonce(): string {
  if (noncePoolOffset === noncePool.length) {
    nodeCrypto().randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.toString('hex', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}
