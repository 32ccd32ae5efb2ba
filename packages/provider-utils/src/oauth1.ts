import { createHmac, randomBytes } from 'node:crypto';

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
  /** Fixed nonce, for reproducible tests; default: 32 random bytes, alphanumeric. */
  nonce?: string;
  /** Epoch seconds; default: now. */
  timestamp?: number;
  /** Further protocol parameters, e.g. `oauth_callback` or `oauth_verifier`. */
  extraOAuthParameters?: Record<string, string>;
  /** Emitted first, as RFC 5849 section 3.5.1 allows; never signed. */
  realm?: string;
}

/**
 * Percent-encoding of RFC 5849 section 3.6: everything but the RFC 3986 unreserved characters,
 * with uppercase hex. `encodeURIComponent` leaves `!*'()` alone, so they are fixed up here.
 */
export function oauth1PercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) =>
    `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The signature base string of RFC 5849 section 3.4.1. */
export function oauth1SignatureBaseString(options: Omit<OAuth1SignatureOptions, 'credentials'>): string {
  const url = new URL(options.url);
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of url.searchParams) pairs.push([name, value]);
  for (const [name, value] of toPairs(options.oauthParameters)) {
    if (name === 'oauth_signature' || name === 'realm') continue;
    pairs.push([name, value]);
  }
  if (options.bodyParameters) for (const pair of toPairs(options.bodyParameters)) pairs.push([pair[0], pair[1]]);

  const normalized = pairs
    .map(([name, value]) => [oauth1PercentEncode(name), oauth1PercentEncode(value)] as const)
    .sort(([nameA, valueA], [nameB, valueB]) =>
      nameA === nameB ? compareBytes(valueA, valueB) : compareBytes(nameA, nameB),
    )
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

  return [
    options.method.toUpperCase(),
    oauth1PercentEncode(baseStringUri(url)),
    oauth1PercentEncode(normalized),
  ].join('&');
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

function randomNonce(): string {
  return randomBytes(32).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}
