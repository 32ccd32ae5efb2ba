import { createHash, randomBytes } from 'node:crypto';
import {
  ERROR_CODES,
  LetmepostError,
  isPlatformId,
  type AnyProvider,
  type ClientCredentials,
  type Clock,
  type ErrorCode,
  type Post,
  type ProviderAccount,
  type ProviderPublishResult,
  type PublishAuth,
  type TokenSet,
} from '@letmepost/core';
import { CAPABILITY_RULES, runWithPublishContext, validatePost } from '@letmepost/core/internal';
import { MockAgent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { assertCanariesAbsent, settle, type Settled } from './internal.js';

/** What the kit hands to `createProvider`: route every request through `dispatcher`, read time from `clock`. */
export interface ProviderConformanceSettings {
  dispatcher: Dispatcher;
  clock: Clock;
}

/** An HTTP endpoint, matched the way undici's `MockAgent` matches (path includes the query string). */
export interface ConformanceEndpoint {
  /** Scheme, host and port, e.g. `https://api.linkedin.com`. */
  origin: string;
  /** Defaults to `POST`. */
  method?: string;
  /** Exact path with query, a RegExp, or a predicate over the path with query. */
  path: string | RegExp | ((path: string) => boolean);
}

/** A canned response. An object `body` is sent as JSON; a string is sent as is. */
export interface ConformanceResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ProviderOAuthConformanceOptions {
  /** The app; its `clientSecret` is treated as a canary secret. */
  client: ClientCredentials;
  /** Byte-identical in the authorize and token requests, e.g. `https://app.example/v1/accounts/oauth/linkedin/callback`. */
  redirectUri: string;
  /** Scopes to request; defaults to `provider.auth.scopes.write`. */
  scopes?: readonly string[];
  /** Expected `origin + pathname` of the authorization URL, e.g. `https://www.linkedin.com/oauth/v2/authorization`. */
  authorizationEndpoint?: string;
  /** Name of the client id parameter in the authorization URL (TikTok: `client_key`). Default `client_id`. */
  clientIdParameter?: string;
  /** How the `scope` parameter joins scopes. Default `' '`. */
  scopeSeparator?: string;
  /** Further parameters the authorization URL must carry with exactly these values. */
  authorizationParameters?: Record<string, string>;
  /** Where the provider exchanges the code. */
  tokenEndpoint: ConformanceEndpoint;
  /** What the token endpoint answers to a good code (a captured fixture). */
  tokenResponse: ConformanceResponse;
  /**
   * The normalised TokenSet expected from `tokenResponse` (matched with `toMatchObject`). When
   * `expiresAt` is left out and the fixture has a numeric `expires_in`, the kit expects
   * `now + expires_in * 1000`.
   */
  expected: Partial<TokenSet> & { accessToken: string };
  /** What the token endpoint answers to a dead code. Default: 400 `{ error: 'invalid_grant' }`. */
  invalidGrantResponse?: ConformanceResponse;
  /** Codes accepted for a dead code. Default `['platform_auth_failed']`. */
  invalidGrantCodes?: readonly ErrorCode[];
  /**
   * Further endpoints the exchange calls after the token endpoint answered (Meta's long-lived
   * swap, a profile read); registered before each exchange.
   */
  setup?: (mockAgent: MockAgent) => void;
}

export type ConformanceStatusScenario = 401 | 403 | 429 | 500 | 502 | 503;
export type ConformanceFailureScenario =
  | ConformanceStatusScenario
  | 'malformed-json'
  | 'unexpected-shape'
  | 'network-error'
  | 'connect-error'
  | 'abort';

export interface ProviderPublishConformanceOptions {
  auth: PublishAuth<unknown>;
  /** A post the provider accepts (it must pass `validate`). */
  post: Post;
  /** Per-target options for `post`. Default `{}`. */
  options?: unknown;
  /**
   * Secrets that must never appear in an error or result (message, JSON, inspect). Tokens of an
   * `account` auth are added automatically; list every secret credential field here.
   */
  canarySecrets: readonly string[];
  /**
   * Registers, on a fresh MockAgent, every request the publish makes besides the write
   * (uploads, lookups, session creation). Called once per scenario. On the happy path every
   * interceptor registered here must be consumed, so register exactly what a publish uses.
   */
  setup?: (mockAgent: MockAgent) => void;
  /** The call that creates the post. The kit answers it; it must be sent at most once. */
  writeEndpoint: ConformanceEndpoint & { success: ConformanceResponse };
  expected: { postId: string; url?: string };
  /** A 429 as the platform sends it, and the `retryAfterMs` the provider must derive from it. */
  rateLimit: { headers: Record<string, string>; body?: unknown; retryAfterMs: number };
  /** Platform-shaped error bodies per status (providers map structured fields). Default `{}`. */
  errorBodies?: Partial<Record<ConformanceStatusScenario, unknown>>;
  /** Override the accepted error codes of a scenario (see the README for the defaults). */
  expectedCodes?: Partial<Record<ConformanceFailureScenario, readonly ErrorCode[]>>;
  /**
   * A failure the platform reports with a 2xx status (Slack `{ ok: false }`, some Graph API
   * answers), as the write endpoint sends it. The publish must fail with a typed error other
   * than `publish_outcome_unknown` (the platform said no), sent once.
   */
  successErrorBody?: { status?: number; body: unknown; codes?: readonly ErrorCode[] };
}

/** For providers with `refresh`: the token endpoint and two captured answers. */
export interface ProviderRefreshConformanceOptions {
  /** The stored token set; its `refreshToken` is what the request must carry. */
  tokens: TokenSet;
  client?: ClientCredentials;
  /** The grant's non-secret facts (`ConnectedAccountGrant.grantData`, e.g. a PDS URL). */
  grantData?: Record<string, unknown>;
  endpoint: ConformanceEndpoint;
  /** An answer that rotates the refresh token. */
  rotated: ConformanceResponse;
  /**
   * What the returned TokenSet must carry after `rotated`. `refreshToken` absent: the platform
   * has no refresh token and refreshes the access token itself (Instagram, Threads), and none may
   * be returned.
   */
  expected: { accessToken: string; refreshToken?: string };
  /**
   * An answer without a refresh token (a platform that reuses it). The provider must not invent
   * one: the returned `refreshToken` is the stored one or absent. Leave out where the platform
   * always sends one.
   */
  withoutRefreshToken?: ConformanceResponse;
}

/** For providers with `listAccounts`: a grant that gives access to several accounts. */
export interface ProviderAccountsConformanceOptions {
  tokens: TokenSet;
  client: ClientCredentials;
  /** Answers every request `listAccounts` makes (identity, organisations, pages...). */
  setup: (mockAgent: MockAgent) => void;
  /** `platformAccountId` of every account the grant yields, in order. */
  expectedAccountIds: readonly string[];
}

/** For providers with `listTargets`: an account with several destinations. */
export interface ProviderTargetsConformanceOptions {
  auth: PublishAuth<unknown>;
  /** The account whose destinations are listed; default the account of an `account` auth. */
  account?: ProviderAccount;
  setup: (mockAgent: MockAgent) => void;
  expectedTargetIds: readonly string[];
}

/** For providers with `deletePost`. */
export interface ProviderDeleteConformanceOptions {
  auth: PublishAuth<unknown>;
  postId: string;
  endpoint: ConformanceEndpoint & { success: ConformanceResponse };
  /**
   * The platform's answer for a post that does not exist (default 404 `{}`), which must become
   * `not_found`; `'idempotent'` for platforms whose delete of a missing post succeeds (an AT
   * Protocol `deleteRecord`): the kit then answers success and expects the delete to resolve.
   */
  notFound?: ConformanceResponse | 'idempotent';
}

/** For providers with `checkStatus`/`finalize`: a pending publish to complete. */
export interface ProviderResumeConformanceOptions {
  auth: PublishAuth<unknown>;
  /** The provider's resume state as its `publish` returned it. */
  resume: unknown;
  /** Answers the reads (status polls, lookups); they may be repeated. */
  setup?: (mockAgent: MockAgent) => void;
  /** The write `finalize` performs (the create that was waiting). */
  finalizeEndpoint: ConformanceEndpoint & { success: ConformanceResponse };
  expected: { postId: string };
}

export interface ProviderValidationCase {
  post: Post;
  options?: unknown;
  /** The account posted to, for limits that depend on it. */
  account?: ProviderAccount;
  /** A rule id the preflight must report, e.g. `bluesky.text.max_bytes`. */
  rule: string;
}

export type ProviderCheckId =
  | 'shape'
  | 'credential-schema'
  | 'validate.pure'
  | 'validate.text-too-long'
  | 'validate.too-many-media'
  | 'validate.cases'
  | 'validate.canonical-rules'
  | 'validate.account'
  | 'refresh.rotation'
  | 'refresh.missing-refresh-token'
  | 'accounts.multiple'
  | 'targets.list'
  | 'delete.once'
  | 'delete.not-found'
  | 'resume.check-status-read-only'
  | 'resume.finalize-idempotent'
  | 'publish.2xx-error-body'
  | 'oauth.authorization-url'
  | 'oauth.exchange-code'
  | 'oauth.exchange-code-invalid-grant'
  | 'oauth.callback-error'
  | 'oauth.state-mismatch'
  | 'publish.happy-path'
  | 'publish.dry-run'
  | `publish.${ConformanceFailureScenario}`;

export interface ProviderConformanceOptions<PROVIDER extends AnyProvider = AnyProvider> {
  /** Suite title; defaults to the provider id. */
  name?: string;
  createProvider: (settings: ProviderConformanceSettings) => PROVIDER;
  /** Epoch ms of the fixed clock handed to the provider. Default {@link CONFORMANCE_NOW}. */
  now?: number;
  /** Required for `oauth2` providers. */
  oauth?: ProviderOAuthConformanceOptions;
  publish: ProviderPublishConformanceOptions;
  /** A valid per-request credentials object, which `credentialSchema` must accept. */
  credentials?: { valid: unknown };
  /** Posts the preflight (`validatePost`: capabilities, then `validate`) must reject with a given rule. */
  validation?: readonly ProviderValidationCase[];
  /** Required when the provider has `refresh` (or list `refresh.*` in `skip` with a reason). */
  refresh?: ProviderRefreshConformanceOptions;
  /** Required when the provider has `listAccounts`. */
  accounts?: ProviderAccountsConformanceOptions;
  /** Required when the provider has `listTargets`. */
  targets?: ProviderTargetsConformanceOptions;
  /** Required when the provider has `deletePost`. */
  delete?: ProviderDeleteConformanceOptions;
  /** Required when the provider has `checkStatus` or `finalize`. */
  resume?: ProviderResumeConformanceOptions;
  /** Checks to leave out, with a reason in your own test file. */
  skip?: readonly ProviderCheckId[];
}

/** One conformance check, runnable on its own (the kit wraps each in an `it`). */
export interface ConformanceCheck<ID extends string = string> {
  id: ID;
  title: string;
  run: () => Promise<void>;
}

/** 2025-01-15T12:00:00.000Z */
export const CONFORMANCE_NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

/**
 * The optional methods the kit drives, typed by what it passes, so the kit works across the
 * contract's revisions of their options (a grant-level `refresh`, `resume` state).
 */
interface OptionalMethods {
  refresh?: (options: { tokens: TokenSet; client?: ClientCredentials; grantData?: Record<string, unknown>; signal?: AbortSignal }) => Promise<TokenSet>;
  listAccounts?: (options: { tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }) => Promise<Array<ProviderAccount & { platform?: string }>>;
  listTargets?: (options: {
    auth: PublishAuth<unknown>;
    account?: ProviderAccount;
    cursor?: string;
    signal?: AbortSignal;
  }) => Promise<{ targets: Array<{ id: string; name: string; kind: string; options: unknown }>; nextCursor?: string }>;
  checkStatus?: (options: { auth: PublishAuth<unknown>; resume: unknown; signal?: AbortSignal }) => Promise<ProviderPublishResult>;
  finalize?: (options: { auth: PublishAuth<unknown>; resume: unknown; signal?: AbortSignal }) => Promise<ProviderPublishResult>;
}

const OPTION_NAMES: Partial<Record<ProviderCheckId, string>> = {
  'refresh.rotation': 'refresh',
  'accounts.multiple': 'accounts',
  'targets.list': 'targets',
  'delete.once': 'delete',
  'resume.finalize-idempotent': 'resume',
};

function optionName(id: ProviderCheckId): string {
  return OPTION_NAMES[id] ?? id;
}

const ERROR_CODES_EXCEPT_UNKNOWN: readonly ErrorCode[] = ERROR_CODES.filter((code) => code !== 'publish_outcome_unknown');

const DEFAULT_CODES: Record<ConformanceFailureScenario, readonly ErrorCode[]> = {
  401: ['auth_expired', 'reauth_required'],
  403: ['permission_denied'],
  429: ['rate_limited'],
  500: ['publish_outcome_unknown', 'platform_unavailable'],
  502: ['publish_outcome_unknown', 'platform_unavailable'],
  503: ['publish_outcome_unknown', 'platform_unavailable'],
  // The platform said yes, so the post most likely exists; only its id is lost.
  'malformed-json': ['publish_outcome_unknown'],
  'unexpected-shape': ['publish_outcome_unknown'],
  // Written, then lost: the post may exist, and a retryable code would invite a duplicate.
  'network-error': ['publish_outcome_unknown'],
  'connect-error': ['platform_unavailable', 'publish_outcome_unknown'],
  abort: ['publish_outcome_unknown'],
};

interface Harness {
  mockAgent: MockAgent;
  provider: AnyProvider;
  clock: Clock;
  /** When set, requests to this endpoint meet a transport fault after being written. */
  fault?: { endpoint: ConformanceEndpoint; kind: 'drop' | 'hang'; onWritten?: () => void };
  /** Requests that met the fault (they never reach the MockAgent's call history). */
  faulted: string[];
}

/**
 * Plays a request that was written and then lost: the handler sees the request start (so an HTTP
 * layer that tracks "may have reached the server" knows it did), then either a socket error
 * (`drop`, a load balancer resetting the connection) or nothing until it aborts (`hang`).
 * MockAgent's `replyWithError` cannot play this: it reports the error before the request starts,
 * which is a connect failure, where repeating is safe.
 */
function faultAfterWrite(options: { handler: Dispatcher.DispatchHandler; kind: 'drop' | 'hang'; onWritten?: () => void }): void {
  const { handler } = options;
  let finished = false;
  let hangTimer: NodeJS.Timeout | undefined;
  const fail = (error: Error) => {
    if (finished) return;
    finished = true;
    clearTimeout(hangTimer);
    handler.onResponseError?.(controller, error);
  };
  const controller = {
    get aborted() {
      return finished;
    },
    get paused() {
      return false;
    },
    get reason() {
      return null;
    },
    pause() {},
    resume() {},
    abort(reason: Error) {
      fail(reason);
    },
  } as unknown as Dispatcher.DispatchController;
  setImmediate(() => {
    handler.onRequestStart?.(controller, {});
    if (finished) return;
    if (options.kind === 'drop') {
      setImmediate(() => fail(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
      return;
    }
    // Bounded, so a provider that ignores its signal fails the check instead of hanging it.
    hangTimer = setTimeout(() => fail(Object.assign(new Error('conformance kit: no answer (the abort was ignored)'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), 5_000);
    hangTimer.unref();
    options.onWritten?.();
  });
}

function dispatchMatches(endpoint: ConformanceEndpoint, options: Dispatcher.DispatchOptions): boolean {
  const origin = options.origin === undefined ? '' : new URL(String(options.origin)).origin;
  return (
    origin === new URL(endpoint.origin).origin &&
    String(options.method).toUpperCase() === (endpoint.method ?? 'POST').toUpperCase() &&
    pathMatches(endpoint.path, options.path)
  );
}

/**
 * Every request a provider makes must use the dispatcher it was given. While a check runs, the
 * process-wide undici dispatcher (also used by the global `fetch`) is replaced by a tripwire that
 * records and refuses every request.
 */
class Tripwire {
  private previous: Dispatcher | undefined;
  private agent: MockAgent | undefined;

  install(): void {
    this.previous = getGlobalDispatcher();
    this.agent = new MockAgent({ enableCallHistory: true });
    this.agent.disableNetConnect();
    setGlobalDispatcher(this.agent);
  }

  strays(): string[] {
    return (this.agent?.getCallHistory()?.calls() ?? []).map((call) => `${call.method} ${call.fullUrl}`);
  }

  async restore(): Promise<void> {
    if (this.previous) setGlobalDispatcher(this.previous);
    await this.agent?.close();
    this.agent = undefined;
  }
}

function pathWithQuery(fullUrl: string): string {
  const url = new URL(fullUrl);
  return url.pathname + url.search;
}

function pathMatches(matcher: ConformanceEndpoint['path'], path: string): boolean {
  if (typeof matcher === 'string') return matcher === path;
  if (matcher instanceof RegExp) return matcher.test(path);
  return matcher(path);
}

function endpointCalls(mockAgent: MockAgent, endpoint: ConformanceEndpoint) {
  const method = (endpoint.method ?? 'POST').toUpperCase();
  const origin = new URL(endpoint.origin).origin;
  return (mockAgent.getCallHistory()?.calls() ?? []).filter(
    (call) => call.method.toUpperCase() === method && call.origin === origin && pathMatches(endpoint.path, pathWithQuery(call.fullUrl)),
  );
}

function encodeBody(body: unknown): string {
  if (body === undefined) return '';
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function responseHeaders(response: { body?: unknown; headers?: Record<string, string> }): Record<string, string> {
  const headers: Record<string, string> = { ...response.headers };
  const hasContentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
  if (!hasContentType && response.body !== undefined && typeof response.body !== 'string') {
    headers['content-type'] = 'application/json';
  }
  return headers;
}

function intercept(options: { mockAgent: MockAgent; endpoint: ConformanceEndpoint }) {
  const matcher = options.endpoint.path;
  return options.mockAgent.get(new URL(options.endpoint.origin).origin).intercept({
    method: (options.endpoint.method ?? 'POST').toUpperCase(),
    path: (path: string) => pathMatches(matcher, path),
  });
}

function collectIssuePaths(issues: readonly unknown[]): string[] {
  const paths: string[] = [];
  const visit = (list: readonly unknown[]) => {
    for (const issue of list) {
      if (issue == null || typeof issue !== 'object') continue;
      const record = issue as { path?: unknown[]; errors?: unknown[][] };
      if (Array.isArray(record.path) && record.path.length > 0) paths.push(record.path.map(String).join('.'));
      if (Array.isArray(record.errors)) for (const nested of record.errors) if (Array.isArray(nested)) visit(nested);
    }
  };
  visit(issues);
  return paths;
}

function base64Url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = base64Url(randomBytes(32));
  return { verifier, challenge: base64Url(createHash('sha256').update(verifier).digest()) };
}

function bodyText(body: unknown): string {
  if (body == null) return '';
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  if (body instanceof URLSearchParams) return body.toString();
  return String(body);
}

function parseRequestBody(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const parsed = JSON.parse(trimmed) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
  }
  return Object.fromEntries(new URLSearchParams(trimmed));
}

/** Reads the error a failed publish produced, whether it threw or returned a non-published result. */
function failureOf(outcome: Settled<ProviderPublishResult>, context: string): unknown {
  if (outcome.status === 'rejected') return outcome.reason;
  const result = outcome.value;
  expect(result.status, `${context}: publish must not report success`).not.toBe('published');
  const error = result.error ?? result.items?.find((item) => item.error)?.error;
  expect(error, `${context}: a non-published result must carry an error`).toBeDefined();
  return error;
}

function expectLetmepostError(error: unknown, codes: readonly ErrorCode[], context: string): asserts error is LetmepostError {
  if (!LetmepostError.isInstance(error)) {
    const description = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${context}: expected a LetmepostError (${codes.join(' | ')}), got ${description}`);
  }
  expect(codes, `${context}: unexpected error code "${error.code}" (${error.message})`).toContain(error.code);
}

/**
 * The checks of {@link runProviderConformance}, as plain functions. Use this to run a subset or
 * to prove that a deliberately broken provider fails a given check.
 */
export function providerConformanceChecks(options: ProviderConformanceOptions): ConformanceCheck<ProviderCheckId>[] {
  const now = options.now ?? CONFORMANCE_NOW;
  const clock: Clock = { now: () => now };
  const tripwire = new Tripwire();
  const publishOptions = options.publish;
  const targetOptions = publishOptions.options ?? {};

  const autoCanaries: string[] = [];
  if (publishOptions.auth.type === 'account') {
    const tokens = publishOptions.auth.tokens;
    autoCanaries.push(tokens.accessToken);
    if (tokens.refreshToken) autoCanaries.push(tokens.refreshToken);
    autoCanaries.push(...Object.values(tokens.secrets ?? {}));
  }
  const canaries = [...new Set([...publishOptions.canarySecrets, ...autoCanaries])].filter((value) => value.length > 0);

  const harness = (): Harness => {
    const mockAgent = new MockAgent({ enableCallHistory: true });
    mockAgent.disableNetConnect();
    const context = { mockAgent, clock, faulted: [] as string[] } as Omit<Harness, 'provider'> & { provider?: AnyProvider };
    const dispatcher = mockAgent.compose((dispatch) => (dispatchOptions, handler) => {
      const fault = context.fault;
      if (fault && dispatchMatches(fault.endpoint, dispatchOptions)) {
        context.faulted.push(`${dispatchOptions.method} ${String(dispatchOptions.origin)}${dispatchOptions.path}`);
        faultAfterWrite({ handler, kind: fault.kind, ...(fault.onWritten ? { onWritten: fault.onWritten } : {}) });
        return true;
      }
      return dispatch(dispatchOptions, handler);
    });
    context.provider = options.createProvider({ dispatcher, clock });
    return context as Harness;
  };

  // Each check owns a fresh MockAgent and provider and installs the tripwire for its duration.
  const guarded =
    (body: (context: Harness) => Promise<void>) =>
    async (): Promise<void> => {
      tripwire.install();
      const context = harness();
      try {
        await body(context);
        const strays = tripwire.strays();
        expect(strays, 'requests that bypassed the injected dispatcher').toEqual([]);
      } finally {
        await context.mockAgent.close();
        await tripwire.restore();
      }
    };

  const publishOnce = async (context: Harness, signal?: AbortSignal) =>
    settle(
      context.provider.publish({
        post: publishOptions.post,
        auth: publishOptions.auth,
        options: targetOptions,
        ...(signal ? { signal } : {}),
      }),
    );

  const checks: ConformanceCheck<ProviderCheckId>[] = [];
  const add = (id: ProviderCheckId, title: string, body: (context: Harness) => Promise<void>) =>
    checks.push({ id, title, run: guarded(body) });

  add('shape', 'declares a well-formed spec (id, auth, capabilities, schemas)', async ({ provider }) => {
    expect(provider.specificationVersion).toBe('v2');
    expect(isPlatformId(provider.id), `unknown platform id "${provider.id}"`).toBe(true);
    expect(typeof provider.displayName).toBe('string');
    expect(provider.displayName.length).toBeGreaterThan(0);
    for (const schema of [provider.credentialSchema, provider.accountSchema, provider.optionsSchema]) {
      expect(typeof schema?.safeParse, 'schemas must be zod schemas').toBe('function');
    }
    expect(['oauth2', 'oauth1', 'credentials']).toContain(provider.auth.kind);
    if (provider.auth.kind === 'oauth2') {
      expect(provider.auth.scopes.write.length, 'oauth2 providers declare write scopes').toBeGreaterThan(0);
      for (const scope of [...provider.auth.scopes.write, ...provider.auth.scopes.extended]) expect(typeof scope).toBe('string');
      expect(['rotating', 'reusable', 'none']).toContain(provider.auth.refresh);
      expect(typeof provider.authorizationUrl, 'oauth2 providers implement authorizationUrl').toBe('function');
      expect(typeof provider.exchangeCode, 'oauth2 providers implement exchangeCode').toBe('function');
      if (provider.auth.refresh !== 'none') expect(typeof provider.refresh, 'refreshable providers implement refresh').toBe('function');
    }
    if (provider.auth.kind === 'credentials') {
      expect(typeof provider.connectWithCredentials, 'credentials providers implement connectWithCredentials').toBe('function');
    }
    const capabilities = provider.capabilities;
    expect(Number.isInteger(capabilities.text.maxLength) && capabilities.text.maxLength > 0).toBe(true);
    expect(['characters', 'graphemes', 'twitter-weighted', 'utf16', 'bytes']).toContain(capabilities.text.unit);
    const media = capabilities.media;
    for (const count of [media.maxItems, media.maxImages, media.maxVideos]) expect(Number.isInteger(count) && count >= 0).toBe(true);
    expect(media.maxImages).toBeLessThanOrEqual(Math.max(media.maxItems, media.maxImages));
    for (const mimeType of [...media.imageMimeTypes, ...media.videoMimeTypes]) expect(mimeType).toMatch(/^[a-z]+\/[a-z0-9.+-]+$/);
    expect(['push', 'pull']).toContain(media.ingest);
    expect(['card', 'inline', 'none']).toContain(capabilities.link);
    expect(typeof capabilities.deletePost).toBe('boolean');
    expect(capabilities.deletePost, 'capabilities.deletePost matches the deletePost method').toBe(typeof provider.deletePost === 'function');
    if (capabilities.pending) {
      // letmepost.resume reads with checkStatus and writes with finalize; without both a pending publish cannot be finished.
      expect(typeof provider.checkStatus, 'pending-capable providers implement checkStatus').toBe('function');
      expect(typeof provider.finalize, 'pending-capable providers implement finalize').toBe('function');
    }
    expect(typeof provider.validate).toBe('function');
    expect(typeof provider.publish).toBe('function');
  });

  add('credential-schema', 'credentialSchema rejects {} naming the missing fields', async ({ provider }) => {
    const parsed = provider.credentialSchema.safeParse({});
    expect(parsed.success, 'credentialSchema must reject {}').toBe(false);
    if (!parsed.success) {
      const paths = collectIssuePaths(parsed.error.issues);
      expect(paths.length, `issues must carry field paths, got ${JSON.stringify(parsed.error.issues)}`).toBeGreaterThan(0);
    }
    if (options.credentials) {
      const valid = provider.credentialSchema.safeParse(options.credentials.valid);
      expect(valid.success, `credentialSchema must accept credentials.valid: ${valid.success ? '' : valid.error.message}`).toBe(true);
    }
  });

  const preflight = (provider: AnyProvider, validationOptions: { post: Post; options?: unknown; account?: ProviderAccount }) =>
    validatePost({
      provider,
      post: validationOptions.post,
      options: validationOptions.options ?? targetOptions,
      ...(validationOptions.account !== undefined && { account: validationOptions.account }),
    });
  const publishAccount = publishOptions.auth.type === 'account' ? publishOptions.auth.account : undefined;
  const ruleShape = (provider: AnyProvider) => new RegExp(`^${provider.id}\\.[a-z0-9_]+(\\.[a-z0-9_]+)+$`);

  add('validate.pure', 'validate() is synchronous, deterministic, sends nothing and leaves its input alone', async ({ provider, mockAgent }) => {
    const post = publishOptions.post;
    const snapshot = JSON.stringify(post, (_key, value: unknown) => (value instanceof Uint8Array ? Array.from(value) : value));
    const first = provider.validate({ post, options: targetOptions });
    expect(Array.isArray(first), 'validate returns an array synchronously').toBe(true);
    const second = provider.validate({ post, options: targetOptions });
    expect(second).toEqual(first);
    expect(preflight(provider, { post }), 'publish.post must pass the preflight').toEqual([]);
    expect(JSON.stringify(post, (_key, value: unknown) => (value instanceof Uint8Array ? Array.from(value) : value))).toBe(snapshot);
    expect(mockAgent.getCallHistory()?.calls() ?? []).toHaveLength(0);
  });

  add('validate.account', 'validate() and capabilitiesFor() take the account and stay pure', async ({ provider, mockAgent }) => {
    const account: ProviderAccount = publishAccount ?? { platformAccountId: 'conformance-account' };
    const post = publishOptions.post;
    expect(provider.validate({ post, options: targetOptions, account })).toEqual(provider.validate({ post, options: targetOptions, account }));
    expect(preflight(provider, { post, account }), 'publish.post must pass the preflight for the publish account').toEqual([]);
    if (provider.capabilitiesFor !== undefined) {
      const capabilities = provider.capabilitiesFor({ account, post });
      expect(capabilities.text.unit).toBe(provider.capabilities.text.unit);
      expect(capabilities.text.maxLength).toBeGreaterThan(0);
    }
    expect(mockAgent.getCallHistory()?.calls() ?? []).toHaveLength(0);
  });

  add('validate.text-too-long', 'the preflight flags text over capabilities.text.maxLength as <id>.text.max_length', async ({ provider }) => {
    const post: Post = { text: 'a'.repeat(provider.capabilities.text.maxLength + 1) };
    const issues = preflight(provider, { post });
    for (const issue of issues) expect(issue.rule, `rule "${issue.rule}" is not <id>.<area>.<rule>`).toMatch(ruleShape(provider));
    expect(issues.map((issue) => issue.rule), JSON.stringify(issues)).toContain(`${provider.id}.text.max_length`);
  });

  add('validate.too-many-media', 'the preflight flags more media than capabilities.media.maxItems as <id>.media.max_items', async ({ provider }) => {
    const media = provider.capabilities.media;
    const mimeType = media.imageMimeTypes[0] ?? 'image/png';
    const count = Math.min(media.maxItems + 1, 101);
    const post: Post = {
      text: 'conformance',
      media: Array.from({ length: count }, () => ({ data: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), mimeType, altText: 'x' })),
    };
    const issues = preflight(provider, { post });
    for (const issue of issues) expect(issue.rule, `rule "${issue.rule}" is not <id>.<area>.<rule>`).toMatch(ruleShape(provider));
    expect(issues.map((issue) => issue.rule), `${count} media items must be refused`).toContain(`${provider.id}.media.max_items`);
  });

  add('validate.canonical-rules', 'what the declared capabilities forbid is refused under the canonical rule ids', async ({ provider }) => {
    const { capabilities, id } = provider;
    const rule = (name: (typeof CAPABILITY_RULES)[number]) => `${id}.${name}`;
    const expectRule = (post: Post, expected: string, label: string) => {
      const issues = preflight(provider, { post });
      for (const issue of issues) expect(issue.rule, `${label}: rule "${issue.rule}" is not <id>.<area>.<rule>`).toMatch(ruleShape(provider));
      expect(issues.map((issue) => issue.rule), `${label}: ${JSON.stringify(issues)}`).toContain(expected);
    };
    const image = capabilities.media.imageMimeTypes[0];
    expectRule({ text: 'a', media: [{ data: new Uint8Array(4), mimeType: 'image/x-conformance' }] }, rule('media.mime_type'), 'unknown media type');
    expectRule({ text: '' }, rule('text.required'), 'empty post');
    if (!capabilities.thread) expectRule({ text: 'a', thread: [{ text: 'b' }] }, rule('thread.unsupported'), 'thread');
    if (!capabilities.replyTo) expectRule({ text: 'a', replyTo: '1' }, rule('reply.unsupported'), 'reply');
    if (!capabilities.firstComment) expectRule({ text: 'a', firstComment: 'b' }, rule('first_comment.unsupported'), 'first comment');
    if (image !== undefined && capabilities.media.maxImageBytes !== undefined) {
      const stream = (async function* none() {})();
      expectRule({ text: 'a', media: [{ stream, size: capabilities.media.maxImageBytes + 1, mimeType: image }] }, rule('media.max_bytes'), 'oversized image');
    }
    const video = capabilities.media.videoMimeTypes[0];
    if (image !== undefined && video !== undefined && !capabilities.media.mixedImagesAndVideo) {
      const bytes = new Uint8Array(4);
      expectRule({ text: 'a', media: [{ data: bytes, mimeType: image }, { data: bytes, mimeType: video }] }, rule('media.mixed'), 'images with a video');
    }
  });

  add('validate.cases', 'the preflight reports the declared rule for each invalid case', async ({ provider }) => {
    for (const [index, validationCase] of (options.validation ?? []).entries()) {
      const issues = preflight(provider, validationCase);
      expect(
        issues.map((issue) => issue.rule),
        `validation[${index}]`,
      ).toContain(validationCase.rule);
      for (const issue of issues) expect(issue.rule).toMatch(ruleShape(provider));
    }
  });

  const oauth = options.oauth;
  if (oauth) {
    const oauthCanaries = [oauth.client.clientSecret ?? '', ...canaries].filter((value) => value.length > 0);

    add('oauth.authorization-url', 'authorizationUrl() is https and carries state, PKCE S256, redirect_uri, client id and scopes', async ({ provider }) => {
      expect(typeof provider.authorizationUrl).toBe('function');
      const scopes = oauth.scopes ?? (provider.auth.kind === 'oauth2' ? provider.auth.scopes.write : []);
      const state = `state-${randomBytes(12).toString('hex')}`;
      const { challenge } = pkcePair();
      const url = await provider.authorizationUrl!({ client: oauth.client, redirectUri: oauth.redirectUri, state, codeChallenge: challenge, scopes });
      expect(url).toBeInstanceOf(URL);
      expect(url.protocol).toBe('https:');
      if (oauth.authorizationEndpoint) expect(url.origin + url.pathname).toBe(oauth.authorizationEndpoint);
      const parameters = url.searchParams;
      expect(parameters.get('response_type')).toBe('code');
      expect(parameters.get(oauth.clientIdParameter ?? 'client_id')).toBe(oauth.client.clientId);
      expect(parameters.get('redirect_uri'), 'redirect_uri must be byte-identical').toBe(oauth.redirectUri);
      expect(parameters.get('state')).toBe(state);
      const usesPkce = provider.auth.kind === 'oauth2' && provider.auth.pkce;
      if (usesPkce) {
        expect(parameters.get('code_challenge')).toBe(challenge);
        expect(parameters.get('code_challenge_method')).toBe('S256');
      }
      const requested = (parameters.get('scope') ?? '').split(oauth.scopeSeparator ?? ' ').filter(Boolean);
      for (const scope of scopes) expect(requested, `scope "${scope}"`).toContain(scope);
      for (const [name, value] of Object.entries(oauth.authorizationParameters ?? {})) expect(parameters.get(name), name).toBe(value);
      if (oauth.client.clientSecret) expect(url.toString()).not.toContain(oauth.client.clientSecret);
    });

    const exchange = async (context: Harness, response: ConformanceResponse, callback?: (url: URL) => void) => {
      const state = `state-${randomBytes(12).toString('hex')}`;
      const code = `code-${randomBytes(12).toString('hex')}`;
      const { verifier } = pkcePair();
      const bodies: string[] = [];
      oauth.setup?.(context.mockAgent);
      intercept({ mockAgent: context.mockAgent, endpoint: oauth.tokenEndpoint }).reply((request) => {
        bodies.push(bodyText(request.body));
        return { statusCode: response.status, data: encodeBody(response.body), responseOptions: { headers: responseHeaders(response) } };
      });
      const callbackUrl = new URL(oauth.redirectUri);
      callbackUrl.searchParams.set('code', code);
      callbackUrl.searchParams.set('state', state);
      callback?.(callbackUrl);
      const outcome = await settle(
        context.provider.exchangeCode!({ client: oauth.client, redirectUri: oauth.redirectUri, callbackUrl, state, codeVerifier: verifier }),
      );
      return { outcome, bodies, code, verifier, calls: endpointCalls(context.mockAgent, oauth.tokenEndpoint) };
    };

    add('oauth.exchange-code', 'exchangeCode() sends the code, verifier and identical redirect_uri and normalises the token response', async (context) => {
      const { provider, mockAgent } = context;
      const { outcome, bodies, code, verifier, calls } = await exchange(context, oauth.tokenResponse);
      if (outcome.status === 'rejected') throw outcome.reason;
      expect(calls).toHaveLength(1);
      const sent = parseRequestBody(bodies[0] ?? '');
      expect(sent.grant_type).toBe('authorization_code');
      expect(sent.code).toBe(code);
      expect(sent.redirect_uri, 'redirect_uri must be byte-identical to the authorize request').toBe(oauth.redirectUri);
      if (provider.auth.kind === 'oauth2' && provider.auth.pkce) expect(sent.code_verifier).toBe(verifier);
      const authorization = calls[0]?.headers ? (calls[0].headers as Record<string, string>)['authorization'] : undefined;
      const clientIdParameter = oauth.clientIdParameter ?? 'client_id';
      expect(
        authorization?.startsWith('Basic ') || sent[clientIdParameter] === oauth.client.clientId,
        'the client authenticates with HTTP Basic or a client id in the body',
      ).toBe(true);
      const tokens = outcome.value;
      const expected: Partial<TokenSet> = { ...oauth.expected };
      const fixture = oauth.tokenResponse.body as Record<string, unknown> | undefined;
      if (expected.expiresAt === undefined && typeof fixture?.expires_in === 'number') {
        expected.expiresAt = now + fixture.expires_in * 1000;
      }
      expect(tokens).toMatchObject(expected);
      mockAgent.assertNoPendingInterceptors();
    });

    add('oauth.exchange-code-invalid-grant', 'exchangeCode() maps a refused code to a LetmepostError without leaking secrets', async (context) => {
      const response = oauth.invalidGrantResponse ?? { status: 400, body: { error: 'invalid_grant', error_description: 'Authorization code expired' } };
      const { outcome, code, verifier } = await exchange(context, response);
      expect(outcome.status).toBe('rejected');
      if (outcome.status !== 'rejected') return;
      expectLetmepostError(outcome.reason, oauth.invalidGrantCodes ?? ['platform_auth_failed'], 'refused code');
      assertCanariesAbsent({ value: outcome.reason, canaries: [...oauthCanaries, verifier, code], context: 'refused code' });
    });

    add('oauth.callback-error', 'exchangeCode() maps error=access_denied in the callback to platform_auth_failed before any request', async (context) => {
      const { outcome, calls } = await exchange(context, oauth.tokenResponse, (url) => {
        url.searchParams.delete('code');
        url.searchParams.set('error', 'access_denied');
        url.searchParams.set('error_description', 'The user denied access');
      });
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') expectLetmepostError(outcome.reason, ['platform_auth_failed'], 'access_denied callback');
      expect(calls, 'no token request after a denied consent').toHaveLength(0);
    });

    add('oauth.state-mismatch', 'exchangeCode() refuses a callback whose state differs with state_invalid before any request', async (context) => {
      const { outcome, calls } = await exchange(context, oauth.tokenResponse, (url) => {
        url.searchParams.set('state', 'forged-state');
      });
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') expectLetmepostError(outcome.reason, ['state_invalid'], 'state mismatch');
      expect(calls, 'no token request with a forged state').toHaveLength(0);
    });
  }

  add('publish.happy-path', 'publish() creates the post once through the injected dispatcher', async (context) => {
    const { mockAgent } = context;
    publishOptions.setup?.(mockAgent);
    const success = publishOptions.writeEndpoint.success;
    intercept({ mockAgent, endpoint: publishOptions.writeEndpoint }).reply(success.status, encodeBody(success.body), {
      headers: responseHeaders(success),
    });
    const outcome = await publishOnce(context);
    if (outcome.status === 'rejected') throw outcome.reason;
    const result = outcome.value;
    expect(result.status).toBe('published');
    expect(result.postId).toBe(publishOptions.expected.postId);
    if (publishOptions.expected.url !== undefined) expect(result.url).toBe(publishOptions.expected.url);
    expect(Array.isArray(result.warnings), 'result.warnings is an array').toBe(true);
    expect(endpointCalls(mockAgent, publishOptions.writeEndpoint), 'the create is sent exactly once').toHaveLength(1);
    mockAgent.assertNoPendingInterceptors();
    assertCanariesAbsent({ value: result, canaries, context: 'publish result' });
  });

  add('publish.dry-run', 'publish() inside a dry-run context never sends the create', async (context) => {
    const { mockAgent } = context;
    publishOptions.setup?.(mockAgent);
    intercept({ mockAgent, endpoint: publishOptions.writeEndpoint })
      .reply(publishOptions.writeEndpoint.success.status, encodeBody(publishOptions.writeEndpoint.success.body), {
        headers: responseHeaders(publishOptions.writeEndpoint.success),
      })
      .persist();
    const outcome = await runWithPublishContext({ dryRun: true }, () => publishOnce(context));
    expect(endpointCalls(mockAgent, publishOptions.writeEndpoint), 'no create during a dry run').toHaveLength(0);
    if (outcome.status === 'fulfilled') expect(outcome.value.status).not.toBe('published');
    else expect(LetmepostError.isInstance(outcome.reason), String(outcome.reason)).toBe(true);
  });

  const failure = (scenario: ConformanceFailureScenario, title: string, arrange: (context: Harness, abort: AbortController) => void) =>
    add(`publish.${scenario}`, title, async (context) => {
      const { mockAgent } = context;
      publishOptions.setup?.(mockAgent);
      const controller = new AbortController();
      arrange(context, controller);
      const started = performance.now();
      const outcome = await publishOnce(context, scenario === 'abort' ? controller.signal : undefined);
      if (scenario === 'abort') expect(performance.now() - started, 'publish settled promptly after the abort').toBeLessThan(2_000);
      const label = `publish answered ${scenario}`;
      const error = failureOf(outcome, label);
      expectLetmepostError(error, publishOptions.expectedCodes?.[scenario] ?? DEFAULT_CODES[scenario], label);
      if (scenario === 429) {
        expect(error.retryAfterMs, 'retryAfterMs from the rate-limit headers').toBe(publishOptions.rateLimit.retryAfterMs);
      }
      const attempts = [...endpointCalls(mockAgent, publishOptions.writeEndpoint).map((call) => `${call.method} ${call.fullUrl}`), ...context.faulted];
      if (scenario === 'connect-error') {
        // Nothing reached the platform, so repeating is safe; it must still end.
        expect(attempts.length, `${label}: attempts`).toBeGreaterThanOrEqual(1);
      } else {
        expect(attempts, `${label}: the create must be sent exactly once, never re-sent`).toHaveLength(1);
      }
      assertCanariesAbsent({ value: error, canaries, context: label });
      if (outcome.status === 'fulfilled') assertCanariesAbsent({ value: outcome.value, canaries, context: `${label} (result)` });
    });

  const statusScenario = (status: ConformanceStatusScenario, title: string) =>
    failure(status, title, ({ mockAgent }) => {
      const rateLimited = status === 429;
      const body = rateLimited ? publishOptions.rateLimit.body : publishOptions.errorBodies?.[status];
      const response = { status, body: body ?? {}, headers: rateLimited ? publishOptions.rateLimit.headers : {} };
      intercept({ mockAgent, endpoint: publishOptions.writeEndpoint })
        .reply(status, encodeBody(response.body), { headers: responseHeaders(response) })
        .persist();
    });

  statusScenario(401, 'maps 401 on the create to auth_expired or reauth_required');
  statusScenario(403, 'maps 403 on the create to permission_denied');
  statusScenario(429, 'maps 429 to rate_limited with retryAfterMs from the headers');
  statusScenario(500, 'maps 500 on the create to publish_outcome_unknown or platform_unavailable, never re-sent');
  statusScenario(502, 'maps 502 on the create to publish_outcome_unknown or platform_unavailable, never re-sent');
  statusScenario(503, 'maps 503 on the create to publish_outcome_unknown or platform_unavailable, never re-sent');

  failure('malformed-json', 'maps a 2xx with a truncated JSON body to a LetmepostError', ({ mockAgent }) => {
    const success = publishOptions.writeEndpoint.success;
    intercept({ mockAgent, endpoint: publishOptions.writeEndpoint })
      .reply(success.status, '{"id": "12', { headers: { 'content-type': 'application/json' } })
      .persist();
  });

  failure('unexpected-shape', 'maps a 2xx whose JSON lacks the expected fields to a LetmepostError', ({ mockAgent }) => {
    const success = publishOptions.writeEndpoint.success;
    intercept({ mockAgent, endpoint: publishOptions.writeEndpoint })
      .reply(success.status, JSON.stringify({ unexpected: [true] }), { headers: { 'content-type': 'application/json' } })
      .persist();
  });

  failure('network-error', 'maps a connection dropped after the create was written to publish_outcome_unknown, never re-sent', (context) => {
    context.fault = { endpoint: publishOptions.writeEndpoint, kind: 'drop' };
  });

  failure('connect-error', 'maps a connection that could not be opened to a LetmepostError', ({ mockAgent }) => {
    intercept({ mockAgent, endpoint: publishOptions.writeEndpoint })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED 203.0.113.7:443'), { code: 'ECONNREFUSED' }))
      .persist();
  });

  failure('abort', 'maps an abort while the create is in flight to publish_outcome_unknown, promptly, never re-sent', (context, controller) => {
    context.fault = { endpoint: publishOptions.writeEndpoint, kind: 'hang', onWritten: () => controller.abort() };
  });

  const successError = publishOptions.successErrorBody;
  if (successError !== undefined) {
    add('publish.2xx-error-body', 'a failure reported in a 2xx body is a typed error, not an unknown outcome, sent once', async (context) => {
      const { mockAgent } = context;
      publishOptions.setup?.(mockAgent);
      const response = { status: successError.status ?? 200, body: successError.body };
      intercept({ mockAgent, endpoint: publishOptions.writeEndpoint }).reply(response.status, encodeBody(response.body), { headers: responseHeaders(response) }).persist();
      const outcome = await publishOnce(context);
      const error = failureOf(outcome, 'a 2xx error body');
      const codes = successError.codes ?? ERROR_CODES_EXCEPT_UNKNOWN;
      expectLetmepostError(error, codes, 'a 2xx error body');
      expect(endpointCalls(mockAgent, publishOptions.writeEndpoint), 'the create is sent once').toHaveLength(1);
      assertCanariesAbsent({ value: error, canaries, context: 'a 2xx error body' });
    });
  }

  // Sections for optional methods: present only when the provider has the method. A provider
  // that has it must describe the platform's answers (or skip the check with a reason).
  const probe = options.createProvider({ dispatcher: new MockAgent(), clock });
  const methods = probe as AnyProvider & OptionalMethods;
  const required = (name: string, given: unknown, id: ProviderCheckId) => {
    if (given !== undefined) return false;
    add(id, `${name}() exists, so the kit needs options.${optionName(id)} to test it`, async () => {
      throw new Error(`The provider has ${name}(); pass options.${optionName(id)} (or list "${id}" in skip with a reason).`);
    });
    return true;
  };

  if (typeof methods.refresh === 'function' && !required('refresh', options.refresh, 'refresh.rotation')) {
    const refresh = options.refresh as ProviderRefreshConformanceOptions;
    const refreshCanaries = [refresh.tokens.accessToken, refresh.tokens.refreshToken ?? '', refresh.client?.clientSecret ?? '', refresh.expected.accessToken, refresh.expected.refreshToken ?? ''].filter((value) => value.length > 0);
    const callRefresh = (provider: AnyProvider) =>
      settle(
        (provider as AnyProvider & OptionalMethods).refresh!({
          tokens: refresh.tokens,
          ...(refresh.client !== undefined && { client: refresh.client }),
          ...(refresh.grantData !== undefined && { grantData: refresh.grantData }),
        }),
      );
    add('refresh.rotation', 'refresh() sends the stored refresh token once and returns the rotated token set', async (context) => {
      const { mockAgent } = context;
      const bodies: string[] = [];
      intercept({ mockAgent, endpoint: refresh.endpoint }).reply((request) => {
        bodies.push(bodyText(request.body));
        return { statusCode: refresh.rotated.status, data: encodeBody(refresh.rotated.body), responseOptions: { headers: responseHeaders(refresh.rotated) } };
      });
      const outcome = await callRefresh(context.provider);
      if (outcome.status === 'rejected') throw outcome.reason;
      expect(endpointCalls(mockAgent, refresh.endpoint), 'one refresh request').toHaveLength(1);
      const sent = `${bodies[0] ?? ''} ${JSON.stringify(endpointCalls(mockAgent, refresh.endpoint)[0]?.headers ?? {})}`;
      if (refresh.tokens.refreshToken) expect(sent.includes(refresh.tokens.refreshToken), 'the stored refresh token is sent').toBe(true);
      const tokens = outcome.value as TokenSet;
      expect(tokens.accessToken).toBe(refresh.expected.accessToken);
      expect(tokens.refreshToken, 'the rotated refresh token is returned, so the caller can keep it').toBe(refresh.expected.refreshToken);
    });
    if (refresh.withoutRefreshToken !== undefined) {
      const answer = refresh.withoutRefreshToken;
      add('refresh.missing-refresh-token', 'refresh() never invents a refresh token the answer did not carry', async (context) => {
        const { mockAgent } = context;
        intercept({ mockAgent, endpoint: refresh.endpoint }).reply(answer.status, encodeBody(answer.body), { headers: responseHeaders(answer) });
        const outcome = await callRefresh(context.provider);
        if (outcome.status === 'rejected') throw outcome.reason;
        const tokens = outcome.value as TokenSet;
        expect([undefined, refresh.tokens.refreshToken], 'the stored refresh token or none').toContain(tokens.refreshToken);
        assertCanariesAbsent({ value: { ...tokens, accessToken: '', refreshToken: '' }, canaries: refreshCanaries, context: 'refreshed token set outside its token fields' });
      });
    }
  }

  if (typeof methods.listAccounts === 'function' && !required('listAccounts', options.accounts, 'accounts.multiple')) {
    const accounts = options.accounts as ProviderAccountsConformanceOptions;
    add('accounts.multiple', 'listAccounts() returns every account of the grant, each with data its accountSchema accepts', async (context) => {
      const { mockAgent, provider } = context;
      accounts.setup(mockAgent);
      const listed = await (provider as AnyProvider & OptionalMethods).listAccounts!({ tokens: accounts.tokens, client: accounts.client });
      expect(listed.map((account) => account.platformAccountId)).toEqual([...accounts.expectedAccountIds]);
      for (const account of listed) {
        if (account.data !== undefined) expect(provider.accountSchema.safeParse(account.data).success, `account ${account.platformAccountId} data`).toBe(true);
        // A login may yield accounts of a sibling platform (Facebook Pages and Instagram).
        const platform = (account as { platform?: unknown }).platform;
        if (platform !== undefined) expect(isPlatformId(platform), `account ${account.platformAccountId} platform`).toBe(true);
      }
      assertCanariesAbsent({ value: listed.map(({ tokens: _tokens, ...account }) => account), canaries: [accounts.tokens.accessToken], context: 'listed accounts' });
    });
  }

  if (typeof methods.listTargets === 'function' && !required('listTargets', options.targets, 'targets.list')) {
    const targets = options.targets as ProviderTargetsConformanceOptions;
    add('targets.list', 'listTargets() returns destinations whose options the optionsSchema accepts', async (context) => {
      const { mockAgent, provider } = context;
      targets.setup(mockAgent);
      const auth = targets.auth;
      const account = targets.account ?? (auth.type === 'account' ? auth.account : undefined);
      if (account === undefined) throw new Error('options.targets needs an account (or an auth of type account).');
      const answer = await (provider as AnyProvider & OptionalMethods).listTargets!({ auth, account });
      expect(answer.targets.map((target) => target.id)).toEqual([...targets.expectedTargetIds]);
      for (const target of answer.targets) {
        expect(typeof target.name).toBe('string');
        expect(provider.optionsSchema.safeParse(target.options).success, `target ${target.id}: options must be publishable as they are`).toBe(true);
      }
    });
  }

  if (typeof methods.deletePost === 'function' && !required('deletePost', options.delete, 'delete.once')) {
    const deletion = options.delete as ProviderDeleteConformanceOptions;
    add('delete.once', 'deletePost() sends one delete for the post', async (context) => {
      const { mockAgent, provider } = context;
      const success = deletion.endpoint.success;
      intercept({ mockAgent, endpoint: deletion.endpoint }).reply(success.status, encodeBody(success.body), { headers: responseHeaders(success) });
      await provider.deletePost!({ auth: deletion.auth, postId: deletion.postId });
      expect(endpointCalls(mockAgent, deletion.endpoint)).toHaveLength(1);
      mockAgent.assertNoPendingInterceptors();
    });
    add('delete.not-found', 'deletePost() maps a post the platform does not know to not_found, without leaking secrets', async (context) => {
      const { mockAgent, provider } = context;
      if (deletion.notFound === 'idempotent') {
        const success = deletion.endpoint.success;
        intercept({ mockAgent, endpoint: deletion.endpoint }).reply(success.status, encodeBody(success.body), { headers: responseHeaders(success) });
        await provider.deletePost!({ auth: deletion.auth, postId: deletion.postId });
        return;
      }
      const answer = deletion.notFound ?? { status: 404, body: {} };
      intercept({ mockAgent, endpoint: deletion.endpoint }).reply(answer.status, encodeBody(answer.body), { headers: responseHeaders(answer) });
      const outcome = await settle(provider.deletePost!({ auth: deletion.auth, postId: deletion.postId }));
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected') {
        expectLetmepostError(outcome.reason, ['not_found'], 'delete of a missing post');
        assertCanariesAbsent({ value: outcome.reason, canaries, context: 'delete of a missing post' });
      }
    });
  }

  const hasResume = typeof methods.finalize === 'function' || typeof methods.checkStatus === 'function';
  if (hasResume && !required('checkStatus/finalize', options.resume, 'resume.finalize-idempotent')) {
    const resume = options.resume as ProviderResumeConformanceOptions;
    const resumeCall = { auth: resume.auth, resume: resume.resume };
    if (typeof methods.checkStatus === 'function') {
      add('resume.check-status-read-only', 'checkStatus() only reads: it never sends a write', async (context) => {
        const { mockAgent, provider } = context;
        resume.setup?.(mockAgent);
        const success = resume.finalizeEndpoint.success;
        intercept({ mockAgent, endpoint: resume.finalizeEndpoint }).reply(success.status, encodeBody(success.body), { headers: responseHeaders(success) }).persist();
        const outcome = await settle((provider as AnyProvider & OptionalMethods).checkStatus!(resumeCall));
        if (outcome.status === 'rejected') throw outcome.reason;
        const writes = (mockAgent.getCallHistory()?.calls() ?? []).filter((call) => !['GET', 'HEAD'].includes(call.method.toUpperCase()));
        expect(writes.map((call) => `${call.method} ${call.fullUrl}`), 'checkStatus must not write').toEqual([]);
      });
    }
    if (typeof methods.finalize === 'function') {
      add('resume.finalize-idempotent', 'finalize() twice with the same state performs the write once', async (context) => {
        const { mockAgent, provider } = context;
        resume.setup?.(mockAgent);
        const success = resume.finalizeEndpoint.success;
        intercept({ mockAgent, endpoint: resume.finalizeEndpoint }).reply(success.status, encodeBody(success.body), { headers: responseHeaders(success) }).persist();
        const finalize = (provider as AnyProvider & OptionalMethods).finalize!;
        const first = await finalize(resumeCall);
        const second = await finalize(resumeCall);
        expect(first.postId).toBe(resume.expected.postId);
        expect(second.postId, 'the second finalize reports the same post').toBe(resume.expected.postId);
        expect(endpointCalls(mockAgent, resume.finalizeEndpoint), 'the write is performed once').toHaveLength(1);
      });
    }
  }

  const skip = new Set(options.skip ?? []);
  return checks.filter((check) => !skip.has(check.id));
}

function probeId(options: ProviderConformanceOptions): string {
  const dispatcher = new MockAgent();
  dispatcher.disableNetConnect();
  return options.createProvider({ dispatcher, clock: { now: () => options.now ?? CONFORMANCE_NOW } }).id;
}

/**
 * Registers the provider conformance suite with vitest: one `describe` per provider and one `it`
 * per check. Every check builds a fresh provider around a `MockAgent` with net connect disabled.
 */
export function runProviderConformance(options: ProviderConformanceOptions): void {
  const checks = providerConformanceChecks(options);
  const title = options.name ?? `${probeId(options)} provider conformance`;
  // The checks swap the process-wide dispatcher, so they must not interleave with each other.
  describe.sequential(title, () => {
    for (const check of checks) it(`${check.id}: ${check.title}`, check.run);
  });
}
