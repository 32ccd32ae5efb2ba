import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * An OAuth 1.0a user-context credential set the emulated X knows: the app's consumer key and
 * secret plus one user's access token and secret, as on the app's "Keys and tokens" page.
 */
export interface SandboxOAuth1Credentials {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
  /** The X user the access token belongs to. */
  userId: string;
}

/** RFC 5849 3.6: RFC 3986 unreserved characters stay, everything else is %XX in upper case. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Parses an `Authorization: OAuth ...` header (RFC 5849 3.5.1). Returns undefined for anything
 * malformed; repeated parameters are malformed too.
 */
export function parseOAuthHeader(header: string): Map<string, string> | undefined {
  const match = /^OAuth\s+(.*)$/is.exec(header.trim());
  if (!match) return undefined;
  const parameters = new Map<string, string>();
  const pattern = /\s*([A-Za-z0-9_.~%-]+)\s*=\s*"([^"]*)"\s*(?:,|$)/gy;
  const body = match[1]!;
  let consumed = 0;
  for (let found = pattern.exec(body); found; found = pattern.exec(body)) {
    const key = decodeURIComponent(found[1]!);
    if (key === 'realm') {
      consumed = pattern.lastIndex;
      continue;
    }
    if (parameters.has(key)) return undefined;
    try {
      parameters.set(key, decodeURIComponent(found[2]!));
    } catch {
      return undefined;
    }
    consumed = pattern.lastIndex;
  }
  if (body.slice(consumed).trim() !== '') return undefined;
  return parameters;
}

/**
 * The signature base string of RFC 5849 3.4.1, written from the RFC rather than from the
 * client's signer: the sandbox must catch a client bug, not share it.
 */
export function signatureBaseString(options: {
  method: string;
  url: URL;
  oauthParameters: Map<string, string>;
  /** Decoded `application/x-www-form-urlencoded` body parameters; JSON and multipart bodies are not signed. */
  formParameters?: Array<[string, string]>;
}): string {
  const { url } = options;
  // 3.4.1.2: scheme and host in lower case, the default port left out, no query or fragment.
  const defaultPort = (url.protocol === 'http:' && url.port === '80') || (url.protocol === 'https:' && url.port === '443');
  const authority = `${url.hostname.toLowerCase()}${url.port && !defaultPort ? `:${url.port}` : ''}`;
  const baseUri = `${url.protocol.toLowerCase()}//${authority}${url.pathname}`;
  const pairs: Array<[string, string]> = [];
  for (const [key, value] of url.searchParams) pairs.push([key, value]);
  for (const [key, value] of options.oauthParameters) if (key !== 'oauth_signature') pairs.push([key, value]);
  for (const pair of options.formParameters ?? []) pairs.push(pair);
  // 3.4.1.3.2: encode, then sort by name and value as byte strings.
  const encoded = pairs.map(([key, value]) => [percentEncode(key), percentEncode(value)] as const);
  encoded.sort(([leftKey, leftValue], [rightKey, rightValue]) =>
    leftKey < rightKey ? -1 : leftKey > rightKey ? 1 : leftValue < rightValue ? -1 : leftValue > rightValue ? 1 : 0,
  );
  const parameterString = encoded.map(([key, value]) => `${key}=${value}`).join('&');
  return `${options.method.toUpperCase()}&${percentEncode(baseUri)}&${percentEncode(parameterString)}`;
}

export function hmacSha1Signature(options: { baseString: string; consumerSecret: string; tokenSecret: string }): string {
  const key = `${percentEncode(options.consumerSecret)}&${percentEncode(options.tokenSecret)}`;
  return createHmac('sha1', key).update(options.baseString).digest('base64');
}

export type OAuth1Verification =
  | { ok: true; credentials: SandboxOAuth1Credentials }
  | { ok: false; reason: 'malformed' | 'unknown_consumer' | 'unknown_token' | 'unsupported_method' | 'stale_timestamp' | 'nonce_reused' | 'bad_signature' };

/**
 * Verifies an HMAC-SHA1 signed request against the registered credentials: known consumer and
 * token, a timestamp within the window, a nonce not seen with that timestamp, and the signature.
 */
export function createOAuth1Verifier(options: {
  credentials: () => readonly SandboxOAuth1Credentials[];
  now: () => number;
  /** How far `oauth_timestamp` may be from the server clock, in seconds. */
  timestampWindowSeconds?: number;
}) {
  const window = options.timestampWindowSeconds ?? 300;
  const seenNonces = new Map<string, number>();
  let lastPrunedAt: number | undefined;

  return function verify(request: { method: string; url: URL; authorization: string; formParameters?: Array<[string, string]> }): OAuth1Verification {
    const parameters = parseOAuthHeader(request.authorization);
    if (!parameters) return { ok: false, reason: 'malformed' };
    const consumerKey = parameters.get('oauth_consumer_key');
    const token = parameters.get('oauth_token');
    const signature = parameters.get('oauth_signature');
    const timestamp = parameters.get('oauth_timestamp');
    const nonce = parameters.get('oauth_nonce');
    if (!consumerKey || !token || !signature || !timestamp || !nonce) return { ok: false, reason: 'malformed' };
    const version = parameters.get('oauth_version');
    if (version !== undefined && version !== '1.0') return { ok: false, reason: 'malformed' };
    if (parameters.get('oauth_signature_method') !== 'HMAC-SHA1') return { ok: false, reason: 'unsupported_method' };
    const registered = options.credentials();
    if (!registered.some((candidate) => candidate.consumerKey === consumerKey)) return { ok: false, reason: 'unknown_consumer' };
    const credentials = registered.find((candidate) => candidate.consumerKey === consumerKey && candidate.accessToken === token);
    if (!credentials) return { ok: false, reason: 'unknown_token' };
    const nowSeconds = Math.floor(options.now() / 1000);
    if (!/^\d+$/.test(timestamp) || Math.abs(Number(timestamp) - nowSeconds) > window) return { ok: false, reason: 'stale_timestamp' };
    const expected = hmacSha1Signature({
      baseString: signatureBaseString({
        method: request.method,
        url: request.url,
        oauthParameters: parameters,
        ...(request.formParameters ? { formParameters: request.formParameters } : {}),
      }),
      consumerSecret: credentials.consumerSecret,
      tokenSecret: credentials.accessTokenSecret,
    });
    const given = Buffer.from(signature);
    const wanted = Buffer.from(expected);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { ok: false, reason: 'bad_signature' };
    // RFC 5849 3.3: a nonce is unique per consumer, token and timestamp. Checked after the
    // signature so a forged request cannot burn a legitimate nonce.
    const nonceKey = `${consumerKey}\u0000${token}\u0000${timestamp}\u0000${nonce}`;
    if (seenNonces.has(nonceKey)) return { ok: false, reason: 'nonce_reused' };
    seenNonces.set(nonceKey, nowSeconds);
    // Forgetting old nonces walks every one remembered: done once a second at most, not per
    // request, so a client sending thousands of signed requests is not slowed by the server.
    if (nowSeconds !== lastPrunedAt) {
      lastPrunedAt = nowSeconds;
      for (const [key, seenAt] of seenNonces) if (seenAt < nowSeconds - 2 * window) seenNonces.delete(key);
    }
    return { ok: true, credentials };
  };
}
