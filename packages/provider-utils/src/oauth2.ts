import { nodeCrypto } from '@letmepost/core/internal';
import {
  INVALID_CLIENT_RULE,
  LetmepostError,
  systemClock,
  type AuthorizationUrlOptions,
  type ClientCredentials,
  type Clock,
  type ExchangeCodeOptions,
  type ErrorCode,
  type PlatformId,
  type TokenSet,
} from '@letmepost/core';
import { Buffer } from 'node:buffer';
import type * as OAuth4WebApi from 'oauth4webapi';
import type { Dispatcher } from 'undici';
import { createHttpClient, type HttpClient, type HttpTimeouts } from './http-client.js';
import { bodyExcerpt, platformName } from './http-error.js';

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

/** The provider contract's own options: a provider hands them through unchanged. */
export type OAuth2AuthorizationUrlOptions = AuthorizationUrlOptions;

/** The provider contract's own options: a provider hands them through unchanged. */
export type OAuth2ExchangeCodeOptions = ExchangeCodeOptions;

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

/**
 * OAuth 2.0 authorization code + PKCE (S256), refresh and revocation on oauth4webapi, with its
 * HTTP going through our undici client (same dispatcher, timeouts and byte cap) and each
 * platform's deviations declared as `quirks` rather than forked code.
 *
 * Error mapping:
 * - callback `error=...` (e.g. `access_denied`) → `platform_auth_failed`, naming the platform's code;
 * - callback `state` missing or different → `state_invalid` (checked before anything else);
 * - token endpoint `invalid_grant` (+ `quirks.invalidGrantErrors`): on refresh → `reauth_required`;
 *   on code exchange → `platform_auth_failed` (the code, not an account, is dead);
 * - `invalid_client` / `unauthorized_client` → `platform_auth_failed`;
 * - 5xx, network failures → `platform_unavailable` (retryable); 429 → `rate_limited`.
 * Token requests are never re-sent once they may have reached the platform: codes are single-use
 * and rotating refresh tokens die on first use, so a blind retry could lose the grant.
 */
export function createOAuth2Client(options: OAuth2ClientOptions): OAuth2Client {
  const { platform, endpoints } = options;
  const quirks = options.quirks ?? {};
  const clock = options.clock ?? systemClock;
  const scopeSeparator = quirks.scopeSeparator ?? ' ';
  const clientIdParameter = quirks.parameterNames?.clientId ?? 'client_id';
  const invalidGrantErrors = new Set(['invalid_grant', ...(quirks.invalidGrantErrors ?? [])]);
  const httpClient = createHttpClient({
    platform,
    ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    clock,
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    maxResponseBytes: 1024 * 1024,
  });
  const authorizationServer: OAuth4WebApi.AuthorizationServer = {
    issuer: endpoints.issuer ?? new URL(endpoints.tokenEndpoint).origin,
    authorization_endpoint: endpoints.authorizationEndpoint,
    token_endpoint: endpoints.tokenEndpoint,
    ...(endpoints.revocationEndpoint === undefined ? {} : { revocation_endpoint: endpoints.revocationEndpoint }),
  };
  const name = platformName(platform);

  const fail = (fields: { code: ErrorCode; message: string; knownSecrets: readonly string[] } & Partial<ConstructorParameters<typeof LetmepostError>[0]>) =>
    new LetmepostError({ ...fields, platform });

  function requireClient(client: ClientCredentials, needsSecret: boolean): void {
    if (typeof client?.clientId !== 'string' || client.clientId === '') {
      throw fail({ code: 'validation_failed', message: `${name} OAuth needs a client id.`, field: 'client.clientId', knownSecrets: [] });
    }
    if (needsSecret && (typeof client.clientSecret !== 'string' || client.clientSecret === '')) {
      throw fail({
        code: 'validation_failed',
        message: `${name} OAuth needs a client secret for ${quirks.clientAuthentication ?? 'client_secret_basic'} authentication.`,
        field: 'client.clientSecret',
        knownSecrets: [],
      });
    }
  }

  const needsSecret = (quirks.clientAuthentication ?? 'client_secret_basic') !== 'none';

  /** oauth4webapi client authentication, done here so encoding and renames are ours. */
  function clientAuthentication(client: ClientCredentials): OAuth4WebApi.ClientAuth {
    const method = quirks.clientAuthentication ?? 'client_secret_basic';
    return (_as, _client, body, headers) => {
      if (method === 'client_secret_basic') {
        // RFC 6749 section 2.3.1 form-encodes id and secret before Base64. oauth4webapi also escapes
        // `-_.*`, which many platforms do not decode (panva/oauth4webapi#148); the WHATWG form
        // encoding used here leaves them alone, so typical secrets go out byte-identical.
        const credentials = `${formEncode(client.clientId)}:${formEncode(client.clientSecret ?? '')}`;
        headers.set('authorization', `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`);
        body.delete('client_id');
        return;
      }
      body.delete('client_id');
      body.set(clientIdParameter, client.clientId);
      if (method === 'client_secret_post') body.set('client_secret', client.clientSecret ?? '');
    };
  }

  /** oauth4webapi's `customFetch`: our HTTP client, plus `conform` for token endpoint answers. */
  function fetchThrough(fields: { knownSecrets: readonly string[]; isTokenEndpoint: boolean; operation: 'exchange' | 'refresh' | 'revoke'; capture: { raw?: Record<string, unknown> } }) {
    return async (url: string, init: OAuth4WebApi.CustomFetchOptions<'POST' | 'GET', URLSearchParams | undefined>): Promise<Response> => {
      const requestBody = init.body === undefined ? undefined : init.body.toString();
      const response = await callTokenHttp({
        url,
        method: init.method === 'GET' ? 'GET' : 'POST',
        headers: init.headers,
        body: requestBody,
        signal: init.signal,
        knownSecrets: fields.knownSecrets,
        operation: fields.operation,
        client: httpClient,
      });
      if (!fields.isTokenEndpoint) return new Response(response.body.byteLength === 0 ? null : response.body, { status: response.status, headers: response.headers });

      let body: unknown = parseMaybeJson(response.text());
      let status = response.status;
      if (quirks.conform) ({ status, body } = quirks.conform({ status, body }));

      const isRecord = body !== null && typeof body === 'object' && !Array.isArray(body);
      const isOAuthError = isRecord && typeof (body as Record<string, unknown>).error === 'string';
      if (status === 200 && isRecord && !isOAuthError) {
        const record = body as Record<string, unknown>;
        fields.capture.raw = record;
        // We are not an OpenID Connect relying party here; an ID token (LinkedIn with `openid`)
        // stays available in `raw` but is not validated as one.
        const { id_token: _idToken, ...forValidation } = record;
        return jsonResponse(status, forValidation);
      }
      if (!isOAuthError) {
        throw tokenStatusError({ status, body, operation: fields.operation, knownSecrets: fields.knownSecrets });
      }
      return jsonResponse(status === 200 ? 400 : status, body);
    };
  }

  function tokenStatusError(fields: { status: number; body: unknown; operation: 'exchange' | 'refresh' | 'revoke'; knownSecrets: readonly string[] }): LetmepostError {
    const { status, operation } = fields;
    const platformResponse = { status, body: typeof fields.body === 'string' ? bodyExcerpt({ text: fields.body, knownSecrets: fields.knownSecrets }) : fields.body };
    const label = operationLabel(operation);
    if (status === 429) {
      return fail({ code: 'rate_limited', message: `${name} rate-limited the ${label} (429).`, status, platformResponse, knownSecrets: fields.knownSecrets });
    }
    if (status >= 500) {
      return fail({ code: 'platform_unavailable', message: `${name} failed the ${label} (${status}).`, status, platformResponse, knownSecrets: fields.knownSecrets });
    }
    if (status >= 200 && status < 300) {
      return fail({
        code: operation === 'exchange' ? 'platform_auth_failed' : 'platform_unavailable',
        message: `${name} answered the ${label} with ${status} but no usable token response.`,
        status,
        retryable: false,
        platformResponse,
        knownSecrets: fields.knownSecrets,
      });
    }
    return fail({
      code: operation === 'exchange' ? 'platform_auth_failed' : status === 401 || status === 403 ? 'platform_auth_failed' : 'platform_rejected',
      message: `${name} refused the ${label} (${status}).`,
      status,
      platformResponse,
      knownSecrets: fields.knownSecrets,
    });
  }

  /** Turns whatever oauth4webapi (or our fetch) threw into a LetmepostError. */
  function mapTokenError(fields: { oauth: typeof OAuth4WebApi; error: unknown; operation: 'exchange' | 'refresh' | 'revoke'; knownSecrets: readonly string[] }): LetmepostError {
    const { oauth, error, operation, knownSecrets } = fields;
    const label = operationLabel(operation);
    if (LetmepostError.isInstance(error)) {
      if (error.code === 'publish_outcome_unknown') {
        // The token request may have been consumed; the caller decides whether to try again.
        return fail({
          code: 'platform_unavailable',
          message: `${error.message.replace(/; the post may or may not have been created, so it was not sent again\.$/, '')}. The ${label} may or may not have been processed.`,
          status: error.status,
          retryable: true,
          platformResponse: error.platformResponse,
          knownSecrets,
          cause: error,
        });
      }
      return error;
    }
    if (error instanceof oauth.ResponseBodyError) {
      const oauthError = error.error;
      const description = error.error_description;
      const detail = `${oauthError}${description ? `: ${description}` : ''}`;
      const platformResponse = { status: error.status, body: error.cause };
      if (invalidGrantErrors.has(oauthError)) {
        return operation === 'refresh'
          ? fail({
              code: 'reauth_required',
              message: `${name} no longer accepts this account's refresh token (${detail}); the account must be reconnected.`,
              status: error.status,
              retryable: false,
              platformResponse,
              knownSecrets,
              remediation: 'Ask the user to connect the account again.',
            })
          : fail({
              code: 'platform_auth_failed',
              message: `${name} refused the authorization code (${detail}); start the connection again.`,
              status: error.status,
              retryable: false,
              platformResponse,
              knownSecrets,
            });
      }
      if (oauthError === 'invalid_client' || oauthError === 'unauthorized_client') {
        return fail({
          code: 'platform_auth_failed',
          message: `${name} refused the app credentials during the ${label} (${detail}).`,
          status: error.status,
          // Core forgets an app it registered when the platform no longer knows it.
          ...(oauthError === 'invalid_client' && { rule: INVALID_CLIENT_RULE }),
          retryable: false,
          platformResponse,
          knownSecrets,
          remediation: 'Check the client id and secret configured for this platform.',
        });
      }
      if (oauthError === 'temporarily_unavailable' || oauthError === 'server_error') {
        return fail({ code: 'platform_unavailable', message: `${name} could not complete the ${label} (${detail}).`, status: error.status, platformResponse, knownSecrets });
      }
      return fail({
        code: operation === 'exchange' ? 'platform_auth_failed' : 'platform_rejected',
        message: `${name} refused the ${label} (${detail}).`,
        status: error.status,
        retryable: false,
        platformResponse,
        knownSecrets,
      });
    }
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      return fail({
        code: 'platform_auth_failed',
        message: `${name} refused the app credentials during the ${label} (${error.status}, WWW-Authenticate challenge).`,
        status: error.status,
        retryable: false,
        platformResponse: { status: error.status, challenges: error.cause },
        knownSecrets,
      });
    }
    if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
      return fail({
        code: operation === 'exchange' ? 'platform_auth_failed' : 'platform_unavailable',
        message: `${name} answered the ${label} with an invalid token response: ${error.message}.`,
        retryable: false,
        platformResponse: describeCause((error as { cause?: unknown }).cause),
        knownSecrets,
        cause: error,
      });
    }
    return fail({
      code: 'platform_unavailable',
      message: `The ${name} ${label} failed: ${error instanceof Error ? error.message : String(error)}.`,
      knownSecrets,
      cause: error,
    });
  }

  function toTokenSet(fields: { response: OAuth4WebApi.TokenEndpointResponse; raw: Record<string, unknown> | undefined }): OAuth2TokenSet {
    const { response } = fields;
    const raw = fields.raw ?? { ...response };
    const now = clock.now();
    const tokens: OAuth2TokenSet = {
      accessToken: response.access_token,
      tokenType: response.token_type,
      scopes: splitScopes(typeof response.scope === 'string' ? response.scope : undefined, scopeSeparator),
      raw,
    };
    if (typeof response.refresh_token === 'string' && response.refresh_token !== '') tokens.refreshToken = response.refresh_token;
    if (typeof response.expires_in === 'number' && Number.isFinite(response.expires_in)) {
      tokens.expiresAt = now + Math.round(response.expires_in * 1000);
    }
    const refreshExpiresIn = toNumber(raw.refresh_token_expires_in);
    if (refreshExpiresIn !== undefined) tokens.refreshTokenExpiresAt = now + Math.round(refreshExpiresIn * 1000);
    return tokens;
  }

  function requestOptions(fields: { oauth: typeof OAuth4WebApi; knownSecrets: readonly string[]; isTokenEndpoint: boolean; operation: 'exchange' | 'refresh' | 'revoke'; capture: { raw?: Record<string, unknown> }; signal: AbortSignal | undefined }) {
    const { oauth } = fields;
    const target = fields.isTokenEndpoint ? endpoints.tokenEndpoint : endpoints.revocationEndpoint ?? '';
    return {
      [oauth.customFetch]: fetchThrough(fields),
      // Local sandboxes and test servers speak plain HTTP; production endpoints are HTTPS.
      ...(target.startsWith('http:') ? { [oauth.allowInsecureRequests]: true } : {}),
      ...(fields.signal === undefined ? {} : { signal: fields.signal }),
    };
  }

  return {
    authorizationUrl(authorizationOptions) {
      requireClient(authorizationOptions.client, false);
      const { redirectUri, state, codeChallenge, scopes } = authorizationOptions;
      if (typeof state !== 'string' || state.length < 8) {
        throw fail({ code: 'validation_failed', message: 'The OAuth state must be an unguessable string of at least 8 characters.', field: 'state', knownSecrets: [] });
      }
      if (typeof codeChallenge !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
        throw fail({ code: 'validation_failed', message: 'The PKCE code challenge must be a base64url SHA-256 digest (43 characters).', field: 'codeChallenge', knownSecrets: [] });
      }
      assertUrl({ value: redirectUri, field: 'redirectUri', fail });
      const url = new URL(endpoints.authorizationEndpoint);
      const parameters: Record<string, string> = {
        response_type: 'code',
        [clientIdParameter]: authorizationOptions.client.clientId,
        redirect_uri: redirectUri,
        state,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
      };
      if (scopes.length > 0) parameters.scope = scopes.join(scopeSeparator);
      for (const [key, value] of Object.entries(parameters)) url.searchParams.set(key, value);
      for (const [key, value] of Object.entries(quirks.authorizationParameters ?? {})) {
        // Fixed extras (e.g. `access_type=offline`) never override the security parameters.
        if (!(key in parameters)) url.searchParams.set(key, value);
      }
      return url;
    },

    async exchangeCode(exchangeOptions) {
      const { client, redirectUri, callbackUrl, state, codeVerifier, signal } = exchangeOptions;
      requireClient(client, needsSecret);
      const callbackParameters = new URLSearchParams(callbackUrl.searchParams);
      const code = callbackParameters.get('code') ?? '';
      const knownSecrets = secretsOf([...clientSecrets(client), codeVerifier, code]);

      const receivedState = callbackParameters.get('state');
      if (receivedState === null || !constantTimeEqual(receivedState, state)) {
        throw fail({
          code: 'state_invalid',
          message: receivedState === null
            ? `The ${name} callback carries no state; it cannot be matched to a connect session.`
            : `The ${name} callback's state does not match the connect session (expired, reused or forged).`,
          retryable: false,
          knownSecrets,
        });
      }
      // Without a declared issuer we cannot check `iss`, and a made-up one would reject it.
      if (endpoints.issuer === undefined) callbackParameters.delete('iss');

      const oauth = await loadOAuth4WebApi();
      const oauthClient: OAuth4WebApi.Client = { client_id: client.clientId };
      let validated: URLSearchParams;
      try {
        validated = oauth.validateAuthResponse(authorizationServer, oauthClient, callbackParameters, state);
      } catch (error) {
        if (error instanceof oauth.AuthorizationResponseError) {
          throw fail({
            code: 'platform_auth_failed',
            message: `${name} did not grant access (${error.error}${error.error_description ? `: ${error.error_description}` : ''}).`,
            retryable: false,
            platformResponse: {
              error: error.error,
              error_description: error.error_description,
              error_uri: error.cause.get('error_uri') ?? undefined,
            },
            remediation: error.error === 'access_denied' ? 'The user declined; they can start the connection again.' : undefined,
            knownSecrets,
          });
        }
        throw fail({
          code: 'platform_auth_failed',
          message: `The ${name} callback is invalid: ${error instanceof Error ? error.message : String(error)}.`,
          retryable: false,
          knownSecrets,
          cause: error,
        });
      }
      if (!validated.get('code')) {
        throw fail({ code: 'platform_auth_failed', message: `The ${name} callback carries no authorization code.`, retryable: false, knownSecrets });
      }
      const capture: { raw?: Record<string, unknown> } = {};
      try {
        const response = await oauth.authorizationCodeGrantRequest(
          authorizationServer,
          oauthClient,
          clientAuthentication(client),
          validated,
          redirectUri,
          codeVerifier,
          {
            ...requestOptions({ oauth, knownSecrets, isTokenEndpoint: true, operation: 'exchange', capture, signal }),
            ...(quirks.tokenParameters === undefined ? {} : { additionalParameters: quirks.tokenParameters }),
          },
        );
        const result = await oauth.processAuthorizationCodeResponse(authorizationServer, oauthClient, response);
        return toTokenSet({ response: result, raw: capture.raw });
      } catch (error) {
        throw mapTokenError({ oauth, error, operation: 'exchange', knownSecrets });
      }
    },

    async refresh(refreshOptions) {
      const { client, refreshToken, signal } = refreshOptions;
      requireClient(client, needsSecret);
      if (typeof refreshToken !== 'string' || refreshToken === '') {
        throw fail({ code: 'reauth_required', message: `There is no ${name} refresh token; the account must be reconnected.`, retryable: false, knownSecrets: [] });
      }
      const knownSecrets = secretsOf([...clientSecrets(client), refreshToken]);
      const oauth = await loadOAuth4WebApi();
      const oauthClient: OAuth4WebApi.Client = { client_id: client.clientId };
      const additionalParameters: Record<string, string> = { ...quirks.tokenParameters };
      if (refreshOptions.scopes && refreshOptions.scopes.length > 0) additionalParameters.scope = refreshOptions.scopes.join(scopeSeparator);
      const capture: { raw?: Record<string, unknown> } = {};
      try {
        const response = await oauth.refreshTokenGrantRequest(authorizationServer, oauthClient, clientAuthentication(client), refreshToken, {
          ...requestOptions({ oauth, knownSecrets, isTokenEndpoint: true, operation: 'refresh', capture, signal }),
          ...(Object.keys(additionalParameters).length === 0 ? {} : { additionalParameters }),
        });
        const result = await oauth.processRefreshTokenResponse(authorizationServer, oauthClient, response);
        return toTokenSet({ response: result, raw: capture.raw });
      } catch (error) {
        throw mapTokenError({ oauth, error, operation: 'refresh', knownSecrets });
      }
    },

    async revoke(revokeOptions) {
      const { client, token, tokenTypeHint, signal } = revokeOptions;
      if (endpoints.revocationEndpoint === undefined) {
        throw fail({ code: 'not_supported', message: `${name} has no token revocation endpoint.`, retryable: false, knownSecrets: [] });
      }
      requireClient(client, needsSecret);
      const knownSecrets = secretsOf([...clientSecrets(client), token]);
      const oauth = await loadOAuth4WebApi();
      const oauthClient: OAuth4WebApi.Client = { client_id: client.clientId };
      try {
        const response = await oauth.revocationRequest(authorizationServer, oauthClient, clientAuthentication(client), token, {
          ...requestOptions({ oauth, knownSecrets, isTokenEndpoint: false, operation: 'revoke', capture: {}, signal }),
          ...(tokenTypeHint === undefined ? {} : { additionalParameters: { token_type_hint: tokenTypeHint } }),
        });
        if (response.status >= 300) {
          const text = await response.text();
          const body = parseMaybeJson(text);
          if (body !== null && typeof body === 'object' && typeof (body as Record<string, unknown>).error === 'string') {
            await oauth.processRevocationResponse(jsonResponse(response.status, body));
          }
          throw tokenStatusError({ status: response.status, body, operation: 'revoke', knownSecrets });
        }
        await response.body?.cancel();
      } catch (error) {
        throw mapTokenError({ oauth, error, operation: 'revoke', knownSecrets });
      }
    },
  };
}

// ---- internals -------------------------------------------------------------------------------

let oauth4webapi: Promise<typeof OAuth4WebApi> | undefined;

/**
 * oauth4webapi, imported by the first OAuth step that needs it (a code exchange, refresh or
 * revocation) rather than with the package: compiling it is a few milliseconds of every cold
 * start, and a process that only publishes with fresh tokens never needs it.
 */
function loadOAuth4WebApi(): Promise<typeof OAuth4WebApi> {
  oauth4webapi ??= import('oauth4webapi');
  return oauth4webapi;
}

async function callTokenHttp(fields: {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
  knownSecrets: readonly string[];
  operation: 'exchange' | 'refresh' | 'revoke';
  client: HttpClient;
}) {
  const contentType = fields.headers['content-type'] ?? 'application/x-www-form-urlencoded;charset=UTF-8';
  return fields.client.request({
    method: fields.method,
    url: fields.url,
    headers: fields.headers,
    ...(fields.body === undefined ? {} : { body: { bytes: Buffer.from(fields.body, 'utf8'), contentType } }),
    // Revocation is idempotent; codes and rotating refresh tokens are not.
    retry: fields.operation === 'revoke' ? 'idempotent' : 'create',
    // Token calls are bookkeeping, not publishing: a dry-run publish may still refresh.
    isWrite: fields.operation === 'revoke',
    secrets: fields.knownSecrets,
    ...(fields.signal === undefined ? {} : { signal: fields.signal }),
    // 4xx answers are OAuth errors for oauth4webapi to parse; 429 and 5xx are mapped by the client.
    acceptStatus: (status) => status < 500 && status !== 429,
  });
}

function operationLabel(operation: 'exchange' | 'refresh' | 'revoke'): string {
  return operation === 'exchange' ? 'authorization code exchange' : operation === 'refresh' ? 'token refresh' : 'token revocation';
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function parseMaybeJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}

function describeCause(cause: unknown): unknown {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof Response) return { status: cause.status };
  if (typeof cause === 'object' && 'body' in cause) return { body: (cause as { body: unknown }).body };
  return undefined;
}

/** Splits granted scopes on the platform's separator and on whitespace (a repaired array is joined with spaces). */
function splitScopes(scope: string | undefined, separator: string): string[] {
  if (scope === undefined) return [];
  return scope
    .split(separator)
    .flatMap((part) => part.split(/\s+/))
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

function constantTimeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left, 'utf8');
  const b = Buffer.from(right, 'utf8');
  return a.byteLength === b.byteLength && nodeCrypto().timingSafeEqual(a, b);
}

/** The secret, and the Basic credentials built from it (a platform may echo the header back). */
function clientSecrets(client: ClientCredentials): string[] {
  if (!client.clientSecret) return [];
  return [client.clientSecret, Buffer.from(`${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`, 'utf8').toString('base64')];
}

function secretsOf(values: ReadonlyArray<string | undefined>): string[] {
  return values.filter((value): value is string => typeof value === 'string' && value.length > 0);
}

function assertUrl(fields: { value: string; field: string; fail: (options: { code: ErrorCode; message: string; field: string; knownSecrets: readonly string[] }) => LetmepostError }): void {
  try {
    new URL(fields.value);
  } catch {
    throw fields.fail({ code: 'validation_failed', message: `${fields.field} must be an absolute URL.`, field: fields.field, knownSecrets: [] });
  }
}

/**
 * A ready-made `conform` for the usual deviations: tokens nested under `data`, a missing
 * `token_type`, numbers sent as strings, scopes sent as an array. Providers compose it with
 * their own repairs.
 */
export function repairTokenResponse(response: { status: number; body: unknown }): { status: number; body: unknown } {
  let body = response.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return response;
  let record = body as Record<string, unknown>;
  const nested = record.data;
  if (record.access_token === undefined && nested !== null && typeof nested === 'object' && !Array.isArray(nested)) {
    record = { ...(nested as Record<string, unknown>) };
  } else {
    record = { ...record };
  }
  if (typeof record.access_token === 'string') {
    if (record.token_type === undefined || record.token_type === null || record.token_type === '') record.token_type = 'bearer';
    const expiresIn = toNumber(record.expires_in);
    if (expiresIn !== undefined) record.expires_in = expiresIn;
    else if (record.expires_in === null || record.expires_in === '') delete record.expires_in;
    const refreshExpiresIn = toNumber(record.refresh_token_expires_in);
    if (refreshExpiresIn !== undefined) record.refresh_token_expires_in = refreshExpiresIn;
    if (Array.isArray(record.scope)) record.scope = record.scope.filter((item) => typeof item === 'string').join(' ');
    if (record.refresh_token === null || record.refresh_token === '') delete record.refresh_token;
  }
  body = record;
  return { status: response.status, body };
}
