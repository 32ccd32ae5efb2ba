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
  /** Stable id, `<platform>.<area>.<rule>`, e.g. `bluesky.text.max_graphemes`. */
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

export interface AuthorizationUrlOptions {
  client: ClientCredentials;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scopes: readonly string[];
}

export interface ExchangeCodeOptions {
  client: ClientCredentials;
  redirectUri: string;
  /** The full callback URL as received, so error/state parameters are checked too. */
  callbackUrl: URL;
  state: string;
  codeVerifier: string;
  signal?: AbortSignal;
}

export interface ConnectedAccountGrant {
  account: ProviderAccount;
  tokens: TokenSet;
}

/**
 * What every `@letmepost/provider-<id>` returns from `create<Brand>(settings)`: a stateless
 * object. Methods a platform does not support are absent. Errors are always `LetmepostError`.
 *
 * `publish` throws only when nothing was written; once an item was created it returns a
 * result whose `items` say what landed and what did not.
 */
export interface ProviderV1<CREDENTIALS = unknown, OPTIONS = unknown> {
  readonly specificationVersion: 'v1';
  readonly id: PlatformId;
  readonly displayName: string;
  readonly auth: ProviderAuth;
  /** Per-request credentials (camelCase); the REST layer maps the snake_case names. */
  readonly credentialSchema: z.ZodType<CREDENTIALS>;
  /** Provider-specific non-secret account `data` as stored. */
  readonly accountSchema: z.ZodType<Record<string, unknown>>;
  /** Per-target options (e.g. Pinterest `boardId`). */
  readonly optionsSchema: z.ZodType<OPTIONS>;
  readonly capabilities: ProviderCapabilities;
  /** The instance-wide app from settings, used for quickstart connects. */
  readonly defaultClient?: ClientCredentials;

  authorizationUrl?(options: AuthorizationUrlOptions): URL;

  exchangeCode?(options: ExchangeCodeOptions): Promise<TokenSet>;

  /** Accounts a fresh grant gives access to (one member, or several Pages/blogs/channels). */
  listAccounts?(options: { tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }): Promise<ProviderAccount[]>;

  /** For `credentials` providers: verify the credentials and return the account and its session. */
  connectWithCredentials?(options: { credentials: CREDENTIALS; signal?: AbortSignal }): Promise<ConnectedAccountGrant>;

  refresh?(options: {
    tokens: TokenSet;
    account: ProviderAccount;
    client?: ClientCredentials;
    signal?: AbortSignal;
  }): Promise<TokenSet>;

  revoke?(options: { tokens: TokenSet; client?: ClientCredentials; signal?: AbortSignal }): Promise<void>;

  /** Pure preflight, no I/O: every issue found, not just the first. */
  validate(options: { post: Post; options: OPTIONS }): ValidationIssue[];

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
export type AnyProvider = ProviderV1<any, any>;
