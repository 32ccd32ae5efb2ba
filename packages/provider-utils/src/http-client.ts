import { LetmepostError, getPublishContext, systemClock, type Clock, type PlatformId } from '@letmepost/core';
import { Buffer } from 'node:buffer';
import { FormData as UndiciFormData, request as undiciRequest, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { getSharedAgent } from './agent.js';
import { createDispatchState, trackingDispatcher, withDispatchState } from './dispatch-tracking.js';
import { oauth1AuthorizationHeader, type OAuth1Credentials } from './oauth1.js';
import { parseRateLimit, type RateLimitInfo } from './rate-limit.js';
import { bodyForError, platformName, reissueError, safeUrlForMessage } from './http-error.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpTimeouts {
  /** TCP + TLS handshake. Default 10 s. Set on the shared pool; an injected dispatcher keeps its own. */
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
  /** Node's global `FormData` or undici's; the multipart boundary is generated. */
  | { multipart: FormData | UndiciFormData }
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

const DEFAULT_TIMEOUTS = { connectMs: 10_000, headersMs: 30_000, bodyMs: 30_000 } as const;
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const DEFAULT_RETRY = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 } as const;
const DEFAULT_USER_AGENT = 'letmepost (+https://github.com/letmepost/letmepost)';
/** Answers after which a safe/idempotent request is repeated. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** Answers after which a create may or may not have happened (a gateway or the app gave up). */
const AMBIGUOUS_STATUSES: ReadonlySet<number> = new Set([500, 502, 504]);

/**
 * Creates the HTTP client a provider uses for every platform call.
 *
 * Failure semantics, in one place:
 * - Nothing sent yet (DNS, refused, connect timeout, TLS handshake): retried for every mode;
 *   when attempts run out → `platform_unavailable` (retryable).
 * - Sent, then the connection broke or timed out: `safe`/`idempotent` are retried; a `create`
 *   → `publish_outcome_unknown` (retryable: false), and is never re-sent.
 * - Non-2xx: the provider's `mapError`, else `defaultErrorForStatus`. 408/429/5xx are retried for
 *   `safe`/`idempotent` (honouring `Retry-After`/reset headers up to `maxDelayMs`); a `create`
 *   answered 500/502/504 → `publish_outcome_unknown` unless `mapError` recognised a definite error.
 * - Aborted through `signal` before anything was sent → `platform_unavailable` (retryable, the
 *   message says it was aborted); after a `create` was sent → `publish_outcome_unknown`.
 * - A write while a dry run is active → `not_supported` (rule `http.dry_run_write`), nothing sent.
 */
export function createHttpClient(settings: HttpClientSettings): HttpClient {
  const clock = settings.clock ?? systemClock;
  const platform = settings.platform;
  const retrySettings = {
    maxAttempts: Math.max(1, settings.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
    baseDelayMs: settings.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    maxDelayMs: settings.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    random: settings.retry?.random ?? Math.random,
    sleep: settings.retry?.sleep ?? abortableSleep,
  };

  async function request(options: HttpRawRequestOptions): Promise<HttpResponse> {
    const method = options.method;
    const retryMode: HttpRetryMode = options.retry ?? (method === 'GET' || method === 'HEAD' ? 'safe' : 'create');
    const isWrite = options.isWrite ?? !(method === 'GET' || method === 'HEAD');
    const url = buildUrl(options);
    const knownSecrets = collectSecrets(options);
    const where = `${method} ${safeUrlForMessage(url)}`;
    const makeError = (fields: Omit<ConstructorParameters<typeof LetmepostError>[0], 'platform' | 'knownSecrets'>) =>
      new LetmepostError({ ...fields, platform, knownSecrets });

    if (isWrite && getPublishContext()?.dryRun) {
      throw makeError({
        code: 'not_supported',
        message: `Refused to send ${where}: a dry run is active, and this request could write.`,
        rule: 'http.dry_run_write',
        retryable: false,
        remediation: 'Dry runs only validate; publish without dryRun to send.',
      });
    }

    const timeouts = { ...DEFAULT_TIMEOUTS, ...settings.timeouts, ...options.timeouts };
    const maxResponseBytes = options.maxResponseBytes ?? settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const dispatcher = trackingDispatcher(settings.dispatcher ?? getSharedAgent({ connectTimeoutMs: timeouts.connectMs }));
    const prepared = prepareBody(options.body);

    for (let attempt = 1; ; attempt += 1) {
      if (options.signal?.aborted) throw abortedError({ sent: false });
      const state = createDispatchState();
      const headers = buildHeaders({
        options,
        body: prepared,
        url,
        method,
        clientHeaders: settings.headers,
        userAgent: settings.userAgent ?? DEFAULT_USER_AGENT,
      });
      let response: Dispatcher.ResponseData<unknown>;
      try {
        response = await undiciRequest(
          url.href,
          withDispatchState(
            {
              method,
              headers,
              body: prepared.next(),
              dispatcher,
              signal: options.signal,
              headersTimeout: timeouts.headersMs,
              bodyTimeout: timeouts.bodyMs,
            } as Parameters<typeof undiciRequest>[1] & object,
            state,
          ),
        );
      } catch (error) {
        // Nothing reached a socket unless undici started writing this request.
        const sent = state.started;
        if (options.signal?.aborted) throw abortedError({ sent, cause: error });
        if (!sent && isProgrammingError(error)) {
          throw makeError({
            code: 'validation_failed',
            message: `${where} could not be sent: ${error instanceof Error ? error.message : String(error)}`,
            retryable: false,
            cause: error,
          });
        }
        const canRepeat = !sent || retryMode !== 'create';
        if (canRepeat && attempt < retrySettings.maxAttempts && prepared.replayable()) {
          await waitBeforeRetry({ attempt });
          continue;
        }
        throw networkError({ error, sent });
      }

      const responseHeaders = normalizeHeaders(response.headers);
      const rateLimit = parseRateLimit({ headers: responseHeaders, now: clock.now() });
      const status = response.statusCode;
      const accepted = (status >= 200 && status < 300) || options.acceptStatus?.(status) === true;

      let body: Uint8Array;
      try {
        body = await readCapped({ body: response.body, maxBytes: maxResponseBytes, declaredLength: responseHeaders['content-length'] });
      } catch (error) {
        if (options.signal?.aborted) throw abortedError({ sent: true, cause: error });
        if (error instanceof ResponseTooLargeError) {
          throw makeError({
            code: accepted && retryMode === 'create' ? 'publish_outcome_unknown' : 'platform_unavailable',
            message: `${platformName(platform)} answered ${status} to ${where} with a body larger than ${maxResponseBytes} bytes; it was not read.`,
            status,
            retryable: false,
            cause: error,
          });
        }
        // The status line arrived, so the request was processed; only its answer was lost.
        if (retryMode !== 'create' && attempt < retrySettings.maxAttempts) {
          await waitBeforeRetry({ attempt });
          continue;
        }
        if (accepted || AMBIGUOUS_STATUSES.has(status)) throw networkError({ error, sent: true });
        // The status alone is a definite answer (e.g. 400): map it without the lost body.
        throw defaultErrorForStatus(
          { status, headers: responseHeaders, body: undefined, rateLimit, request: { method, url: safeUrlForMessage(url), retry: retryMode } },
          { platform, knownSecrets },
        );
      }

      if (accepted) return makeResponse({ status, headers: responseHeaders, body, rateLimit, platform, knownSecrets });

      const errorRateLimit = status === 429 ? withResetAsRetryAfter({ rateLimit, now: clock.now() }) : rateLimit;
      const errorResponse: HttpErrorResponse = {
        status,
        headers: responseHeaders,
        body: parseErrorBody({ body, contentType: responseHeaders['content-type'] }),
        rateLimit: errorRateLimit,
        request: { method, url: safeUrlForMessage(url), retry: retryMode },
      };
      const retryAfterMs = errorRateLimit.retryAfterMs;
      if (retryMode !== 'create' && RETRYABLE_STATUSES.has(status) && attempt < retrySettings.maxAttempts && prepared.replayable()) {
        if (retryAfterMs === undefined || retryAfterMs <= retrySettings.maxDelayMs) {
          await waitBeforeRetry({ attempt, atLeastMs: retryAfterMs });
          continue;
        }
      }

      const mapped = settings.mapError?.(errorResponse);
      const error = mapped
        ? reissueError({ error: mapped, platform, knownSecrets })
        : defaultErrorForStatus(errorResponse, { platform, knownSecrets });
      if (retryMode === 'create' && AMBIGUOUS_STATUSES.has(status) && (mapped === undefined || mapped.code === 'platform_unavailable')) {
        throw makeError({
          code: 'publish_outcome_unknown',
          message: `${platformName(platform)} answered ${status} to ${where}; the post may or may not have been created, so it was not sent again.`,
          status,
          retryable: false,
          platformResponse: { status, body: errorResponse.body },
          remediation: 'Check the account for the post before publishing it again.',
          cause: error,
        });
      }
      throw error;
    }

    function abortedError(fields: { sent: boolean; cause?: unknown }): LetmepostError {
      if (fields.sent && retryMode === 'create') {
        return makeError({
          code: 'publish_outcome_unknown',
          message: `${where} was aborted by the caller after it was sent; the platform may have processed it.`,
          retryable: false,
          remediation: 'Check the account for the post before publishing it again.',
          cause: fields.cause ?? options.signal?.reason,
        });
      }
      return makeError({
        code: 'platform_unavailable',
        message: `${where} was aborted by the caller ${fields.sent ? 'while waiting for the answer' : 'before it was sent'}.`,
        retryable: true,
        cause: fields.cause ?? options.signal?.reason,
      });
    }

    function networkError(fields: { error: unknown; sent: boolean }): LetmepostError {
      const description = describeNetworkError(fields.error);
      if (fields.sent && retryMode === 'create') {
        return makeError({
          code: 'publish_outcome_unknown',
          message: `${where} failed after it was sent (${description}); the post may or may not have been created, so it was not sent again.`,
          retryable: false,
          remediation: 'Check the account for the post before publishing it again.',
          cause: fields.error,
        });
      }
      return makeError({
        code: 'platform_unavailable',
        message: `${platformName(platform)} could not be reached for ${where} (${description}).`,
        retryable: true,
        cause: fields.error,
      });
    }

    async function waitBeforeRetry(fields: { attempt: number; atLeastMs?: number }): Promise<void> {
      const ceiling = Math.min(retrySettings.maxDelayMs, retrySettings.baseDelayMs * 2 ** (fields.attempt - 1));
      const jittered = Math.floor(retrySettings.random() * ceiling);
      const ms = Math.max(jittered, fields.atLeastMs ?? 0);
      try {
        await retrySettings.sleep({ ms, signal: options.signal });
      } catch (error) {
        throw abortedError({ sent: false, cause: error });
      }
    }
  }

  async function json<T>(options: HttpJsonRequestOptions<T>): Promise<{ value: T; response: HttpResponse }> {
    const { schema, ...requestOptions } = options;
    const response = await request({
      ...requestOptions,
      headers: { accept: 'application/json', ...requestOptions.headers },
    });
    // A 2xx the client cannot read: for a create the post probably exists but its id is lost.
    const unreadable = (problem: string, cause?: unknown) => {
      const retryMode = options.retry ?? (options.method === 'GET' || options.method === 'HEAD' ? 'safe' : 'create');
      const where = `${options.method} ${safeUrlForMessage(buildUrl(options))}`;
      return new LetmepostError({
        code: retryMode === 'create' ? 'publish_outcome_unknown' : 'platform_unavailable',
        message: `${platformName(platform)} answered ${response.status} to ${where} with ${problem}`,
        platform,
        status: response.status,
        retryable: false,
        knownSecrets: collectSecrets(options),
        platformResponse: { status: response.status, body: bodyForError(response.text()) },
        cause,
      });
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.text());
    } catch (error) {
      throw unreadable('a body that is not JSON.', error);
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issues = result.error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
        .join('; ');
      throw unreadable(`JSON of an unexpected shape: ${issues}.`, result.error);
    }
    return { value: result.data, response };
  }

  return { platform, request, json };
}

/**
 * The fallback status mapping used when a provider's `mapError` has nothing better: 400
 * `platform_rejected`, 401 `auth_expired`, 403 `permission_denied`, 404 `not_found`, 413/415
 * `media_invalid`, 429 `rate_limited` (with `retryAfterMs`), 5xx and 408 `platform_unavailable`,
 * anything else `platform_rejected`.
 */
export function defaultErrorForStatus(
  response: HttpErrorResponse,
  context: { platform?: PlatformId; knownSecrets?: readonly string[] } = {},
): LetmepostError {
  const { status } = response;
  const name = platformName(context.platform);
  const detail = extractMessage(response.body);
  const where = `${response.request.method} ${response.request.url}`;
  const suffix = detail ? `: ${detail}` : '.';
  const common = {
    status,
    platform: context.platform,
    knownSecrets: context.knownSecrets,
    platformResponse: { status, body: response.body },
  };
  if (status === 401) {
    return new LetmepostError({
      ...common,
      code: 'auth_expired',
      message: `${name} refused the credentials for ${where} (401)${suffix}`,
      remediation: 'Refresh the access token, or reconnect the account if refreshing fails.',
    });
  }
  if (status === 403) {
    return new LetmepostError({
      ...common,
      code: 'permission_denied',
      message: `${name} denied ${where} (403)${suffix}`,
      remediation: 'Check the scopes granted and the account’s permissions on the platform.',
    });
  }
  if (status === 404) {
    return new LetmepostError({ ...common, code: 'not_found', message: `${name} found nothing at ${where} (404)${suffix}` });
  }
  if (status === 413 || status === 415) {
    return new LetmepostError({
      ...common,
      code: 'media_invalid',
      message: `${name} refused the content of ${where} (${status} ${status === 413 ? 'too large' : 'unsupported type'})${suffix}`,
    });
  }
  if (status === 429) {
    const retryAfterMs = response.rateLimit.retryAfterMs;
    return new LetmepostError({
      ...common,
      code: 'rate_limited',
      message: `${name} rate-limited ${where} (429)${retryAfterMs === undefined ? '' : `; retry in ${Math.ceil(retryAfterMs / 1000)} s`}${suffix}`,
      retryAfterMs,
    });
  }
  if (status >= 500 || status === 408) {
    return new LetmepostError({
      ...common,
      code: 'platform_unavailable',
      message: `${name} failed to answer ${where} (${status})${suffix}`,
      retryAfterMs: response.rateLimit.retryAfterMs,
    });
  }
  return new LetmepostError({
    ...common,
    code: 'platform_rejected',
    message: `${name} rejected ${where} (${status})${suffix}`,
  });
}

// ---- internals -------------------------------------------------------------------------------

class ResponseTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`response body exceeds ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

interface PreparedBody {
  contentType?: string;
  contentLength?: number;
  /** Form parameters, signed by OAuth 1.0a. */
  formParameters?: Record<string, string>;
  /** The body for the next attempt. */
  next(): Dispatcher.DispatchOptions['body'];
  /** Whether another attempt can send the body again (a stream already read cannot). */
  replayable(): boolean;
}

function prepareBody(body: HttpBody | undefined): PreparedBody {
  if (body === undefined) return { next: () => null, replayable: () => true };
  if ('json' in body) {
    const text = JSON.stringify(body.json);
    return { contentType: 'application/json', next: () => text, replayable: () => true };
  }
  if ('form' in body) {
    const text = new URLSearchParams(body.form).toString();
    return {
      contentType: 'application/x-www-form-urlencoded',
      formParameters: body.form,
      next: () => text,
      replayable: () => true,
    };
  }
  if ('multipart' in body) {
    // undici only serialises its own FormData class, and Node's global one is a different copy;
    // entries (strings, Blobs, Files) are carried over by reference, nothing is read here.
    // undici then sets the multipart content type with its boundary.
    const form = toUndiciFormData(body.multipart);
    return { next: () => form as unknown as Dispatcher.DispatchOptions['body'], replayable: () => true };
  }
  if ('bytes' in body) {
    return { contentType: body.contentType, next: () => body.bytes, replayable: () => true };
  }
  let consumed = false;
  const source = body.stream;
  return {
    contentType: body.contentType,
    ...(body.length === undefined ? {} : { contentLength: body.length }),
    next: () =>
      (async function* tracked() {
        consumed = true;
        yield* source;
      })() as unknown as Dispatcher.DispatchOptions['body'],
    replayable: () => !consumed,
  };
}

function toUndiciFormData(form: FormData | UndiciFormData): UndiciFormData {
  if (form instanceof UndiciFormData) return form;
  const copy = new UndiciFormData();
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') copy.append(name, value);
    else copy.append(name, value, (value as File).name);
  }
  return copy;
}

function buildUrl(options: Pick<HttpRequestOptions, 'url' | 'query'>): URL {
  const url = new URL(options.url);
  if (options.query) {
    for (const [name, value] of Object.entries(options.query)) {
      if (value !== undefined) url.searchParams.append(name, String(value));
    }
  }
  return url;
}

function collectSecrets(options: Pick<HttpRequestOptions, 'auth' | 'secrets'>): string[] {
  const secrets = [...(options.secrets ?? [])];
  const auth = options.auth;
  if (auth) {
    if ('bearer' in auth) secrets.push(auth.bearer);
    else if ('basic' in auth) secrets.push(auth.basic.password, Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64'));
    else {
      secrets.push(auth.oauth1.consumerSecret);
      if (auth.oauth1.tokenSecret) secrets.push(auth.oauth1.tokenSecret);
      if (auth.oauth1.token) secrets.push(auth.oauth1.token);
    }
  }
  return secrets.filter((secret) => secret.length > 0);
}

function buildHeaders(fields: {
  options: HttpRawRequestOptions;
  body: PreparedBody;
  url: URL;
  method: HttpMethod;
  clientHeaders: Record<string, string> | undefined;
  userAgent: string;
}): Record<string, string> {
  const { options, body, url, method } = fields;
  const headers: Record<string, string> = { 'user-agent': fields.userAgent };
  for (const source of [fields.clientHeaders, options.headers]) {
    if (!source) continue;
    for (const [name, value] of Object.entries(source)) headers[name.toLowerCase()] = value;
  }
  if (body.contentType !== undefined && headers['content-type'] === undefined) headers['content-type'] = body.contentType;
  if (body.contentLength !== undefined) headers['content-length'] = String(body.contentLength);
  const auth = options.auth;
  if (auth) {
    if ('bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
    else if ('basic' in auth) {
      headers.authorization = `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}`;
    } else {
      // A fresh nonce and timestamp per attempt: a retried request must not look like a replay.
      headers.authorization = oauth1AuthorizationHeader({
        method,
        url,
        credentials: auth.oauth1,
        ...(body.formParameters === undefined ? {} : { bodyParameters: body.formParameters }),
      });
    }
  }
  return headers;
}

/** undici already lowercases names; only repeated headers (arrays) need joining. */
function normalizeHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  let hasList = false;
  for (const name in raw) {
    if (typeof raw[name] !== 'string') {
      hasList = true;
      break;
    }
  }
  if (!hasList) return raw as Record<string, string>;
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

async function readCapped(fields: {
  body: Dispatcher.ResponseData<unknown>["body"];
  maxBytes: number;
  declaredLength: string | undefined;
}): Promise<Uint8Array> {
  const { body, maxBytes } = fields;
  const declared = fields.declaredLength === undefined ? undefined : Number(fields.declaredLength);
  if (declared !== undefined && Number.isFinite(declared) && declared > maxBytes) {
    discard(body);
    throw new ResponseTooLargeError(maxBytes);
  }
  // Event listeners rather than an async iterator: this runs for every API call, and the
  // iterator's per-chunk promise round trips are measurable next to a loopback request.
  return new Promise<Uint8Array>((resolve, reject) => {
    const pieces: Buffer[] = [];
    let total = 0;
    const onData = (piece: Buffer) => {
      total += piece.byteLength;
      if (total > maxBytes) {
        cleanup();
        discard(body);
        reject(new ResponseTooLargeError(maxBytes));
        return;
      }
      pieces.push(piece);
    };
    const onEnd = () => {
      cleanup();
      resolve(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, total));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

function makeResponse(fields: {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  rateLimit: RateLimitInfo;
  platform: PlatformId;
  knownSecrets: readonly string[];
}): HttpResponse {
  const { body } = fields;
  let text: string | undefined;
  const decode = () => (text ??= Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  return {
    status: fields.status,
    headers: fields.headers,
    body,
    rateLimit: fields.rateLimit,
    text: decode,
    json() {
      try {
        return JSON.parse(decode());
      } catch (error) {
        throw new LetmepostError({
          code: 'platform_unavailable',
          message: `${platformName(fields.platform)} answered ${fields.status} with a body that is not JSON.`,
          platform: fields.platform,
          status: fields.status,
          retryable: false,
          knownSecrets: fields.knownSecrets,
          platformResponse: { status: fields.status, body: bodyForError(decode()) },
          cause: error,
        });
      }
    },
  };
}

function parseErrorBody(fields: { body: Uint8Array; contentType: string | undefined }): unknown {
  const text = Buffer.from(fields.body.buffer, fields.body.byteOffset, fields.body.byteLength).toString('utf8');
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  // Parsed in full for `mapError`, which reads structured fields; errors keep it redacted.
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return bodyForError(text);
}

/** Releases a response body we will not read, without an unhandled 'error' from the abort. */
function discard(body: Dispatcher.ResponseData<unknown>['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** A short human-readable reason from the usual error fields, for messages only. */
function extractMessage(body: unknown): string | undefined {
  const pick = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 300) : undefined;
  if (typeof body === 'string') return pick(body.split('\n')[0]);
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  const nested = record.error;
  return (
    pick(record.error_description) ??
    pick(record.message) ??
    pick(record.detail) ??
    pick(record.title) ??
    (nested !== null && typeof nested === 'object' ? pick((nested as Record<string, unknown>).message) : pick(nested))
  );
}

/**
 * On a 429 without `Retry-After`, the window reset says when to come back. Other statuses keep
 * the reset out of it: X sends its 15-minute window reset on every answer, which says nothing
 * about when a 503 will clear.
 */
function withResetAsRetryAfter(fields: { rateLimit: RateLimitInfo; now: number }): RateLimitInfo {
  const { rateLimit, now } = fields;
  if (rateLimit.retryAfterMs !== undefined || rateLimit.resetAt === undefined) return rateLimit;
  return { ...rateLimit, retryAfterMs: Math.max(0, rateLimit.resetAt - now) };
}

/** undici refusing the request itself (bad header, unsupported body): repeating cannot help. */
function isProgrammingError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED' || error instanceof TypeError;
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const known: Record<string, string> = {
    UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
    UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
    UND_ERR_BODY_TIMEOUT: 'timed out reading the response body',
    UND_ERR_SOCKET: 'connection closed by the other side',
    ECONNRESET: 'connection reset',
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPIPE: 'connection closed while sending',
  };
  if (typeof code === 'string') return known[code] ?? code;
  return error instanceof Error ? error.name : 'network error';
}

async function abortableSleep(options: { ms: number; signal?: AbortSignal }): Promise<void> {
  const { ms, signal } = options;
  if (ms <= 0) return;
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
