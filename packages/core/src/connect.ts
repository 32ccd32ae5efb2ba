import { z } from 'zod';
import type { Account, ClientCredentials } from './account.js';
import { clientCredentialsSchema, platformSchema, saveConnectedAccount, stripUndefined, workspaceIdSchema } from './accounts.js';
import { readWorkspaceClient } from './app-credentials.js';
import {
  issuesFromZod,
  parseInput,
  requireProvider,
  secretStrings,
  toLetmepostError,
  validationFailed,
  type LetmepostContext,
} from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import { generateId, generatePkcePair, generateState, sha256Base64Url } from './pkce.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider, ScopeSet } from './provider.js';
import { redactThenShorten } from './redact.js';
import { redirectUriFor } from './redirect-uris.js';
import { decodeRecord, encodeRecord, isStoreConflict, openField, sealField, storeKeys } from './store-layout.js';

/** How long a user has to consent at the platform before the session is gone. */
export const CONNECT_SESSION_TTL_MS = 10 * 60 * 1000;
/** Bound on the code exchange and account listing of one callback. */
const CONNECT_NETWORK_TIMEOUT_MS = 30_000;

export interface ConnectStartResult {
  /** Where to send the user's browser. Carries the state and the S256 challenge, never the verifier. */
  url: string;
  sessionId: string;
  /** Epoch ms after which the callback is refused with `state_invalid`. */
  expiresAt: number;
}

export interface ConnectCompletion {
  accounts: Account[];
  sessionId: string;
  workspaceId: string;
  platform: PlatformId;
  /** Where the host asked to send the user afterwards, as given to `connect.start`. */
  returnTo?: string;
}

export interface ConnectApi {
  start(options: {
    workspaceId: string;
    platform: PlatformId;
    /** Fall back to the instance-wide app (`provider.defaultClient`) when the workspace has none. */
    allowQuickstartCreds?: boolean;
    scopes?: ScopeSet;
    returnTo?: string;
  }): Promise<ConnectStartResult>;
  /** Finishes the OAuth flow from the callback URL the platform redirected the browser to. */
  complete(options: { platform: PlatformId; callbackUrl: string | URL; signal?: AbortSignal }): Promise<Account[]>;
  /** `complete`, plus the session facts a callback handler needs (`returnTo`, workspace). */
  completeSession(options: { platform: PlatformId; callbackUrl: string | URL; signal?: AbortSignal }): Promise<ConnectCompletion>;
  /** Connects with credentials the user pastes (app passwords, bot tokens). */
  withCredentials(options: {
    workspaceId: string;
    platform: PlatformId;
    credentials: unknown;
    signal?: AbortSignal;
  }): Promise<Account>;
}

const connectSessionRecordSchema = z.object({
  v: z.literal(1),
  sessionId: z.string(),
  workspaceId: z.string(),
  platform: platformSchema,
  scopes: z.enum(['write', 'extended']),
  returnTo: z.string().optional(),
  /** Sealed. */
  codeVerifier: z.string(),
  /**
   * Sealed copy of the app the authorization URL was built for: the token request must use the
   * same one even if the workspace replaces or deletes its app while the user is consenting.
   */
  client: z.string(),
  clientSource: z.enum(['workspace', 'quickstart']),
  createdAt: z.number(),
  expiresAt: z.number(),
});

const startSchema = z.object({
  workspaceId: workspaceIdSchema,
  platform: platformSchema,
  allowQuickstartCreds: z.boolean().optional(),
  scopes: z.enum(['write', 'extended']).optional(),
  // Absolute, so a callback handler can redirect to it without guessing an origin.
  returnTo: z.url({ protocol: /^https?$/ }).max(2048).optional(),
});

const completeSchema = z.object({
  platform: platformSchema,
  callbackUrl: z.union([z.instanceof(URL), z.string().min(1)]),
  signal: z.instanceof(AbortSignal).optional(),
});

const withCredentialsSchema = z.object({
  workspaceId: workspaceIdSchema,
  platform: platformSchema,
  credentials: z.unknown(),
  signal: z.instanceof(AbortSignal).optional(),
});

type OAuthProvider = AnyProvider &
  Required<Pick<AnyProvider, 'authorizationUrl' | 'exchangeCode' | 'listAccounts'>> & {
    auth: Extract<AnyProvider['auth'], { kind: 'oauth2' }>;
  };

function requireOAuthProvider({ context, platform }: { context: LetmepostContext; platform: PlatformId }): OAuthProvider {
  const provider = requireProvider({ context, platform });
  if (
    provider.auth.kind !== 'oauth2' ||
    provider.authorizationUrl === undefined ||
    provider.exchangeCode === undefined ||
    provider.listAccounts === undefined
  ) {
    throw new LetmepostError({
      code: 'not_supported',
      platform,
      field: 'platform',
      message: `${provider.displayName} accounts are not connected through OAuth.`,
      remediation:
        provider.connectWithCredentials === undefined
          ? `Pass ${provider.displayName} credentials with each publish instead.`
          : 'Use connect.withCredentials() instead.',
    });
  }
  return provider as OAuthProvider;
}

export function createConnectApi({ context }: { context: LetmepostContext }): ConnectApi {
  const completeSession: ConnectApi['completeSession'] = async (options) => {
    const { platform, callbackUrl: rawCallbackUrl, signal } = parseInput({ schema: completeSchema, input: options });
    const provider = requireOAuthProvider({ context, platform });
    let callbackUrl: URL;
    try {
      callbackUrl = rawCallbackUrl instanceof URL ? new URL(rawCallbackUrl.href) : new URL(rawCallbackUrl);
    } catch {
      throw validationFailed({ issues: [{ field: 'callbackUrl', rule: 'schema.invalid_format', message: 'must be an absolute URL' }] });
    }

    const state = callbackUrl.searchParams.get('state');
    if (state === null || state === '') throw stateInvalid({ platform, reason: 'The callback carries no state parameter.' });

    const session = await consumeSession({ context, state, platform });
    const sessionKey = storeKeys.connectSession({ stateHash: sha256Base64Url({ value: state }) });

    // The platform reports a refused or failed consent on the redirect itself (RFC 6749 4.1.2.1).
    const errorCode = callbackUrl.searchParams.get('error');
    if (errorCode !== null) {
      const description = callbackUrl.searchParams.get('error_description');
      // A platform echoing the callback's own credentials in its prose must not pass them on.
      const callbackSecrets = [state, callbackUrl.searchParams.get('code') ?? ''];
      context.log('warn', 'letmepost.connect.failed', {
        workspaceId: session.workspaceId,
        platform,
        connectId: session.sessionId,
        reason: errorCode,
      });
      throw new LetmepostError({
        code: 'platform_auth_failed',
        platform,
        message: `${provider.displayName} did not grant access (${redactThenShorten({ text: errorCode, maxLength: 100, knownSecrets: callbackSecrets })})${
          description ? `: ${redactThenShorten({ text: description, maxLength: 300, knownSecrets: callbackSecrets })}` : '.'
        }`,
        remediation: errorCode === 'access_denied' ? 'The user declined; start a new connect session to try again.' : undefined,
        platformResponse: { error: errorCode, error_description: description ?? undefined },
      });
    }

    const codeVerifier = openField({
      cipher: context.cipher,
      key: sessionKey,
      field: 'codeVerifier',
      ciphertext: session.codeVerifier,
      schema: z.string(),
    });
    const client = openField({
      cipher: context.cipher,
      key: sessionKey,
      field: 'client',
      ciphertext: session.client,
      schema: clientCredentialsSchema,
    });
    const knownSecrets = [codeVerifier, ...(client.clientSecret ? [client.clientSecret] : [])];
    const networkSignal = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS)])
      : AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS);

    let accounts: Account[];
    try {
      const tokens = await provider.exchangeCode({
        client,
        redirectUri: redirectUriFor({ baseUrl: context.baseUrl, platform }),
        callbackUrl,
        state,
        codeVerifier,
        signal: networkSignal,
      });
      const granted = await provider.listAccounts({ tokens, client, signal: networkSignal });
      if (granted.length === 0) {
        throw new LetmepostError({
          code: 'platform_auth_failed',
          platform,
          message: `The ${provider.displayName} grant gives access to no account that can publish.`,
          remediation: 'Check that the user picked at least one page, channel or account on the consent screen.',
        });
      }
      accounts = [];
      for (const providerAccount of granted) {
        const { tokens: accountTokens, ...described } = providerAccount;
        accounts.push(
          await saveConnectedAccount({
            context,
            workspaceId: session.workspaceId,
            platform,
            providerAccount: described,
            tokens: accountTokens ?? tokens,
            client,
          }),
        );
      }
    } catch (error) {
      const failure = toLetmepostError({ error, platform, fallbackCode: 'platform_auth_failed', knownSecrets });
      context.log('warn', 'letmepost.connect.failed', {
        workspaceId: session.workspaceId,
        platform,
        connectId: session.sessionId,
        errorCode: failure.code,
      });
      throw failure;
    }

    context.log('info', 'letmepost.connect.completed', {
      workspaceId: session.workspaceId,
      platform,
      connectId: session.sessionId,
      clientSource: session.clientSource,
      accountIds: accounts.map((account) => account.id),
    });
    return stripUndefined({
      accounts,
      sessionId: session.sessionId,
      workspaceId: session.workspaceId,
      platform,
      returnTo: session.returnTo,
    });
  };

  return {
    async start(options) {
      const input = parseInput({ schema: startSchema, input: options });
      const { workspaceId, platform } = input;
      if (input.returnTo !== undefined && context.returnToOrigins !== undefined && !context.returnToOrigins.has(new URL(input.returnTo).origin)) {
        throw new LetmepostError({
          code: 'validation_failed',
          field: 'returnTo',
          message: `returnTo must be on one of the origins allowed by returnToOrigins (${[...context.returnToOrigins].join(', ')}).`,
        });
      }
      const provider = requireOAuthProvider({ context, platform });
      const { client, clientSource } = await resolveConnectClient({
        context,
        provider,
        workspaceId,
        allowQuickstartCreds: input.allowQuickstartCreds ?? false,
      });

      const scopeSet = input.scopes ?? 'write';
      // `extended` adds to what publishing needs; it never replaces it.
      const scopes =
        scopeSet === 'extended'
          ? [...new Set([...provider.auth.scopes.write, ...provider.auth.scopes.extended])]
          : [...provider.auth.scopes.write];
      const state = generateState();
      const pkce = generatePkcePair();
      const sessionId = generateId({ prefix: 'cs' });
      const now = context.clock.now();
      const expiresAt = now + CONNECT_SESSION_TTL_MS;
      const key = storeKeys.connectSession({ stateHash: sha256Base64Url({ value: state }) });

      const url = provider.authorizationUrl({
        client,
        redirectUri: redirectUriFor({ baseUrl: context.baseUrl, platform }),
        state,
        codeChallenge: pkce.codeChallenge,
        scopes,
      });

      const record = stripUndefined({
        v: 1 as const,
        sessionId,
        workspaceId,
        platform,
        scopes: scopeSet,
        returnTo: input.returnTo,
        codeVerifier: sealField({ cipher: context.cipher, key, field: 'codeVerifier', value: pkce.codeVerifier }),
        client: sealField({ cipher: context.cipher, key, field: 'client', value: client }),
        clientSource,
        createdAt: now,
        expiresAt,
      });
      await context.store.set(key, encodeRecord(record), { expectedVersion: null, ttlMs: CONNECT_SESSION_TTL_MS });
      // Logged as `connectId`: the redactor masks every field named like "session".
      context.log('info', 'letmepost.connect.started', { workspaceId, platform, connectId: sessionId, clientSource, scopes: scopeSet });
      return { url: url.toString(), sessionId, expiresAt };
    },

    async complete(options) {
      return (await completeSession(options)).accounts;
    },

    completeSession,

    async withCredentials(options) {
      const { workspaceId, platform, credentials: rawCredentials, signal } = parseInput({
        schema: withCredentialsSchema,
        input: options,
      });
      const provider = requireProvider({ context, platform });
      if (provider.connectWithCredentials === undefined) {
        throw new LetmepostError({
          code: 'not_supported',
          platform,
          field: 'platform',
          message: `${provider.displayName} accounts cannot be connected with credentials.`,
          remediation:
            provider.auth.kind === 'oauth2' ? 'Use connect.start() to send the user through OAuth.' : undefined,
        });
      }
      const parsed = provider.credentialSchema.safeParse(rawCredentials);
      if (!parsed.success) {
        throw validationFailed({ issues: issuesFromZod({ error: parsed.error, pathPrefix: 'credentials' }) });
      }
      const credentials: unknown = parsed.data;
      const knownSecrets = secretStrings(credentials);
      try {
        const grant = await provider.connectWithCredentials({
          credentials,
          signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS)]) : AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS),
        });
        const { tokens: accountTokens, ...described } = grant.account;
        const account = await saveConnectedAccount({
          context,
          workspaceId,
          platform,
          providerAccount: described,
          tokens: accountTokens ?? grant.tokens,
          client: undefined,
        });
        context.log('info', 'letmepost.connect.completed', { workspaceId, platform, accountIds: [account.id], method: 'credentials' });
        return account;
      } catch (error) {
        const failure = toLetmepostError({ error, platform, fallbackCode: 'platform_auth_failed', knownSecrets });
        context.log('warn', 'letmepost.connect.failed', { workspaceId, platform, method: 'credentials', errorCode: failure.code });
        throw failure;
      }
    },
  };
}

async function resolveConnectClient({
  context,
  provider,
  workspaceId,
  allowQuickstartCreds,
}: {
  context: LetmepostContext;
  provider: AnyProvider;
  workspaceId: string;
  allowQuickstartCreds: boolean;
}): Promise<{ client: ClientCredentials; clientSource: 'workspace' | 'quickstart' }> {
  const own = await readWorkspaceClient({ context, workspaceId, platform: provider.id });
  if (own !== undefined) return { client: own, clientSource: 'workspace' };
  if (allowQuickstartCreds && provider.defaultClient !== undefined) {
    return { client: { ...provider.defaultClient }, clientSource: 'quickstart' };
  }
  throw new LetmepostError({
    code: 'app_credentials_missing',
    platform: provider.id,
    message: allowQuickstartCreds
      ? `Neither this workspace nor the instance has a ${provider.displayName} app configured.`
      : `This workspace has no ${provider.displayName} app configured.`,
    remediation: allowQuickstartCreds
      ? `Store the workspace's app with appCredentials.put(), or configure the provider with clientId/clientSecret.`
      : `Store the workspace's app with appCredentials.put(), or start the session with allowQuickstartCreds: true to use the instance-wide app.`,
  });
}

/**
 * Reads and deletes the session for a state in one atomic step (delete at the version read), so
 * of two callbacks racing with the same state exactly one proceeds. The session is spent even if
 * what follows fails: authorization codes are single-use, and a replayed callback must not get a
 * second chance.
 */
async function consumeSession({
  context,
  state,
  platform,
}: {
  context: LetmepostContext;
  state: string;
  platform: PlatformId;
}): Promise<z.infer<typeof connectSessionRecordSchema>> {
  const key = storeKeys.connectSession({ stateHash: sha256Base64Url({ value: state }) });
  const entry = await context.store.get(key);
  if (entry === null) {
    throw stateInvalid({ platform, reason: 'The connect session does not exist, has expired or was already used.' });
  }
  let removed: boolean;
  try {
    removed = await context.store.delete(key, { expectedVersion: entry.version });
  } catch (error) {
    if (!isStoreConflict(error)) throw error;
    removed = false;
  }
  if (!removed) throw stateInvalid({ platform, reason: 'The connect session was already used.' });

  const session = decodeRecord({ entry, schema: connectSessionRecordSchema });
  // Stores drop expired entries themselves; the check against our clock covers stores whose TTL
  // granularity is coarse (Redis seconds, a lazy SQL sweep).
  if (session.expiresAt <= context.clock.now()) {
    throw stateInvalid({ platform, reason: 'The connect session has expired.' });
  }
  if (session.platform !== platform) {
    throw stateInvalid({ platform, reason: `The connect session was started for ${session.platform}, not ${platform}.` });
  }
  return session;
}

function stateInvalid({ platform, reason }: { platform: PlatformId; reason: string }): LetmepostError {
  return new LetmepostError({
    code: 'state_invalid',
    platform,
    message: reason,
    remediation: 'Start a new connect session; each one can be completed once, within 10 minutes.',
  });
}
