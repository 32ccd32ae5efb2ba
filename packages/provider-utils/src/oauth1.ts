import { createHmac, randomFillSync } from 'node:crypto';
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
  // Only read here, so a URL the caller already parsed is used as it is.
  const url = typeof options.url === 'string' ? new URL(options.url) : options.url;
  // Encoded as they are collected; `searchParams` is only built when there is a query.
  const pairs: Array<readonly [string, string]> = [];
  const add = (name: string, value: string): void => {
    pairs.push([oauth1PercentEncode(name), oauth1PercentEncode(value)]);
  };
  if (url.search !== '') for (const [name, value] of url.searchParams) add(name, value);
  for (const [name, value] of toPairs(options.oauthParameters)) {
    if (name === 'oauth_signature' || name === 'realm') continue;
    add(name, value);
  }
  if (options.bodyParameters) for (const [name, value] of toPairs(options.bodyParameters)) add(name, value);
  pairs.sort(compareEncodedPairs);

  let normalized = '';
  for (const [name, value] of pairs) normalized += normalized === '' ? `${name}=${value}` : `&${name}=${value}`;
  return `${options.method.toUpperCase()}&${oauth1PercentEncode(baseStringUri(url))}&${oauth1PercentEncode(normalized)}`;
}

/** By encoded name, then by encoded value (RFC 5849 section 3.4.1.3.2). */
function compareEncodedPairs(left: readonly [string, string], right: readonly [string, string]): number {
  return left[0] === right[0] ? compareBytes(left[1], right[1]) : compareBytes(left[0], right[0]);
}

/** HMAC-SHA1 signature (RFC 5849 section 3.4.2), base64. */
export function oauth1Signature(options: OAuth1SignatureOptions): string {
  const key = `${oauth1PercentEncode(options.credentials.consumerSecret)}&${oauth1PercentEncode(
    options.credentials.tokenSecret ?? '',
  )}`;
  return createHmac('sha1', key).update(oauth1SignatureBaseString(options)).digest('base64');
}

/** A complete `Authorization: OAuth ...` header value for one request. */
export function oauth1AuthorizationHeader(options: OAuth1AuthorizationHeaderOptions): string {
  const oauthParameters: Record<string, string> = {
    oauth_consumer_key: options.credentials.consumerKey,
    oauth_nonce: options.nonce ?? randomNonce(),
    oauth_signature_method: 'HMAC-SHA1',
    oauth_timestamp: String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    oauth_version: '1.0',
    ...(options.credentials.token === undefined ? {} : { oauth_token: options.credentials.token }),
    ...options.extraOAuthParameters,
  };
  const signature = oauth1Signature({
    method: options.method,
    url: options.url,
    credentials: options.credentials,
    oauthParameters,
    ...(options.bodyParameters === undefined ? {} : { bodyParameters: options.bodyParameters }),
  });
  const fields = Object.entries({ ...oauthParameters, oauth_signature: signature })
    .sort(([nameA], [nameB]) => compareBytes(nameA, nameB))
    .map(([name, value]) => `${oauth1PercentEncode(name)}="${oauth1PercentEncode(value)}"`);
  if (options.realm !== undefined) fields.unshift(`realm="${options.realm.replace(/["\\]/g, '')}"`);
  return `OAuth ${fields.join(', ')}`;
}

function toPairs(parameters: OAuth1Parameters): ReadonlyArray<readonly [string, string]> {
  return Array.isArray(parameters)
    ? (parameters as ReadonlyArray<readonly [string, string]>)
    : Object.entries(parameters as Record<string, string>);
}

// RFC 5849 section 3.4.1.2: scheme and host lowercase, default ports dropped, no query/fragment.
function baseStringUri(url: URL): string {
  // WHATWG URL already lowercases scheme and host and drops default ports.
  return `${url.protocol}//${url.host}${url.pathname}`;
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
    randomFillSync(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool.toString('hex', noncePoolOffset, noncePoolOffset + NONCE_BYTES);
  noncePoolOffset += NONCE_BYTES;
  return nonce;
}
