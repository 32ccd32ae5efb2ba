import { z } from 'zod';
import type { Account, ClientCredentials, ProviderAccount, TokenSet } from './account.js';
import {
  accountRecordSchema,
  clientCredentialsSchema,
  platformIndexSchema,
  platformSchema,
  saveConnectedGrant,
  stripUndefined,
  tokenSetSchema,
  workspaceIdSchema,
} from './accounts.js';
import { instanceSchema, readWorkspaceClient } from './app-credentials.js';
import {
  issuesFromZod,
  parseInput,
  requireProvider,
  secretStrings,
  toLetmepostError,
  validationFailed,
  type LetmepostContext,
} from './letmepost-context.js';
import { lazySchema } from './lazy-schema.js';
import { LetmepostError } from './letmepost-error.js';
import { generateId, generatePkcePair, generateState, randomBase64Url, sha256Base64Url } from './pkce.js';
import { isPlatformId, type PlatformId } from './platform-id.js';
import type { AnyProvider, ScopeSet } from './provider.js';
import { redactThenShorten } from './redact.js';
import { redirectUriFor } from './redirect-uris.js';
import { INVALID_CLIENT_RULE, createRegisteredClientResolver, type RegisteredClientResolver } from './registered-clients.js';
import { decodeRecord, encodeRecord, isStoreConflict, openField, sealField, sealedJsonSchema, sealedStringSchema, storeKeys } from './store-layout.js';
import type { StoreEntry } from './token-store.js';

/** How long a user has to consent at the platform before the session is gone. */
export const CONNECT_SESSION_TTL_MS = 10 * 60 * 1000;
/** Bound on the code exchange and account listing of one callback. */
const CONNECT_NETWORK_TIMEOUT_MS = 30_000;
/** How long the user has to choose which accounts to keep, once the callback has run. */
export const CONNECT_SELECTION_TTL_MS = 15 * 60 * 1000;

export interface ConnectStartResult {
  /** Where to send the user's browser. Carries the state and the S256 challenge, never the verifier. */
  url: string;
  sessionId: string;
  /** Epoch ms after which the callback is refused with `state_invalid`. */
  expiresAt: number;
}

/** One account a grant offers, as shown to the user who chooses which to keep. Never a secret. */
export interface ConnectCandidate
  extends Pick<Account, 'platformAccountId' | 'kind' | 'username' | 'displayName' | 'avatarUrl' | 'profileUrl'> {
  /** The platform it publishes through (an Instagram account yielded by a Facebook login). */
  platform: PlatformId;
  /** Already connected in this workspace as this account id; choosing it reconnects it. */
  existingAccountId?: string;
}

/** Accounts awaiting the user's choice (`connect.start({ chooseAccounts: true })`). */
export interface ConnectSelection {
  /** Single use, for `connect.choose`; works only for the workspace the session was started for. */
  selectionId: string;
  expiresAt: number;
  candidates: ConnectCandidate[];
}

/** A yielded account that was not kept, and why. */
export interface SkippedAccount {
  /** The platform the provider named, as given. */
  platform: string;
  platformAccountId: string;
  displayName?: string;
  /** `provider_not_registered`: no provider for that platform was passed to `createLetmepost`. */
  reason: 'provider_not_registered';
}

export interface ConnectCompletion {
  /** What was stored; empty when the session asked the user to choose (see `selection`). */
  accounts: Account[];
  /** Present when the session was started with `chooseAccounts: true`: nothing is stored yet. */
  selection?: ConnectSelection;
  /** Accounts the grant yielded that cannot be kept here. */
  skipped: SkippedAccount[];
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
    /** The provider's connect input (`connectParamsSchema`), e.g. Mastodon `{ instanceUrl }`. */
    params?: unknown;
    /**
     * Let the user choose which of the yielded accounts to keep: the callback then stores
     * nothing and `completeSession` returns a `selection` for `connect.choose`. Default: keep all.
     */
    chooseAccounts?: boolean;
    signal?: AbortSignal;
  }): Promise<ConnectStartResult>;
  /**
   * Finishes the OAuth flow from the callback URL the platform redirected the browser to and
   * returns the stored accounts. A session started with `chooseAccounts: true` stores nothing
   * here; use `completeSession`, whose `selection` carries the candidates.
   */
  complete(options: { platform: PlatformId; callbackUrl: string | URL; signal?: AbortSignal }): Promise<Account[]>;
  /** `complete`, plus the session facts a callback handler needs (`returnTo`, workspace, selection). */
  completeSession(options: { platform: PlatformId; callbackUrl: string | URL; signal?: AbortSignal }): Promise<ConnectCompletion>;
  /** The candidates of a pending selection, e.g. for a page the callback redirected to. */
  getSelection(options: { workspaceId: string; selectionId: string }): Promise<ConnectSelection>;
  /**
   * Stores the accounts the user chose out of a selection (an empty list stores none) and spends
   * the selection. Ids not among the candidates are `validation_failed`, before anything changes.
   */
  choose(options: { workspaceId: string; selectionId: string; platformAccountIds: readonly string[] }): Promise<Account[]>;
  /** Connects with credentials the user pastes (app passwords, bot tokens). */
  withCredentials(options: {
    workspaceId: string;
    platform: PlatformId;
    credentials: unknown;
    signal?: AbortSignal;
  }): Promise<Account>;
}

const connectSessionRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    sessionId: z.string(),
    workspaceId: z.string(),
    platform: platformSchema(),
    scopes: z.enum(['write', 'extended']),
    returnTo: z.string().optional(),
    /** Sealed. */
    codeVerifier: z.string(),
    /**
     * Sealed copy of the app the authorization URL was built for: the token request must use the
     * same one even if the workspace replaces or deletes its app while the user is consenting.
     */
    client: z.string(),
    clientSource: z.enum(['workspace', 'registered', 'quickstart']),
    /** Sealed connect params, for providers with a `connectParamsSchema`. */
    params: z.string().optional(),
    instance: z.string().optional(),
    chooseAccounts: z.boolean().optional(),
    createdAt: z.number(),
    expiresAt: z.number(),
  }),
);

const candidateSchema = lazySchema(() =>
  accountRecordSchema()
    .pick({ platform: true, platformAccountId: true, kind: true, username: true, displayName: true, avatarUrl: true, profileUrl: true })
    .extend({ existingAccountId: z.string().optional() }),
);

const connectSelectionRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    workspaceId: z.string(),
    /** The platform whose provider issued the grant. */
    platform: platformSchema(),
    sessionId: z.string(),
    candidates: z.array(candidateSchema()),
    /** Sealed `SelectionGrant`. */
    grant: z.string(),
    createdAt: z.number(),
    expiresAt: z.number(),
  }),
);

/** What a selection keeps sealed until the user has chosen: everything persistence needs. */
const selectionGrantSchema = lazySchema(() =>
  z.object({
    tokens: tokenSetSchema(),
    client: clientCredentialsSchema(),
    params: z.unknown().optional(),
    accounts: z.array(
      z.object({
        platform: platformSchema(),
        // Re-checked by the account's provider when stored, as in a plain complete.
        account: z.record(z.string(), z.unknown()),
        tokens: tokenSetSchema().optional(),
      }),
    ),
  }),
);

const startSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema(),
    platform: platformSchema(),
    allowQuickstartCreds: z.boolean().optional(),
    scopes: z.enum(['write', 'extended']).optional(),
    // Absolute, so a callback handler can redirect to it without guessing an origin.
    returnTo: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    params: z.unknown().optional(),
    chooseAccounts: z.boolean().optional(),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

const selectionIdSchema = lazySchema(() => z.string().min(1, 'must not be empty').max(256));
const getSelectionSchema = lazySchema(() => z.object({ workspaceId: workspaceIdSchema(), selectionId: selectionIdSchema() }));
const chooseSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema(),
    selectionId: selectionIdSchema(),
    platformAccountIds: z.array(z.string().min(1, 'must not be empty').max(512)).max(200),
  }),
);

const completeSchema = lazySchema(() =>
  z.object({
    platform: platformSchema(),
    callbackUrl: z.union([z.instanceof(URL), z.string().min(1)]),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

const withCredentialsSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema(),
    platform: platformSchema(),
    credentials: z.unknown(),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

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
  const registeredClients = createRegisteredClientResolver({ context });

  const completeSession: ConnectApi['completeSession'] = async (options) => {
    const { platform, callbackUrl: rawCallbackUrl, signal } = parseInput({ schema: completeSchema(), input: options });
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
      schema: sealedStringSchema(),
    });
    const client = openField({
      cipher: context.cipher,
      key: sessionKey,
      field: 'client',
      ciphertext: session.client,
      schema: clientCredentialsSchema(),
    });
    const params =
      session.params === undefined
        ? undefined
        : openField({ cipher: context.cipher, key: sessionKey, field: 'params', ciphertext: session.params, schema: sealedJsonSchema() });
    const knownSecrets = [codeVerifier, ...(client.clientSecret ? [client.clientSecret] : [])];
    const networkSignal = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS)])
      : AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS);

    let accounts: Account[] = [];
    let selection: ConnectSelection | undefined;
    let skipped: SkippedAccount[];
    try {
      const tokens = await provider.exchangeCode({
        client,
        redirectUri: redirectUriFor({ baseUrl: context.baseUrl, platform }),
        callbackUrl,
        state,
        codeVerifier,
        ...(params !== undefined && { params }),
        signal: networkSignal,
      });
      const granted = await provider.listAccounts({ tokens, client, ...(params !== undefined && { params }), signal: networkSignal });
      const sorted = sortGrantedAccounts({ context, provider, granted });
      skipped = sorted.skipped;
      for (const item of skipped) {
        context.log('warn', 'letmepost.connect.account_skipped', {
          workspaceId: session.workspaceId,
          platform,
          connectId: session.sessionId,
          accountPlatform: item.platform,
          reason: item.reason,
        });
      }
      if (session.chooseAccounts === true) {
        selection = await createSelection({ context, session, tokens, client, params, kept: sorted.kept });
      } else {
        accounts = await persistGrantedAccounts({
          context,
          workspaceId: session.workspaceId,
          platform,
          tokens,
          client,
          params,
          kept: sorted.kept,
        });
      }
    } catch (error) {
      const failure = toLetmepostError({ error, platform, fallbackCode: 'platform_auth_failed', knownSecrets });
      context.log('warn', 'letmepost.connect.failed', {
        workspaceId: session.workspaceId,
        platform,
        connectId: session.sessionId,
        errorCode: failure.code,
      });
      if (session.clientSource === 'registered' && failure.rule === INVALID_CLIENT_RULE) {
        // The platform dropped the app we registered; forget it so the next session registers anew.
        await registeredClients.forget({ platform, instance: session.instance, clientId: client.clientId }).catch((forgetError: unknown) => {
          // The callback's own failure is what the caller must see; the next one tries again.
          context.log('error', 'letmepost.client_registration.forget_failed', {
            platform,
            instance: session.instance,
            errorCode: LetmepostError.isInstance(forgetError) ? forgetError.code : undefined,
          });
        });
        throw new LetmepostError({
          code: 'platform_auth_failed',
          platform,
          status: failure.status,
          rule: failure.rule,
          message: `${provider.displayName} no longer knows the app registered for this server.`,
          remediation: 'Start a new connect session: the app is registered again.',
          cause: failure,
        });
      }
      throw failure;
    }

    context.log('info', 'letmepost.connect.completed', {
      workspaceId: session.workspaceId,
      platform,
      connectId: session.sessionId,
      clientSource: session.clientSource,
      accountIds: accounts.map((account) => account.id),
      ...(selection !== undefined && { candidates: selection.candidates.length }),
    });
    return stripUndefined({
      accounts,
      selection,
      skipped,
      sessionId: session.sessionId,
      workspaceId: session.workspaceId,
      platform,
      returnTo: session.returnTo,
    });
  };

  return {
    async start(options) {
      const input = parseInput({ schema: startSchema(), input: options });
      const { workspaceId, platform } = input;
      if (input.returnTo !== undefined && context.returnToOrigins !== undefined && !context.returnToOrigins.has(new URL(input.returnTo).origin)) {
        throw new LetmepostError({
          code: 'validation_failed',
          field: 'returnTo',
          message: `returnTo must be on one of the origins allowed by returnToOrigins (${[...context.returnToOrigins].join(', ')}).`,
        });
      }
      const provider = requireOAuthProvider({ context, platform });
      const params = parseConnectParams({ provider, params: input.params });
      const instance = connectInstanceOf({ provider, params });
      const redirectUri = redirectUriFor({ baseUrl: context.baseUrl, platform });
      const { client, clientSource } = await resolveConnectClient({
        context,
        registeredClients,
        provider,
        workspaceId,
        instance,
        params,
        redirectUri,
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
      const key = storeKeys.connectSession({ stateHash: sha256Base64Url({ value: state }) });

      let url: URL;
      try {
        url = await provider.authorizationUrl({
          client,
          redirectUri,
          state,
          codeChallenge: pkce.codeChallenge,
          scopes,
          ...(params !== undefined && { params }),
          signal: input.signal
            ? AbortSignal.any([input.signal, AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS)])
            : AbortSignal.timeout(CONNECT_NETWORK_TIMEOUT_MS),
        });
      } catch (error) {
        // An async authorizationUrl may reach the platform (discovery); nothing is stored yet.
        throw toLetmepostError({
          error,
          platform,
          fallbackCode: 'platform_unavailable',
          knownSecrets: client.clientSecret ? [client.clientSecret] : [],
        });
      }

      // Taken after the await, so a slow discovery does not eat into the user's ten minutes.
      const now = context.clock.now();
      const expiresAt = now + CONNECT_SESSION_TTL_MS;
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
        params: params === undefined ? undefined : sealField({ cipher: context.cipher, key, field: 'params', value: params }),
        instance,
        chooseAccounts: input.chooseAccounts === true ? true : undefined,
        createdAt: now,
        expiresAt,
      });
      await context.store.set(key, encodeRecord(record), { expectedVersion: null, ttlMs: CONNECT_SESSION_TTL_MS });
      // Logged as `connectId`: the redactor masks every field named like "session".
      context.log('info', 'letmepost.connect.started', {
        workspaceId,
        platform,
        connectId: sessionId,
        clientSource,
        scopes: scopeSet,
        ...(instance !== undefined && { instance }),
      });
      return { url: url.toString(), sessionId, expiresAt };
    },

    async complete(options) {
      return (await completeSession(options)).accounts;
    },

    completeSession,

    async getSelection(options) {
      const { workspaceId, selectionId } = parseInput({ schema: getSelectionSchema(), input: options });
      const { record } = await readSelection({ context, workspaceId, selectionId });
      return { selectionId, expiresAt: record.expiresAt, candidates: record.candidates.map((candidate) => ({ ...candidate })) };
    },

    async choose(options) {
      const { workspaceId, selectionId, platformAccountIds } = parseInput({ schema: chooseSchema(), input: options });
      const { entry, record } = await readSelection({ context, workspaceId, selectionId });
      const offered = new Set(record.candidates.map((candidate) => candidate.platformAccountId));
      const unknown = platformAccountIds.flatMap((id, index) =>
        offered.has(id) ? [] : [{ field: `platformAccountIds.${index}`, rule: 'connect.not_a_candidate', message: 'is not one of the selection\'s candidates' }],
      );
      if (unknown.length > 0) throw validationFailed({ issues: unknown });

      // Spent before anything is stored, at the version read: of two chooses racing, one wins.
      let removed: boolean;
      try {
        removed = await context.store.delete(entry.key, { expectedVersion: entry.version });
      } catch (error) {
        if (!isStoreConflict(error)) throw error;
        removed = false;
      }
      if (!removed) throw selectionGone({ platform: record.platform });

      const grant = openField({
        cipher: context.cipher,
        key: entry.key,
        field: 'grant',
        ciphertext: record.grant,
        schema: selectionGrantSchema(),
      });
      const chosen = new Set(platformAccountIds);
      const kept = grant.accounts
        .filter((item) => chosen.has(String(item.account.platformAccountId)))
        .map((item) => ({
          platform: item.platform,
          account: { ...(item.account as unknown as ProviderAccount), ...(item.tokens !== undefined && { tokens: item.tokens }) },
        }));
      let accounts: Account[];
      try {
        accounts = await persistGrantedAccounts({
          context,
          workspaceId,
          platform: record.platform,
          tokens: grant.tokens,
          client: grant.client,
          params: grant.params,
          kept,
        });
      } catch (error) {
        throw toLetmepostError({
          error,
          platform: record.platform,
          fallbackCode: 'platform_auth_failed',
          knownSecrets: [grant.tokens.accessToken, ...(grant.client.clientSecret ? [grant.client.clientSecret] : [])],
        });
      }
      context.log('info', 'letmepost.connect.chosen', {
        workspaceId,
        platform: record.platform,
        connectId: record.sessionId,
        offered: record.candidates.length,
        accountIds: accounts.map((account) => account.id),
      });
      return accounts;
    },

    async withCredentials(options) {
      const { workspaceId, platform, credentials: rawCredentials, signal } = parseInput({
        schema: withCredentialsSchema(),
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
        const [account] = await saveConnectedGrant({
          context,
          workspaceId,
          platform,
          accounts: [{ platform, account: grant.account }],
          tokens: grant.tokens,
          client: undefined,
          grantData: grant.grantData,
        });
        if (account === undefined) throw new LetmepostError({ code: 'store_unavailable', platform, message: 'The connected account was not saved.' });
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

/** A yielded account whose platform has a registered provider, with that platform resolved. */
interface KeptAccount {
  platform: PlatformId;
  account: ProviderAccount;
}

/**
 * Resolves each yielded account's platform (its own, or the issuing provider's) and sets aside
 * those no registered provider can publish for. With nothing left the connect fails: a grant
 * that yields nothing usable here is not a success.
 */
function sortGrantedAccounts({
  context,
  provider,
  granted,
}: {
  context: LetmepostContext;
  provider: AnyProvider;
  granted: readonly ProviderAccount[];
}): { kept: KeptAccount[]; skipped: SkippedAccount[] } {
  const kept: KeptAccount[] = [];
  const skipped: SkippedAccount[] = [];
  for (const account of granted) {
    const platform: unknown = account.platform ?? provider.id;
    if (isPlatformId(platform) && context.providers.has(platform)) {
      kept.push({ platform, account });
    } else {
      skipped.push(
        stripUndefined({
          platform: String(platform),
          platformAccountId: account.platformAccountId,
          displayName: account.displayName,
          reason: 'provider_not_registered' as const,
        }),
      );
    }
  }
  if (kept.length === 0) {
    const missing = [...new Set(skipped.map((item) => item.platform))];
    throw new LetmepostError({
      code: 'platform_auth_failed',
      platform: provider.id,
      message:
        skipped.length === 0
          ? `The ${provider.displayName} grant gives access to no account that can publish.`
          : `The ${provider.displayName} grant only gives access to accounts of platforms without a registered provider (${missing.join(', ')}).`,
      remediation:
        skipped.length === 0
          ? 'Check that the user picked at least one page, channel or account on the consent screen.'
          : `Pass the ${missing.join(', ')} provider(s) in createLetmepost({ providers }).`,
    });
  }
  return { kept, skipped };
}

/**
 * Stores what the user keeps of one grant: the one place a complete and a choose persist. Every
 * account is stored under its own platform with its own tokens when the provider gave it some (a
 * Page token), else the grant's.
 */
async function persistGrantedAccounts({
  context,
  workspaceId,
  platform: issuingPlatform,
  tokens,
  client,
  params: _params,
  kept,
}: {
  context: LetmepostContext;
  workspaceId: string;
  /** The platform of the provider that issued the grant (refresh and revoke go through it). */
  platform: PlatformId;
  tokens: TokenSet;
  client: ClientCredentials;
  /** The session's parsed connect params, for a grant that needs them later (the instance). */
  params: unknown;
  kept: readonly KeptAccount[];
}): Promise<Account[]> {
  // One consent, one grant: every kept account draws on it.
  return saveConnectedGrant({ context, workspaceId, platform: issuingPlatform, accounts: kept, tokens, client });
}

/**
 * Seals the grant and the yielded accounts under a fresh single-use selection id, for the user to
 * choose from. The id is the bearer of the choice; only its digest is stored.
 */
async function createSelection({
  context,
  session,
  tokens,
  client,
  params,
  kept,
}: {
  context: LetmepostContext;
  session: z.infer<ReturnType<typeof connectSessionRecordSchema>>;
  tokens: TokenSet;
  client: ClientCredentials;
  params: unknown;
  kept: readonly KeptAccount[];
}): Promise<ConnectSelection> {
  const selectionId = `sel_${randomBase64Url({ bytes: 32 })}`;
  const key = storeKeys.connectSelection({ selectionHash: sha256Base64Url({ value: selectionId }) });
  const candidates: ConnectCandidate[] = [];
  for (const { platform, account } of kept) {
    const index = await context.store.get(
      storeKeys.accountByPlatformId({ workspaceId: session.workspaceId, platform, platformAccountId: account.platformAccountId }),
    );
    candidates.push(
      stripUndefined({
        platform,
        platformAccountId: account.platformAccountId,
        kind: account.kind,
        username: account.username,
        displayName: account.displayName,
        avatarUrl: account.avatarUrl,
        profileUrl: account.profileUrl,
        existingAccountId: index === null ? undefined : decodeRecord({ entry: index, schema: platformIndexSchema() }).accountId,
      }),
    );
  }
  const grant: z.infer<ReturnType<typeof selectionGrantSchema>> = {
    tokens,
    client,
    ...(params !== undefined && { params }),
    accounts: kept.map(({ platform, account }) => {
      const { tokens: accountTokens, platform: _platform, ...described } = account;
      return stripUndefined({ platform, account: { ...described }, tokens: accountTokens });
    }),
  };
  const now = context.clock.now();
  const expiresAt = now + CONNECT_SELECTION_TTL_MS;
  const record: z.infer<ReturnType<typeof connectSelectionRecordSchema>> = {
    v: 1,
    workspaceId: session.workspaceId,
    platform: session.platform,
    sessionId: session.sessionId,
    candidates,
    grant: sealField({ cipher: context.cipher, key, field: 'grant', value: grant }),
    createdAt: now,
    expiresAt,
  };
  await context.store.set(key, encodeRecord(record), { expectedVersion: null, ttlMs: CONNECT_SELECTION_TTL_MS });
  return { selectionId, expiresAt, candidates: candidates.map((candidate) => ({ ...candidate })) };
}

/** A live selection of this workspace; any other (absent, expired, another tenant's) is one same answer. */
async function readSelection({
  context,
  workspaceId,
  selectionId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  selectionId: string;
}): Promise<{ entry: StoreEntry; record: z.infer<ReturnType<typeof connectSelectionRecordSchema>> }> {
  const key = storeKeys.connectSelection({ selectionHash: sha256Base64Url({ value: selectionId }) });
  const entry = await context.store.get(key);
  if (entry === null) throw selectionGone({});
  const record = decodeRecord({ entry, schema: connectSelectionRecordSchema() });
  if (record.workspaceId !== workspaceId || record.expiresAt <= context.clock.now()) throw selectionGone({});
  return { entry, record };
}

function selectionGone({ platform }: { platform?: PlatformId }): LetmepostError {
  return new LetmepostError({
    code: 'state_invalid',
    platform,
    message: 'The account selection does not exist, has expired or was already used.',
    remediation: 'Start a new connect session; a selection can be used once, within 15 minutes of the callback.',
  });
}

/** The provider's connect input, parsed; `validation_failed` naming `params.<field>`. */
function parseConnectParams({ provider, params }: { provider: AnyProvider; params: unknown }): unknown {
  if (provider.connectParamsSchema === undefined) {
    if (params === undefined) return undefined;
    throw new LetmepostError({
      code: 'validation_failed',
      platform: provider.id,
      field: 'params',
      message: `${provider.displayName} takes no connect params.`,
    });
  }
  const parsed = provider.connectParamsSchema.safeParse(params ?? {});
  if (!parsed.success) throw validationFailed({ issues: issuesFromZod({ error: parsed.error, pathPrefix: 'params' }) });
  return parsed.data;
}

/** The instance the params name, in the one form that keys app credentials and registered clients. */
function connectInstanceOf({ provider, params }: { provider: AnyProvider; params: unknown }): string | undefined {
  if (provider.connectInstance === undefined) return undefined;
  let named: unknown;
  try {
    named = provider.connectInstance({ params });
  } catch {
    // Reported below as the params not naming a server; the provider's own error may quote them.
    named = undefined;
  }
  const parsed = instanceSchema().safeParse(named);
  if (!parsed.success) {
    throw new LetmepostError({
      code: 'validation_failed',
      platform: provider.id,
      field: 'params',
      message: `The connect params do not name a ${provider.displayName} server (a host name with an optional port).`,
    });
  }
  return parsed.data;
}

/**
 * Which app a session uses: the workspace's own (for this instance, on per-instance platforms),
 * else an app registered for this host (providers with `registerClient`), else the instance-wide
 * app from settings when the session allows it.
 */
async function resolveConnectClient({
  context,
  registeredClients,
  provider,
  workspaceId,
  instance,
  params,
  redirectUri,
  allowQuickstartCreds,
}: {
  context: LetmepostContext;
  registeredClients: RegisteredClientResolver;
  provider: AnyProvider;
  workspaceId: string;
  instance: string | undefined;
  params: unknown;
  redirectUri: string;
  allowQuickstartCreds: boolean;
}): Promise<{ client: ClientCredentials; clientSource: 'workspace' | 'registered' | 'quickstart' }> {
  const own = await readWorkspaceClient({ context, workspaceId, platform: provider.id, instance });
  if (own !== undefined) return { client: own, clientSource: 'workspace' };
  if (provider.registerClient !== undefined) {
    const client = await registeredClients.resolve({ provider, instance, params, redirectUri });
    return { client, clientSource: 'registered' };
  }
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
}): Promise<z.infer<ReturnType<typeof connectSessionRecordSchema>>> {
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

  const session = decodeRecord({ entry, schema: connectSessionRecordSchema() });
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
