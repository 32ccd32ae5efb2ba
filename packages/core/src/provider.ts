import type { z } from 'zod';
import type { ClientCredentials, ProviderAccount, TokenSet } from './account.js';
import type { PlatformId } from './platform-id.js';
import type { Post } from './post.js';
import type { PublishResult, PublishWarning } from './publish-result.js';

export type ScopeSet = 'write' | 'extended';

export type ProviderAuth =
  | {
      kind: 'oauth2';
      /** `write` is what publishing needs; `extended` adds organisation/analytics scopes. */
      scopes: { write: readonly string[]; extended: readonly string[] };
      pkce: boolean;
      /** How refresh tokens behave: rotated on every use, reusable, or never issued. */
      refresh: 'rotating' | 'reusable' | 'none';
    }
  | { kind: 'oauth1' }
  /** Connected with credentials the user pastes (app passwords, bot tokens). */
  | { kind: 'credentials' };

export type TextUnit = 'characters' | 'graphemes' | 'twitter-weighted' | 'utf16' | 'bytes';

export interface ProviderCapabilities {
  text: { maxLength: number; unit: TextUnit; required: boolean };
  media: {
    maxItems: number;
    maxImages: number;
    maxVideos: number;
    imageMimeTypes: readonly string[];
    videoMimeTypes: readonly string[];
    maxImageBytes?: number;
    maxVideoBytes?: number;
    mixedImagesAndVideo: boolean;
    altText: boolean;
    /** `push`: we upload bytes; `pull`: the platform fetches a public URL. */
    ingest: 'push' | 'pull';
  };
  thread: boolean;
  replyTo: boolean;
  firstComment: boolean;
  /** How `post.link` is rendered: a preview card, appended to the text, or not at all. */
  link: 'card' | 'inline' | 'none';
  deletePost: boolean;
  /** Whether a publish can end `pending` (asynchronous processing). */
  pending: boolean;
}

export interface ValidationIssue {
  /**
   * Stable id, `<platform>.<area>.<rule>`. Checks a declared capability can express use the
   * canonical ids of `CAPABILITY_RULES` (`bluesky.text.max_length`, `linkedin.media.mime_type`);
   * platform-specific rules keep the same shape (`bluesky.text.max_bytes`).
   */
  rule: string;
  message: string;
  /** Path inside the post, e.g. `thread.0.media.1.mimeType`. */
  field?: string;
}

/** How a publish is authorised: a stored account or per-request credentials. */
export type PublishAuth<CREDENTIALS> =
  | { type: 'account'; account: ProviderAccount; tokens: TokenSet }
  | { type: 'credentials'; credentials: CREDENTIALS };

export interface MediaProgressEvent {
  itemIndex: number;
  mediaIndex: number;
  bytesSent: number;
  totalBytes: number;
}

export interface ProviderPublishOptions<CREDENTIALS, OPTIONS> {
  post: Post;
  auth: PublishAuth<CREDENTIALS>;
  options: OPTIONS;
  signal?: AbortSignal;
  onProgress?: (event: MediaProgressEvent) => void;
}

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a provider's `publish`, `checkStatus` and `finalize` answer. A `pending` answer carries
 * `resume`: the provider's own state for finishing later, plain JSON with no secret in it (the
 * account's tokens come back through `auth`). Core seals it into the opaque
 * `PublishResult.resumeToken`; providers never see or produce resume tokens.
 */
export type ProviderPublishResult = Omit<PublishResult, 'platform' | 'accountId' | 'dryRun' | 'resumeToken'> & {
  /** For `pending`: what `checkStatus`/`finalize` need to finish the publish. */
  resume?: JsonValue;
};

/**
 * What `checkStatus` found, without changing anything at the platform:
 * - `pending`: still processing; `resume` replaces the state when given (e.g. a job that finished);
 * - `ready`: the remaining write may run now (core calls `finalize` with this `resume`, or the
 *   one it had);
 * - `published` / `failed` / `unknown`: the platform finished (or failed) on its own; final.
 */
export type ProviderStatusResult =
  | ProviderPublishResult
  | { status: 'ready'; resume?: JsonValue; warnings?: PublishWarning[] };

export interface ProviderResumeOptions<CREDENTIALS> {
  auth: PublishAuth<CREDENTIALS>;
  /** The `resume` state from the provider's last `pending` answer. */
  resume: JsonValue;
  signal?: AbortSignal;
}

export interface AuthorizationUrlOptions<PARAMS = unknown> {
  client: ClientCredentials;
  redirectUri: string;
  state: string;
  /** S256 challenge of the verifier kept server-side. */
  codeChallenge: string;
  scopes: readonly string[];
  /** The connect input as parsed by `connectParamsSchema` (e.g. Mastodon `{ instanceUrl }`). */
  params?: PARAMS;
  signal?: AbortSignal;
}

export interface ExchangeCodeOptions<PARAMS = unknown> {
  client: ClientCredentials;
  redirectUri: string;
  /** The full callback URL as received, so error/state parameters are checked too. */
  callbackUrl: URL;
  state: string;
  codeVerifier: string;
  /** The same parsed connect input `authorizationUrl` received. */
  params?: PARAMS;
  signal?: AbortSignal;
}

/** What `registerClient` returns: an OAuth app registered at the platform for this host. */
export interface RegisteredClient {
  client: ClientCredentials;
  /** Epoch ms when the platform retires the app (Mastodon `client_secret_expires_at`); absent: never. */
  expiresAt?: number;
}

/**
 * One place a post can go inside an account: a Pinterest board, a Discord or Slack channel, a
 * subreddit. `options` is exactly what to pass as the publish target's `options`.
 */
export interface ProviderTarget<OPTIONS = unknown> {
  /** The platform's id for it (board id, channel id, subreddit name). */
  id: string;
  name: string;
  /** Lowercase, e.g. `board`, `channel`, `subreddit`. */
  kind: string;
  options: OPTIONS;
  /** Non-secret facts a picker may show (privacy, flairs, whether the bot is a member). Plain JSON. */
  details?: Record<string, unknown>;
}

export interface ProviderTargetPage<OPTIONS = unknown> {
  targets: Array<ProviderTarget<OPTIONS>>;
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface ConnectedAccountGrant {
  account: ProviderAccount;
  tokens: TokenSet;
  /**
   * Non-secret facts the provider needs to refresh or revoke this grant later (Bluesky: the PDS
   * and DID the session belongs to). Stored in clear on the grant and passed back as `grantData`.
   */
  grantData?: Record<string, unknown>;
}

/**
 * What `refresh` and `revoke` work on: one grant (one consent), whichever of its accounts needed
 * it. No account is given: a grant may serve several (a LinkedIn member and their organisations).
 */
export interface GrantOperationOptions {
  tokens: TokenSet;
  client?: ClientCredentials;
  /** The grant's non-secret facts, as returned in `ConnectedAccountGrant.grantData`. */
  grantData?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** What a provider's `validate` and `capabilitiesFor` receive. */
export interface ProviderValidateOptions<OPTIONS = unknown> {
  post: Post;
  options: OPTIONS;
  /**
   * The stored account the post goes to; absent for per-request credentials. Limits may depend
   * on it (an X Premium account posts longer text).
   */
  account?: ProviderAccount;
}

/**
 * What every `@letmepost/provider-<id>` returns from `create<Brand>(settings)` (usually through
 * provider-utils' `defineProvider`): a stateless object. Methods a platform does not support are
 * absent. Errors are always `LetmepostError`.
 *
 * `publish` throws only when nothing was written; once an item was created it returns a
 * result whose `items` say what landed and what did not.
 */
export interface ProviderV2<CREDENTIALS = unknown, OPTIONS = unknown, PARAMS = unknown> {
  readonly specificationVersion: 'v2';
  readonly id: PlatformId;
  readonly displayName: string;
  readonly auth: ProviderAuth;
  /** Per-request credentials (camelCase); the REST layer maps the snake_case names. */
  readonly credentialSchema: z.ZodType<CREDENTIALS>;
  /** Provider-specific non-secret account `data` as stored. */
  readonly accountSchema: z.ZodType<Record<string, unknown>>;
  /** Per-target options (e.g. Pinterest `boardId`). */
  readonly optionsSchema: z.ZodType<OPTIONS>;
  /** What the platform accepts in general; core checks every post against it before publishing. */
  readonly capabilities: ProviderCapabilities;
  /**
   * The capabilities that apply to one account and one post when they differ from
   * `capabilities` (an X Premium account's longer text; a caption's limit when media is
   * attached). Pure, no I/O. Absent: `capabilities` always apply.
   */
  capabilitiesFor?(options: { account?: ProviderAccount; post: Post }): ProviderCapabilities;
  /** The instance-wide app from settings, used for quickstart connects. */
  readonly defaultClient?: ClientCredentials;

  /**
   * What the user gives before consent, e.g. Mastodon `{ instanceUrl }`. `connect.start({ params })`
   * is checked against it (`validation_failed` naming `params.<field>`) before anything is stored.
   */
  readonly connectParamsSchema?: z.ZodType<PARAMS>;

  /**
   * For platforms where every server is its own OAuth provider: the instance a connect goes to,
   * as a lowercase host name with an optional port (`mastodon.social`, `localhost:3000`). It keys
   * workspace app credentials (`appCredentials.put({ instance })`) and registered clients.
   */
  connectInstance?(options: { params: PARAMS }): string;

  /**
   * Dynamic client registration (Mastodon `POST /api/v1/apps`): registers an app for this host.
   * Core calls it once per (platform, instance), caches the result sealed under
   * `clients/<platform>/<instance>` and re-uses it across workspaces and sessions. Register for
   * every scope the provider may request (write and extended): the cached app serves both.
   */
  registerClient?(options: { params: PARAMS; redirectUri: string; signal?: AbortSignal }): Promise<RegisteredClient>;

  /** May be async (discovery at an instance's `.well-known` document). */
  authorizationUrl?(options: AuthorizationUrlOptions<PARAMS>): URL | Promise<URL>;

  exchangeCode?(options: ExchangeCodeOptions<PARAMS>): Promise<TokenSet>;

  /**
   * Accounts a fresh grant gives access to (one member, or several Pages/blogs/channels). An
   * account of another platform of the same family says so in `platform` (a Facebook login
   * yields Instagram accounts).
   */
  listAccounts?(options: {
    tokens: TokenSet;
    client: ClientCredentials;
    params?: PARAMS;
    signal?: AbortSignal;
  }): Promise<ProviderAccount[]>;

  /**
   * Where a post can go inside an account (Pinterest boards, Discord/Slack channels, subreddits
   * with their flairs), one page at a time. Read-only.
   */
  listTargets?(options: {
    auth: PublishAuth<CREDENTIALS>;
    account: ProviderAccount;
    cursor?: string;
    signal?: AbortSignal;
  }): Promise<ProviderTargetPage<OPTIONS>>;

  /** For `credentials` providers: verify the credentials and return the account and its session. */
  connectWithCredentials?(options: { credentials: CREDENTIALS; signal?: AbortSignal }): Promise<ConnectedAccountGrant>;

  /** Renews the grant's tokens. A refresh token missing from the answer is kept by core. */
  refresh?(options: GrantOperationOptions): Promise<TokenSet>;

  /** Ends the grant at the platform; core calls it when the grant's last account is removed. */
  revoke?(options: GrantOperationOptions): Promise<void>;

  /**
   * Pure preflight, no I/O: every platform-specific issue found, not just the first. The checks
   * the declared capabilities express (text length, media counts, types, sizes, threads,
   * replies, first comments) are not repeated here: core runs them with `checkCapabilities`
   * (`validatePost` gives both).
   */
  validate(options: ProviderValidateOptions<OPTIONS>): ValidationIssue[];

  publish(options: ProviderPublishOptions<CREDENTIALS, OPTIONS>): Promise<ProviderPublishResult>;

  /**
   * For publishes that ended `pending`: where the platform's processing stands. Read-only: it
   * never writes, so it may be called any number of times.
   */
  checkStatus?(options: ProviderResumeOptions<CREDENTIALS>): Promise<ProviderStatusResult>;

  /**
   * The write that completes a `pending` publish once `checkStatus` said `ready` (create the
   * post, publish the container). Idempotent where the platform allows it (a record key fixed in
   * `resume`, a container that publishes once); core also runs it at most once per resume token.
   * May answer `pending` again when the platform is not ready after all.
   */
  finalize?(options: ProviderResumeOptions<CREDENTIALS>): Promise<ProviderPublishResult>;

  deletePost?(options: { auth: PublishAuth<CREDENTIALS>; postId: string; signal?: AbortSignal }): Promise<void>;
}

// Providers are stored in heterogeneous lists; their generic parameters are erased there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProvider = ProviderV2<any, any, any>;
