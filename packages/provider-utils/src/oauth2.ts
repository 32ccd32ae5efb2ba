import type { ClientCredentials, Clock, PlatformId, TokenSet } from '@letmepost/core';
import type { Dispatcher } from 'undici';
import type { HttpTimeouts } from './http-client.js';

export interface OAuth2Endpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  /** Expected `iss` in callbacks when the platform sends one (RFC 9207). */
  issuer?: string;
}

/** Declared deviations from RFC 6749 (and friends) of one platform. */
export interface OAuth2Quirks {
  /** How the client authenticates at the token endpoint. Default `client_secret_basic`. */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Joins scopes in the authorization URL and splits granted scopes. Default `' '`. */
  scopeSeparator?: string;
  /** Extra fixed parameters for the authorization URL. */
  authorizationParameters?: Record<string, string>;
  /** Extra fixed parameters for token requests (code exchange and refresh). */
  tokenParameters?: Record<string, string>;
  /** Renamed standard parameters, e.g. TikTok's `client_key` for `client_id`. */
  parameterNames?: { clientId?: string };
  /**
   * Repairs a non-standard token endpoint answer before it is validated (as Auth.js `conform`
   * does): a missing `token_type`, `expires_in` as a string, scopes as an array, tokens nested
   * under `data`, an error sent with status 200.
   */
  conform?: (response: { status: number; body: unknown }) => { status: number; body: unknown };
  /** Extra OAuth error codes that mean "the grant is dead" (X answers `invalid_request`). */
  invalidGrantErrors?: readonly string[];
}

/** A token answer: the standard fields, plus the whole body for platform-specific extras. */
export interface OAuth2TokenSet extends TokenSet {
  tokenType: string;
  scopes: string[];
  /** The token endpoint's JSON (after `conform`), e.g. LinkedIn's `refresh_token_expires_in`. */
  raw: Record<string, unknown>;
}

export interface OAuth2ClientOptions {
  platform: PlatformId;
  endpoints: OAuth2Endpoints;
  quirks?: OAuth2Quirks;
  dispatcher?: Dispatcher;
  clock?: Clock;
  timeouts?: HttpTimeouts;
}

export interface OAuth2AuthorizationUrlOptions {
  client: ClientCredentials;
  redirectUri: string;
  state: string;
  /** S256 challenge of the verifier kept server-side. */
  codeChallenge: string;
  scopes: readonly string[];
}

export interface OAuth2ExchangeCodeOptions {
  client: ClientCredentials;
  redirectUri: string;
  /** The callback URL exactly as received, so `error`, `state` and `iss` are checked too. */
  callbackUrl: URL;
  /** The state this session issued. */
  state: string;
  codeVerifier: string;
  signal?: AbortSignal;
}

export interface OAuth2RefreshOptions {
  client: ClientCredentials;
  refreshToken: string;
  /** Narrower scopes, for platforms that accept them on refresh. */
  scopes?: readonly string[];
  signal?: AbortSignal;
}

export interface OAuth2RevokeOptions {
  client: ClientCredentials;
  token: string;
  tokenTypeHint?: 'access_token' | 'refresh_token' | (string & {});
  signal?: AbortSignal;
}

export interface OAuth2Client {
  authorizationUrl(options: OAuth2AuthorizationUrlOptions): URL;
  /** Callback `error=...` → `platform_auth_failed`; state mismatch → `state_invalid`. */
  exchangeCode(options: OAuth2ExchangeCodeOptions): Promise<OAuth2TokenSet>;
  /** `invalid_grant` (and declared extras) → `reauth_required`. */
  refresh(options: OAuth2RefreshOptions): Promise<OAuth2TokenSet>;
  revoke(options: OAuth2RevokeOptions): Promise<void>;
}

export function createOAuth2Client(options: OAuth2ClientOptions): OAuth2Client {
  void options;
  throw new Error('createOAuth2Client: not implemented yet');
}
