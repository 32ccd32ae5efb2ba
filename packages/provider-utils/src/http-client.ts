import { LetmepostError, redactStrings, redactThenShorten, systemClock, type Clock, type PlatformId } from '@letmepost/core';
import { createBoundedCache, getPublishContext, sleep } from '@letmepost/core/internal';
import { Buffer } from 'node:buffer';
import type { Dispatcher, FormData as UndiciFormData } from 'undici';
import type { z } from 'zod';
import { getSharedAgent } from './agent.js';
import { loadUndici } from './undici.js';
import { findBlockedAddressError } from './blocked-address.js';
import { oauth1AuthorizationHeader, type OAuth1Credentials } from './oauth1.js';
import { parseRateLimit, type RateLimitInfo } from './rate-limit.js';
import { bodyForError, platformName, reissueError, safeUrlForMessage } from './http-error.js';
import { encodeMultipart, type MultipartPart } from './multipart.js';

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
  /**
   * Looks at every 2xx answer before it is parsed, for platforms that report a failure with a
   * 2xx status (Slack's `{ ok: false }`, some Graph API answers): an error returned is thrown
   * (the platform said the call did not take effect), `undefined` lets the answer through.
   * Receives the answer in `mapError`'s shape, so one `createErrorMapper` table serves both.
   */
  inspectSuccess?: (response: HttpErrorResponse) => LetmepostError | undefined;
  /**
   * For platforms whose hosts end users choose (a Bluesky PDS named in a DID document): the
   * shared pool then refuses loopback, private, link-local and metadata addresses inside each
   * connection's DNS lookup, as `validation_failed` (rule `http.blocked_address`), never retried.
   * An injected `dispatcher` keeps its own rules. Default false.
   */
  refusePrivateAddresses?: boolean;
}

/** A non-2xx answer as handed to `mapError`, or a 2xx one as handed to `inspectSuccess`. */
export interface HttpErrorResponse {
  status: number;
  /** Lowercase names. */
  headers: Record<string, string>;
  /**
   * Parsed JSON when the body is JSON, otherwise the text (possibly truncated). The request's
   * secrets are already masked inside every string, so a mapper may quote and shorten it.
   */
  body: unknown;
  rateLimit: RateLimitInfo;
  request: { method: HttpMethod; url: string; retry: HttpRetryMode };
}

export type HttpBody =
  | { json: unknown }
  | { form: Record<string, string> }
  /**
   * `multipart/form-data`, boundary generated. Prefer parts: they go out with an exact
   * Content-Length and file parts are sent from the caller's bytes without a copy (a `FormData`
   * copies every file into a Blob, then again into the encoded body).
   */
  | { multipart: readonly MultipartPart[] | FormData | UndiciFormData }
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
  /**
   * For the answers a provider reads on every publish (a created post): a direct check of the
   * usual shape, tried before `schema`. It returns exactly what `schema` would give (the same
   * stripped copy), or `undefined` to leave the answer to `schema`, which decides every problem
   * and words its errors. A test must compare the two on generated answers, the way
   * `twitter-api.test.ts` does.
   */
  quickParse?: (value: unknown) => T | undefined;
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
  const client: ClientState = {
    platform: settings.platform,
    clock: settings.clock ?? systemClock,
    dispatcher: settings.dispatcher,
    refusePrivateAddresses: settings.refusePrivateAddresses === true,
    timeouts: { ...DEFAULT_TIMEOUTS, ...settings.timeouts },
    maxResponseBytes: settings.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    retry: {
      maxAttempts: Math.max(1, settings.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
      baseDelayMs: settings.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
      maxDelayMs: settings.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
      random: settings.retry?.random ?? Math.random,
      sleep: settings.retry?.sleep ?? abortableSleep,
    },
    userAgent: settings.userAgent ?? DEFAULT_USER_AGENT,
    headers: lowercaseHeaders(settings.headers),
    mapError: settings.mapError,
    inspectSuccess: settings.inspectSuccess,
    sharedAgent: undefined,
  };
  return {
    platform: client.platform,
    request: (options) => send({ client, options }),
    json: (options) => sendJson({ client, options }),
  };
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
  const detail = extractMessage({ body: response.body, knownSecrets: context.knownSecrets ?? [] });
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

// ---- the request loop --------------------------------------------------------------------------

/** What every request of one client shares, resolved once in `createHttpClient`. */
interface ClientState {
  platform: PlatformId;
  clock: Clock;
  dispatcher: Dispatcher | undefined;
  refusePrivateAddresses: boolean;
  timeouts: Required<HttpTimeouts>;
  maxResponseBytes: number;
  retry: Required<HttpRetrySettings>;
  userAgent: string;
  /** Client-wide headers with lowercase names. */
  headers: Record<string, string> | undefined;
  mapError: HttpClientSettings['mapError'];
  inspectSuccess: HttpClientSettings['inspectSuccess'];
  /** The shared pool for the client's own timeouts, looked up on the first request that uses it. */
  sharedAgent: Dispatcher | undefined;
}

/**
 * One request as seen by its error paths. Everything only an error needs (the message's
 * `METHOD url`, the secrets to mask) is computed on first use: a request that succeeds never
 * pays for it.
 */
class RequestScope {
  readonly method: HttpMethod;
  readonly retryMode: HttpRetryMode;
  readonly url: URL;
  readonly #client: ClientState;
  readonly #options: HttpRequestOptions;
  #knownSecrets: readonly string[] | undefined;

  constructor(client: ClientState, options: HttpRequestOptions) {
    this.#client = client;
    this.#options = options;
    this.method = options.method;
    this.retryMode = options.retry ?? (isReadOnly(options.method) ? 'safe' : 'create');
    this.url = buildUrl(options);
  }

  get platform(): PlatformId {
    return this.#client.platform;
  }

  get knownSecrets(): readonly string[] {
    return (this.#knownSecrets ??= collectSecrets(this.#options));
  }

  /** `POST https://api.x.com/2/tweets`: origin and path only, never the query. */
  get where(): string {
    return `${this.method} ${safeUrlForMessage(this.url)}`;
  }

  error(fields: Omit<ConstructorParameters<typeof LetmepostError>[0], 'platform' | 'knownSecrets'>): LetmepostError {
    return new LetmepostError({ ...fields, platform: this.#client.platform, knownSecrets: this.knownSecrets });
  }

  aborted(fields: { sent: boolean; cause?: unknown }): LetmepostError {
    const cause = fields.cause ?? this.#options.signal?.reason;
    if (fields.sent && this.retryMode === 'create') {
      return this.error({
        code: 'publish_outcome_unknown',
        message: `${this.where} was aborted by the caller after it was sent; the platform may have processed it.`,
        retryable: false,
        remediation: 'Check the account for the post before publishing it again.',
        cause,
      });
    }
    return this.error({
      code: 'platform_unavailable',
      message: `${this.where} was aborted by the caller ${fields.sent ? 'while waiting for the answer' : 'before it was sent'}.`,
      retryable: true,
      cause,
    });
  }

  network(fields: { error: unknown; sent: boolean }): LetmepostError {
    const description = describeNetworkError(fields.error);
    if (fields.sent && this.retryMode === 'create') {
      return this.error({
        code: 'publish_outcome_unknown',
        message: `${this.where} failed after it was sent (${description}); the post may or may not have been created, so it was not sent again.`,
        retryable: false,
        remediation: 'Check the account for the post before publishing it again.',
        cause: fields.error,
      });
    }
    return this.error({
      code: 'platform_unavailable',
      message: `${platformName(this.#client.platform)} could not be reached for ${this.where} (${description}).`,
      retryable: true,
      cause: fields.error,
    });
  }

  /** Full-jitter exponential backoff, at least `atLeastMs` (a `Retry-After`); abortable. */
  async waitBeforeRetry(wait: { attempt: number; atLeastMs?: number }): Promise<void> {
    const retry = this.#client.retry;
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (wait.attempt - 1));
    const ms = Math.max(Math.floor(retry.random() * ceiling), wait.atLeastMs ?? 0);
    try {
      await retry.sleep({ ms, signal: this.#options.signal });
    } catch (error) {
      throw this.aborted({ sent: false, cause: error });
    }
  }

  errorResponse(fields: { status: number; headers: Record<string, string>; body: unknown; rateLimit: RateLimitInfo }): HttpErrorResponse {
    return { ...fields, request: { method: this.method, url: safeUrlForMessage(this.url), retry: this.retryMode } };
  }
}

function send(fields: { client: ClientState; options: HttpRawRequestOptions; accept?: string }): Promise<HttpResponse> {
  let sending: Sending;
  try {
    sending = new Sending(fields);
  } catch (error) {
    return Promise.reject(error);
  }
  return sending.attempt(1);
}

/**
 * One request across its attempts. Not an async function: nearly every request has one attempt,
 * a dispatch and one continuation on its answer. An async frame would hold every local of the
 * retry loop for as long as the request is in flight, and cost each request two promises more;
 * a retry chains the next attempt after its pause instead of looping.
 */
class Sending {
  readonly #client: ClientState;
  readonly #options: HttpRawRequestOptions;
  readonly #accept: string | undefined;
  readonly #scope: RequestScope;
  readonly #timeouts: Required<HttpTimeouts>;
  readonly #maxResponseBytes: number;
  readonly #dispatcher: Dispatcher;
  readonly #prepared: PreparedBody;
  // What undici's `request()` would derive from the URL, computed once for every attempt.
  readonly #origin: string;
  readonly #path: string;

  constructor(fields: { client: ClientState; options: HttpRawRequestOptions; accept?: string }) {
    const { client, options } = fields;
    this.#client = client;
    this.#options = options;
    this.#accept = fields.accept;
    const scope = new RequestScope(client, options);
    this.#scope = scope;
    if ((options.isWrite ?? !isReadOnly(scope.method)) && getPublishContext()?.dryRun) {
      throw scope.error({
        code: 'not_supported',
        message: `Refused to send ${scope.where}: a dry run is active, and this request could write.`,
        rule: 'http.dry_run_write',
        retryable: false,
        remediation: 'Dry runs only validate; publish without dryRun to send.',
      });
    }
    const timeouts = options.timeouts === undefined ? client.timeouts : { ...client.timeouts, ...options.timeouts };
    this.#timeouts = timeouts;
    this.#maxResponseBytes = options.maxResponseBytes ?? client.maxResponseBytes;
    this.#dispatcher =
      client.dispatcher ?? (options.timeouts === undefined ? (client.sharedAgent ??= sharedAgentFor({ client, timeouts })) : sharedAgentFor({ client, timeouts }));
    this.#prepared = prepareBody(options.body);
    this.#origin = scope.url.origin;
    this.#path = `${scope.url.pathname}${scope.url.search}`;
  }

  /** Attempt number `attempt`: dispatched, then its answer (or its failure) settled. */
  attempt(attempt: number): Promise<HttpResponse> {
    const scope = this.#scope;
    const { signal } = this.#options;
    if (signal?.aborted) return Promise.reject(scope.aborted({ sent: false }));
    let dispatchOptions: Dispatcher.DispatchOptions;
    try {
      dispatchOptions = {
        origin: this.#origin,
        path: this.#path,
        method: scope.method,
        // The request's auth signs here (OAuth 1.0a): a signer that throws is a rejection, as
        // from any request.
        headers: buildHeaders({ client: this.#client, options: this.#options, body: this.#prepared, url: scope.url, accept: this.#accept }),
        body: bodyForAttempt(this.#prepared),
        headersTimeout: this.#timeouts.headersMs,
        bodyTimeout: this.#timeouts.bodyMs,
      };
    } catch (error) {
      return Promise.reject(error);
    }
    const exchange = new Exchange({ maxBytes: this.#maxResponseBytes, signal, expectBody: scope.method !== 'HEAD' });
    try {
      this.#dispatcher.dispatch(dispatchOptions, exchange);
    } catch (error) {
      // undici's own dispatchers report through the handler; others may throw.
      exchange.onResponseError(undefined, error as Error);
    }
    return exchange.done.then(
      () => this.#answered({ exchange, attempt }),
      (error: unknown) => this.#failed({ exchange, attempt, error }),
    );
  }

  /** The next attempt, after the backoff (at least `atLeastMs`, a `Retry-After`). */
  #again({ attempt, atLeastMs }: { attempt: number; atLeastMs?: number }): Promise<HttpResponse> {
    return this.#scope.waitBeforeRetry({ attempt, atLeastMs }).then(() => this.attempt(attempt + 1));
  }

  #mayRetry({ attempt }: { attempt: number }): boolean {
    return attempt < this.#client.retry.maxAttempts && this.#prepared.replayable();
  }

  /** An attempt that ended without a complete answer: retried where that cannot repeat a write, else the error. */
  #failed({ exchange, attempt, error }: { exchange: Exchange; attempt: number; error: unknown }): Promise<HttpResponse> {
    const client = this.#client;
    const scope = this.#scope;
    const { signal } = this.#options;
    const { retryMode } = scope;
    if (exchange.status === 0) {
      // No answer. Nothing reached a socket unless undici started writing this request.
      const sent = exchange.started;
      if (signal?.aborted) throw scope.aborted({ sent, cause: error });
      if (!sent && isProgrammingError(error)) {
        throw scope.error({
          code: 'validation_failed',
          message: `${scope.where} could not be sent: ${error instanceof Error ? error.message : String(error)}`,
          retryable: false,
          cause: error,
        });
      }
      // A guarded pool refused the host's address in its DNS lookup, before any connection:
      // nothing was sent, and it is policy, not a network blip, so no retry.
      const refusal = findBlockedAddressError(error);
      if (refusal !== undefined) {
        throw scope.error({
          code: 'validation_failed',
          rule: 'http.blocked_address',
          message: `${scope.where} was not sent: ${refusal.message}.`,
          retryable: false,
          cause: error,
        });
      }
      const canRepeat = !sent || retryMode !== 'create';
      if (canRepeat && this.#mayRetry({ attempt })) return this.#again({ attempt });
      throw scope.network({ error, sent });
    }

    // The status line arrived, so the request was processed; only (part of) its body was lost.
    const status = exchange.status;
    const accepted = isAccepted(status, this.#options);
    if (signal?.aborted) throw scope.aborted({ sent: true, cause: error });
    if (error instanceof ResponseTooLargeError) {
      throw scope.error({
        code: accepted && retryMode === 'create' ? 'publish_outcome_unknown' : 'platform_unavailable',
        message: `${platformName(client.platform)} answered ${status} to ${scope.where} with a body larger than ${this.#maxResponseBytes} bytes; it was not read.`,
        status,
        retryable: false,
        cause: error,
      });
    }
    if (retryMode !== 'create' && this.#mayRetry({ attempt })) return this.#again({ attempt });
    if (accepted || AMBIGUOUS_STATUSES.has(status)) throw scope.network({ error, sent: true });
    // The status alone is a definite answer (e.g. 400): map it without the lost body.
    const headers = normalizeHeaders(exchange.headers);
    throw defaultErrorForStatus(
      scope.errorResponse({ status, headers, body: undefined, rateLimit: parseRateLimit({ headers, now: client.clock.now() }) }),
      { platform: client.platform, knownSecrets: scope.knownSecrets },
    );
  }

  /** A complete answer: the response when its status is accepted, else a retry or the platform's error. */
  #answered({ exchange, attempt }: { exchange: Exchange; attempt: number }): HttpResponse | Promise<HttpResponse> {
    const client = this.#client;
    const scope = this.#scope;
    const { retryMode } = scope;
    const status = exchange.status;
    const headers = normalizeHeaders(exchange.headers);
    const receivedAt = client.clock.now();
    if (isAccepted(status, this.#options)) {
      const response = new CollectedResponse({ status, headers, body: exchange.body, receivedAt, scope });
      if (client.inspectSuccess !== undefined && status >= 200 && status < 300) {
        inspectSuccessBody({ client, scope, response, receivedAt });
      }
      return response;
    }

    const rateLimit = parseRateLimit({ headers, now: receivedAt });
    const errorRateLimit = status === 429 ? withResetAsRetryAfter({ rateLimit, now: receivedAt }) : rateLimit;
    const errorResponse = scope.errorResponse({
      status,
      headers,
      body: parseErrorBody({ body: exchange.body, knownSecrets: scope.knownSecrets }),
      rateLimit: errorRateLimit,
    });
    const retryAfterMs = errorRateLimit.retryAfterMs;
    if (retryMode !== 'create' && RETRYABLE_STATUSES.has(status) && this.#mayRetry({ attempt })) {
      if (retryAfterMs === undefined || retryAfterMs <= client.retry.maxDelayMs) {
        return this.#again({ attempt, ...(retryAfterMs !== undefined && { atLeastMs: retryAfterMs }) });
      }
    }

    const knownSecrets = scope.knownSecrets;
    const mapped = client.mapError?.(errorResponse);
    const error = mapped
      ? reissueError({ error: mapped, platform: client.platform, knownSecrets })
      : defaultErrorForStatus(errorResponse, { platform: client.platform, knownSecrets });
    if (retryMode === 'create' && AMBIGUOUS_STATUSES.has(status) && (mapped === undefined || mapped.code === 'platform_unavailable')) {
      throw scope.error({
        code: 'publish_outcome_unknown',
        message: `${platformName(client.platform)} answered ${status} to ${scope.where}; the post may or may not have been created, so it was not sent again.`,
        status,
        retryable: false,
        platformResponse: { status, body: errorResponse.body },
        remediation: 'Check the account for the post before publishing it again.',
        cause: error,
      });
    }
    throw error;
  }
}

/** The shared pool for this client's connect timeout (and address policy). */
function sharedAgentFor({ client, timeouts }: { client: ClientState; timeouts: Required<HttpTimeouts> }): Dispatcher {
  return getSharedAgent({
    connectTimeoutMs: timeouts.connectMs,
    ...(client.refusePrivateAddresses ? { refusePrivateAddressesFor: `${platformName(client.platform)} requests` } : {}),
  });
}

/** Throws what `inspectSuccess` makes of a 2xx body that reports a failure. */
function inspectSuccessBody(fields: { client: ClientState; scope: RequestScope; response: CollectedResponse; receivedAt: number }): void {
  const { client, scope, response } = fields;
  const mapped = client.inspectSuccess?.(
    scope.errorResponse({
      status: response.status,
      headers: response.headers,
      body: parseErrorBody({ body: response.body, knownSecrets: scope.knownSecrets }),
      rateLimit: parseRateLimit({ headers: response.headers, now: fields.receivedAt }),
    }),
  );
  if (mapped !== undefined) throw reissueError({ error: mapped, platform: client.platform, knownSecrets: scope.knownSecrets });
}

function sendJson<T>(fields: { client: ClientState; options: HttpJsonRequestOptions<T> }): Promise<{ value: T; response: HttpResponse }> {
  // Not an async function: every create, read and upload answer comes through here, and each
  // async layer costs a call two promises and their turns of the queue.
  return send({ client: fields.client, options: fields.options, accept: 'application/json' }).then((response) =>
    readJsonAnswer({ client: fields.client, options: fields.options, response }),
  );
}

/** The 2xx body parsed and checked against the request's schema; a body that is not what the schema says throws. */
function readJsonAnswer<T>(fields: { client: ClientState; options: HttpJsonRequestOptions<T>; response: HttpResponse }): {
  value: T;
  response: HttpResponse;
} {
  const { options, response } = fields;
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.text());
  } catch (error) {
    throw unreadableError({ client: fields.client, options, response, problem: 'a body that is not JSON.', cause: error });
  }
  const quick = options.quickParse?.(parsed);
  if (quick !== undefined) return { value: quick, response };
  const result = options.schema.safeParse(parsed);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
      .join('; ');
    throw unreadableError({ client: fields.client, options, response, problem: `JSON of an unexpected shape: ${issues}.`, cause: result.error });
  }
  return { value: result.data, response };
}

/** A 2xx the client cannot read: for a create the post probably exists but its id is lost. */
function unreadableError(fields: {
  client: ClientState;
  options: HttpRequestOptions;
  response: HttpResponse;
  problem: string;
  cause: unknown;
}): LetmepostError {
  const { options, response } = fields;
  const scope = new RequestScope(fields.client, options);
  return scope.error({
    code: scope.retryMode === 'create' ? 'publish_outcome_unknown' : 'platform_unavailable',
    message: `${platformName(fields.client.platform)} answered ${response.status} to ${scope.where} with ${fields.problem}`,
    status: response.status,
    retryable: false,
    platformResponse: { status: response.status, body: bodyForError({ text: response.text(), knownSecrets: scope.knownSecrets }) },
    cause: fields.cause,
  });
}

function isReadOnly(method: HttpMethod): boolean {
  return method === 'GET' || method === 'HEAD';
}

function isAccepted(status: number, options: HttpRawRequestOptions): boolean {
  return (status >= 200 && status < 300) || options.acceptStatus?.(status) === true;
}

/**
 * Receives one attempt's answer straight from undici's dispatcher. This is what undici's
 * `request()` does, minus what it costs on every call and we never use: an AsyncResource, a
 * Readable stream for the body, and its per-chunk events. It also knows what `request()` does
 * not tell: whether undici began writing the request (`onRequestStart` runs on a connected
 * socket right before the request line is written), which separates "never sent, safe to
 * repeat" from "may have reached the platform".
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** undici began writing the request: from here on it may have reached the platform. */
  started = false;
  /** 0 until a final (non-1xx) status line arrived. */
  status = 0;
  /** Set with the final status line; never written to, so one shared empty object until then. */
  headers: Record<string, string | string[] | undefined> = NO_HEADERS;
  body: Uint8Array = EMPTY_BODY;
  readonly done: Promise<void>;

  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: unknown;
  #abortRequested = false;
  // Most answers arrive in one chunk: the first is kept on its own, an array made for a second.
  #firstPiece: Buffer | undefined;
  #morePieces: Buffer[] | undefined;
  #received = 0;
  readonly #maxBytes: number;
  readonly #expectBody: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;

  constructor(options: { maxBytes: number; signal: AbortSignal | undefined; expectBody: boolean }) {
    this.#maxBytes = options.maxBytes;
    this.#expectBody = options.expectBody;
    this.done = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const { signal } = options;
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.#abort(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Aborted while queued or connecting: undici writes nothing once the controller aborts here.
    if (this.#abortRequested) controller.abort(this.#abortReason as Error);
    else this.started = true;
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.started = true;
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    const declared = headers['content-length'];
    if (this.#expectBody && typeof declared === 'string' && Number(declared) > this.#maxBytes) {
      // Refused before reading: aborting drops the connection instead of downloading the body.
      controller.abort(new ResponseTooLargeError(this.#maxBytes));
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.#maxBytes) {
      controller.abort(new ResponseTooLargeError(this.#maxBytes));
      return;
    }
    if (this.#firstPiece === undefined) this.#firstPiece = chunk;
    else (this.#morePieces ??= [this.#firstPiece]).push(chunk);
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#removeAbortListener();
    const more = this.#morePieces;
    this.body = more !== undefined ? Buffer.concat(more, this.#received) : (this.#firstPiece ?? EMPTY_BODY);
    this.#firstPiece = undefined;
    this.#morePieces = undefined;
    this.#resolve();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#removeAbortListener();
    this.#firstPiece = undefined;
    this.#morePieces = undefined;
    this.#reject(error);
  }

  #abort(reason: unknown): void {
    if (this.#settled) return;
    if (this.#controller !== undefined) this.#controller.abort(reason as Error);
    else {
      this.#abortRequested = true;
      this.#abortReason = reason;
    }
  }

  #removeAbortListener(): void {
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}

const EMPTY_BODY = new Uint8Array(0);
const NO_HEADERS: Record<string, string | string[] | undefined> = Object.freeze({});

/** A 2xx (or accepted) answer with its whole body in memory. */
class CollectedResponse implements HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
  // Private: the scope can reach the request's credentials, which inspect() must never show.
  readonly #scope: RequestScope;
  readonly #receivedAt: number;
  #text: string | undefined;
  #rateLimit: RateLimitInfo | undefined;

  constructor(fields: { status: number; headers: Record<string, string>; body: Uint8Array; receivedAt: number; scope: RequestScope }) {
    this.status = fields.status;
    this.headers = fields.headers;
    this.body = fields.body;
    this.#receivedAt = fields.receivedAt;
    this.#scope = fields.scope;
  }

  /** Parsed on first read: most callers never look. */
  get rateLimit(): RateLimitInfo {
    return (this.#rateLimit ??= parseRateLimit({ headers: this.headers, now: this.#receivedAt }));
  }

  text(): string {
    return (this.#text ??= decodeUtf8(this.body));
  }

  json(): unknown {
    try {
      return JSON.parse(this.text());
    } catch (error) {
      throw this.#scope.error({
        code: 'platform_unavailable',
        message: `${platformName(this.#scope.platform)} answered ${this.status} with a body that is not JSON.`,
        status: this.status,
        retryable: false,
        platformResponse: { status: this.status, body: bodyForError({ text: this.text(), knownSecrets: this.#scope.knownSecrets }) },
        cause: error,
      });
    }
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  // A body is undici's own Buffer (or several joined into one): decoded as it is, without a view.
  if (Buffer.isBuffer(bytes)) return bytes.toString('utf8');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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
  /** What every attempt sends, for bodies that can be sent again. */
  payload: Dispatcher.DispatchOptions['body'];
  /** A single-use source, wrapped per attempt so that its first read is noticed. */
  stream?: AsyncIterable<Uint8Array>;
  /** The single-use source has started to be read. */
  consumed: boolean;
  /** Whether another attempt can send the body again (a stream already read cannot). */
  replayable(): boolean;
}

function replayable(this: PreparedBody): boolean {
  return !this.consumed;
}

function prepareBody(body: HttpBody | undefined): PreparedBody {
  if (body === undefined) return { payload: null, consumed: false, replayable };
  if ('json' in body) return { contentType: 'application/json', payload: JSON.stringify(body.json), consumed: false, replayable };
  if ('form' in body) {
    return {
      contentType: 'application/x-www-form-urlencoded',
      formParameters: body.form,
      payload: new URLSearchParams(body.form).toString(),
      consumed: false,
      replayable,
    };
  }
  if ('multipart' in body) {
    const { multipart } = body;
    if (Array.isArray(multipart)) {
      // Laid out once; file parts are sent from the caller's own bytes on every attempt.
      const encoded = encodeMultipart({ parts: multipart as readonly MultipartPart[] });
      return {
        contentType: encoded.contentType,
        contentLength: encoded.contentLength,
        payload: encoded.chunks as unknown as Dispatcher.DispatchOptions['body'],
        consumed: false,
        replayable,
      };
    }
    // undici only serialises its own FormData class, and Node's global one is a different copy;
    // entries (strings, Blobs, Files) are carried over by reference, nothing is read here.
    // undici then sets the multipart content type with its boundary.
    const form = toUndiciFormData(multipart as FormData | UndiciFormData);
    return { payload: form as unknown as Dispatcher.DispatchOptions['body'], consumed: false, replayable };
  }
  if ('bytes' in body) return { contentType: body.contentType, payload: body.bytes, consumed: false, replayable };
  return {
    contentType: body.contentType,
    ...(body.length === undefined ? {} : { contentLength: body.length }),
    payload: null,
    stream: body.stream,
    consumed: false,
    replayable,
  };
}

function bodyForAttempt(prepared: PreparedBody): Dispatcher.DispatchOptions['body'] {
  const source = prepared.stream;
  if (source === undefined) return prepared.payload;
  return (async function* tracked() {
    prepared.consumed = true;
    yield* source;
  })() as unknown as Dispatcher.DispatchOptions['body'];
}

function toUndiciFormData(form: FormData | UndiciFormData): UndiciFormData {
  const { FormData: UndiciFormDataClass } = loadUndici();
  if (form instanceof UndiciFormDataClass) return form;
  const copy = new UndiciFormDataClass();
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') copy.append(name, value);
    else copy.append(name, value, (value as File).name);
  }
  return copy;
}

// A client calls a handful of endpoints, most without a query: their parsed URL is kept
// (bounded) instead of parsing the same string on every request. Shared, so never changed: a
// request with a query gets its own copy.
const parsedUrls = createBoundedCache<string, URL>({ max: 256 });

function buildUrl(options: Pick<HttpRequestOptions, 'url' | 'query'>): URL {
  if (!options.query && typeof options.url === 'string') {
    let parsed = parsedUrls.get(options.url);
    if (parsed === undefined) {
      parsed = new URL(options.url);
      parsedUrls.set(options.url, parsed);
    }
    return parsed;
  }
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

function lowercaseHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  const lowercased: Record<string, string> = {};
  for (const name in headers) lowercased[name.toLowerCase()] = headers[name]!;
  return lowercased;
}

function buildHeaders(fields: {
  client: ClientState;
  options: HttpRawRequestOptions;
  body: PreparedBody;
  url: URL;
  /** Default `accept`, below the request's own headers. */
  accept: string | undefined;
}): Record<string, string> {
  const { options, body } = fields;
  const headers: Record<string, string> = { 'user-agent': fields.client.userAgent };
  const clientHeaders = fields.client.headers;
  if (clientHeaders !== undefined) for (const name in clientHeaders) headers[name] = clientHeaders[name]!;
  if (fields.accept !== undefined) headers.accept = fields.accept;
  const own = options.headers;
  if (own !== undefined) for (const name in own) headers[name.toLowerCase()] = own[name]!;
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
        method: options.method,
        url: fields.url,
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

/**
 * The body handed to `mapError`: parsed in full (mappers read structured fields), with this
 * request's secrets masked inside every string first, so whatever a mapper quotes and however
 * it shortens it, no part of a secret is left (errors redact again, but whole secrets only).
 */
function parseErrorBody(fields: { body: Uint8Array; knownSecrets: readonly string[] }): unknown {
  const text = decodeUtf8(fields.body);
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return redactStrings({ value: JSON.parse(trimmed), knownSecrets: fields.knownSecrets });
    } catch {
      // Not JSON after all: keep the text.
    }
  }
  return bodyForError({ text, knownSecrets: fields.knownSecrets });
}

/** A short human-readable reason from the usual error fields, for messages only. */
function extractMessage(fields: { body: unknown; knownSecrets: readonly string[] }): string | undefined {
  const { body, knownSecrets } = fields;
  const pick = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? redactThenShorten({ text: value.trim(), maxLength: 300, knownSecrets }) : undefined;
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

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. Shared by providers' polling loops. */
export async function abortableSleep(options: { ms: number; signal?: AbortSignal }): Promise<void> {
  const { ms, signal } = options;
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  await sleep(ms, signal === undefined ? undefined : { signal });
}
