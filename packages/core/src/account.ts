import type { PlatformId } from './platform-id.js';

/**
 * Tokens as a provider returns them and core stores them (encrypted as a whole). Times are epoch
 * milliseconds from the injected clock.
 */
export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  tokenType?: string;
  expiresAt?: number;
  refreshTokenExpiresAt?: number;
  scopes?: string[];
  /** Further secrets a provider needs (OAuth 1.0a token secret, app password, page token). */
  secrets?: Record<string, string>;
}

/** OAuth client (app) credentials: the instance's own, or a workspace's white-label app. */
export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
}

/**
 * One account a grant gives access to, as the provider describes it. `data` is provider-specific
 * and non-secret (person URN, PDS URL, page id) and is validated by the provider's
 * `accountSchema`; secrets belong in `tokens`.
 */
export interface ProviderAccount {
  /**
   * The platform this account publishes through, when it is not the provider's own: a Facebook
   * login yields Instagram accounts (`'instagram'`). Defaults to the provider's id. An account
   * whose platform has no registered provider is skipped at connect, with a warning.
   */
  platform?: PlatformId;
  platformAccountId: string;
  kind?: 'person' | 'organization' | 'page' | 'channel' | 'blog' | 'bot' | 'board';
  username?: string;
  displayName?: string;
  avatarUrl?: string;
  profileUrl?: string;
  data?: Record<string, unknown>;
  /** Per-account tokens when one grant yields several accounts with their own (Facebook Pages). */
  tokens?: TokenSet;
}

export type AccountStatus = 'active' | 'reauth_required';

/** What `accounts.list/get` return. Never carries a secret. */
export interface Account {
  id: string;
  workspaceId: string;
  platform: PlatformId;
  platformAccountId: string;
  kind?: ProviderAccount['kind'];
  username?: string;
  displayName?: string;
  avatarUrl?: string;
  profileUrl?: string;
  status: AccountStatus;
  scopes?: string[];
  /** When the access token expires (refresh is automatic where the platform allows). */
  expiresAt?: number;
  /** When the account can no longer be refreshed and must be reconnected (e.g. LinkedIn 60 days). */
  reauthBy?: number;
  createdAt: number;
  updatedAt: number;
}
