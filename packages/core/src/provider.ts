import type { z } from 'zod';
import type { ClientCredentials, ProviderAccount, TokenSet } from './account.js';
import type { PlatformId } from './platform-id.js';
import type { Post } from './post.js';
import type { PublishResult } from './publish-result.js';

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

export type ProviderPublishResult = Omit<PublishResult, 'platform' | 'accountId' | 'dryRun'>;

export interface AuthorizationUrlOptions {
  client: ClientCredentials;
  redirectUri: string;
  state: string;
  /** S256 challenge of the verifier kept server-side. */
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
export interface ProviderV2<CREDENTIALS = unknown, OPTIONS = unknown> {
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

  /**
   * Pure preflight, no I/O: every platform-specific issue found, not just the first. The checks
   * the declared capabilities express (text length, media counts, types, sizes, threads,
   * replies, first comments) are not repeated here: core runs them with `checkCapabilities`
   * (`validatePost` gives both).
   */
  validate(options: ProviderValidateOptions<OPTIONS>): ValidationIssue[];

  publish(options: ProviderPublishOptions<CREDENTIALS, OPTIONS>): Promise<ProviderPublishResult>;

  checkStatus?(options: {
    auth: PublishAuth<CREDENTIALS>;
    resumeToken: string;
    signal?: AbortSignal;
  }): Promise<ProviderPublishResult>;

  deletePost?(options: { auth: PublishAuth<CREDENTIALS>; postId: string; signal?: AbortSignal }): Promise<void>;
}

// Providers are stored in heterogeneous lists; their generic parameters are erased there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProvider = ProviderV2<any, any>;
