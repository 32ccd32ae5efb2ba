import { z } from 'zod';
import type { Account, ClientCredentials, ProviderAccount, TokenSet } from './account.js';
import {
  issuesFromZod,
  parseInput,
  requireProvider,
  type LetmepostContext,
} from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import { generateId } from './pkce.js';
import { PLATFORM_IDS, type PlatformId } from './platform-id.js';
import {
  decodeRecord,
  encodeRecord,
  isStoreConflict,
  openField,
  sealField,
  storeKeys,
  storeIdSchema,
} from './store-layout.js';
import type { LockLease, StoreEntry } from './token-store.js';

/** Lease on an account while it is refreshed or rewritten; longer than any refresh may take. */
export const ACCOUNT_LOCK_TTL_MS = 30_000;
/** How long an account write waits for a refresh in another process to finish. */
export const ACCOUNT_LOCK_WAIT_MS = 35_000;
/** Upper bound for a best-effort revoke on removal. */
const REVOKE_TIMEOUT_MS = 10_000;

export const workspaceIdSchema = storeIdSchema({ maxLength: 256 });
export const platformSchema = z.enum(PLATFORM_IDS);

export const tokenSetSchema: z.ZodType<TokenSet> = z.object({
  accessToken: z.string(),
  refreshToken: z.string().optional(),
  tokenType: z.string().optional(),
  expiresAt: z.number().optional(),
  refreshTokenExpiresAt: z.number().optional(),
  scopes: z.array(z.string()).optional(),
  secrets: z.record(z.string(), z.string()).optional(),
});

export const clientCredentialsSchema: z.ZodType<ClientCredentials> = z.object({
  clientId: z.string(),
  clientSecret: z.string().optional(),
});

const accountKindSchema = z.enum(['person', 'organization', 'page', 'channel', 'blog', 'bot', 'board']);

/**
 * An account as stored. Non-secret facts (expiry, scopes) are duplicated in clear so listing
 * accounts never needs to decrypt anything; `tokens` and `client` are sealed.
 */
export const accountRecordSchema = z.object({
  v: z.literal(1),
  id: z.string(),
  workspaceId: z.string(),
  platform: platformSchema,
  platformAccountId: z.string(),
  kind: accountKindSchema.optional(),
  username: z.string().optional(),
  displayName: z.string().optional(),
  avatarUrl: z.string().optional(),
  profileUrl: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  status: z.enum(['active', 'reauth_required']),
  /** The error code that put the account in `reauth_required`. */
  statusReason: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  expiresAt: z.number().optional(),
  refreshTokenExpiresAt: z.number().optional(),
  hasRefreshToken: z.boolean(),
  /** Sealed `TokenSet`. */
  tokens: z.string(),
  /** Sealed `ClientCredentials` of the OAuth app that issued the grant (refresh needs it). */
  client: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  refreshedAt: z.number().optional(),
});

export type AccountRecord = z.infer<typeof accountRecordSchema>;

const accountIndexSchema = z.object({ v: z.literal(1), workspaceId: z.string() });
export const platformIndexSchema = z.object({ v: z.literal(1), accountId: z.string() });

export interface LoadedAccount {
  key: string;
  version: number;
  record: AccountRecord;
}

export function toAccount(record: AccountRecord): Account {
  return {
    id: record.id,
    workspaceId: record.workspaceId,
    platform: record.platform,
    platformAccountId: record.platformAccountId,
    ...(record.kind !== undefined && { kind: record.kind }),
    ...(record.username !== undefined && { username: record.username }),
    ...(record.displayName !== undefined && { displayName: record.displayName }),
    ...(record.avatarUrl !== undefined && { avatarUrl: record.avatarUrl }),
    ...(record.profileUrl !== undefined && { profileUrl: record.profileUrl }),
    status: record.status,
    ...(record.scopes !== undefined && { scopes: [...record.scopes] }),
    ...(record.expiresAt !== undefined && { expiresAt: record.expiresAt }),
    ...(reauthByOf(record) !== undefined && { reauthBy: reauthByOf(record) }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * The last moment the account works without the user coming back: when the refresh token dies,
 * or, for grants that cannot be refreshed, when the access token does.
 */
function reauthByOf(record: AccountRecord): number | undefined {
  if (record.hasRefreshToken) return record.refreshTokenExpiresAt;
  return record.expiresAt;
}

export function toProviderAccount(record: AccountRecord): ProviderAccount {
  return {
    platformAccountId: record.platformAccountId,
    ...(record.kind !== undefined && { kind: record.kind }),
    ...(record.username !== undefined && { username: record.username }),
    ...(record.displayName !== undefined && { displayName: record.displayName }),
    ...(record.avatarUrl !== undefined && { avatarUrl: record.avatarUrl }),
    ...(record.profileUrl !== undefined && { profileUrl: record.profileUrl }),
    ...(record.data !== undefined && { data: structuredClone(record.data) }),
  };
}

export function openTokens({ context, loaded }: { context: LetmepostContext; loaded: LoadedAccount }): TokenSet {
  return openField({
    cipher: context.cipher,
    key: loaded.key,
    field: 'tokens',
    ciphertext: loaded.record.tokens,
    schema: tokenSetSchema,
  });
}

export function openClient({
  context,
  loaded,
}: {
  context: LetmepostContext;
  loaded: LoadedAccount;
}): ClientCredentials | undefined {
  if (loaded.record.client === undefined) return undefined;
  return openField({
    cipher: context.cipher,
    key: loaded.key,
    field: 'client',
    ciphertext: loaded.record.client,
    schema: clientCredentialsSchema,
  });
}

/** The token-derived, non-secret facts kept in clear on the record. */
export function tokenFacts(tokens: TokenSet): Pick<
  AccountRecord,
  'scopes' | 'expiresAt' | 'refreshTokenExpiresAt' | 'hasRefreshToken'
> {
  return {
    scopes: tokens.scopes,
    expiresAt: tokens.expiresAt,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    hasRefreshToken: tokens.refreshToken !== undefined && tokens.refreshToken !== '',
  };
}

/** Rewrites an account record under its lease; `store_conflict` if anything else moved it. */
export async function writeAccountRecord({
  context,
  loaded,
  record,
  lease,
}: {
  context: LetmepostContext;
  loaded: LoadedAccount;
  record: AccountRecord;
  lease: LockLease;
}): Promise<LoadedAccount> {
  const entry = await context.store.set(loaded.key, encodeRecord(stripUndefined(record)), {
    expectedVersion: loaded.version,
    fence: lease,
  });
  return { key: loaded.key, version: entry.version, record };
}

export function sealTokens({ context, key, tokens }: { context: LetmepostContext; key: string; tokens: TokenSet }): string {
  return sealField({ cipher: context.cipher, key, field: 'tokens', value: tokens });
}

export function withAccountLock<T>({
  context,
  accountId,
  fn,
}: {
  context: LetmepostContext;
  accountId: string;
  fn: (lease: LockLease) => Promise<T>;
}): Promise<T> {
  return context.store.withLock(storeKeys.accountLock({ accountId }), fn, {
    ttlMs: ACCOUNT_LOCK_TTL_MS,
    waitMs: ACCOUNT_LOCK_WAIT_MS,
  });
}

/** The account with that id, or null when it does not exist or belongs to another workspace. */
export async function findAccount({
  context,
  accountId,
  workspaceId,
}: {
  context: LetmepostContext;
  accountId: string;
  workspaceId?: string;
}): Promise<LoadedAccount | null> {
  const indexEntry = await context.store.get(storeKeys.accountIndex({ accountId }));
  if (indexEntry === null) return null;
  const index = decodeRecord({ entry: indexEntry, schema: accountIndexSchema });
  if (workspaceId !== undefined && index.workspaceId !== workspaceId) return null;
  const key = storeKeys.account({ workspaceId: index.workspaceId, accountId });
  const entry = await context.store.get(key);
  if (entry === null) return null;
  return loadedFrom(entry);
}

export async function readAccountAt({ context, key }: { context: LetmepostContext; key: string }): Promise<LoadedAccount | null> {
  const entry = await context.store.get(key);
  return entry === null ? null : loadedFrom(entry);
}

function loadedFrom(entry: StoreEntry): LoadedAccount {
  return { key: entry.key, version: entry.version, record: decodeRecord({ entry, schema: accountRecordSchema }) };
}

export function accountNotFound({ accountId, field }: { accountId: string; field?: string }): LetmepostError {
  // The same answer whether the id does not exist or belongs to another workspace, so ids of
  // other tenants cannot be probed.
  return new LetmepostError({
    code: 'not_found',
    field,
    message: `Account "${accountId}" was not found.`,
  });
}

/**
 * Stores what a connect produced. A platform account already connected in this workspace is
 * updated in place (same id, tokens replaced, `reauth_required` cleared), so reconnecting is how
 * a user repairs an account and the host's references to it stay valid.
 */
export async function saveConnectedAccount({
  context,
  workspaceId,
  platform,
  providerAccount,
  tokens,
  client,
}: {
  context: LetmepostContext;
  workspaceId: string;
  platform: PlatformId;
  providerAccount: ProviderAccount;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
}): Promise<Account> {
  const provider = requireProvider({ context, platform });
  const dataResult = provider.accountSchema.safeParse(providerAccount.data ?? {});
  if (!dataResult.success) {
    const issues = issuesFromZod({ error: dataResult.error, pathPrefix: 'data' });
    throw new LetmepostError({
      code: 'platform_auth_failed',
      platform,
      message: `The ${platform} provider described an account whose data does not match its accountSchema.`,
      issues,
    });
  }
  const indexKey = storeKeys.accountByPlatformId({
    workspaceId,
    platform,
    platformAccountId: providerAccount.platformAccountId,
  });

  // Claim the (workspace, platform account) pair first: two callbacks finishing at once for the
  // same platform account must end with one account, not two. The claim is re-checked under the
  // account lease, because a concurrent removal may have released it meanwhile.
  for (let attempt = 0; attempt < 5; attempt++) {
    const accountId = await claimAccountId({ context, indexKey });
    const record = await withAccountLock({
      context,
      accountId,
      fn: async (lease) => {
        const claim = await context.store.get(indexKey);
        if (claim === null || decodeRecord({ entry: claim, schema: platformIndexSchema }).accountId !== accountId) {
          return null;
        }
        const key = storeKeys.account({ workspaceId, accountId });
        const current = await readAccountAt({ context, key });
        const now = context.clock.now();
        const next: AccountRecord = {
          v: 1,
          id: accountId,
          workspaceId,
          platform,
          platformAccountId: providerAccount.platformAccountId,
          kind: providerAccount.kind,
          username: providerAccount.username,
          displayName: providerAccount.displayName,
          avatarUrl: providerAccount.avatarUrl,
          profileUrl: providerAccount.profileUrl,
          data: dataResult.data,
          status: 'active',
          ...tokenFacts(tokens),
          tokens: sealTokens({ context, key, tokens }),
          client: client === undefined ? undefined : sealField({ cipher: context.cipher, key, field: 'client', value: client }),
          createdAt: current?.record.createdAt ?? now,
          updatedAt: now,
        };
        // The id index goes first: an account record nobody can look up is worse than an index
        // entry pointing at nothing (which lookups treat as absent).
        await context.store.set(storeKeys.accountIndex({ accountId }), encodeRecord({ v: 1, workspaceId }));
        await context.store.set(key, encodeRecord(stripUndefined(next)), {
          expectedVersion: current?.version ?? null,
          fence: lease,
        });
        return next;
      },
    });
    if (record !== null) return toAccount(record);
  }
  throw new LetmepostError({ code: 'store_conflict', message: 'The account index kept changing; try again.' });
}

async function claimAccountId({ context, indexKey }: { context: LetmepostContext; indexKey: string }): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await context.store.get(indexKey);
    if (existing !== null) return decodeRecord({ entry: existing, schema: platformIndexSchema }).accountId;
    const candidate = generateId({ prefix: 'acc' });
    try {
      await context.store.set(indexKey, encodeRecord({ v: 1, accountId: candidate }), { expectedVersion: null });
      return candidate;
    } catch (error) {
      if (!isStoreConflict(error)) throw error;
    }
  }
  throw new LetmepostError({ code: 'store_conflict', message: 'The account index kept changing; try again.' });
}

export interface AccountsApi {
  list(options: { workspaceId: string }): Promise<Account[]>;
  get(options: { workspaceId?: string; accountId: string }): Promise<Account>;
  /** Revokes the grant at the platform when it can (best effort) and forgets the account. */
  remove(options: { workspaceId?: string; accountId: string }): Promise<void>;
}

const listOptionsSchema = z.object({ workspaceId: workspaceIdSchema });
const byIdOptionsSchema = z.object({
  workspaceId: workspaceIdSchema.optional(),
  accountId: storeIdSchema({ maxLength: 256 }),
});

export function createAccountsApi({ context }: { context: LetmepostContext }): AccountsApi {
  return {
    async list(options) {
      const { workspaceId } = parseInput({ schema: listOptionsSchema, input: options });
      const accounts: Account[] = [];
      const prefix = storeKeys.accountsPrefix({ workspaceId });
      let after: string | undefined;
      for (;;) {
        const page = await context.store.list(prefix, { limit: 200, ...(after !== undefined && { after }) });
        for (const entry of page) accounts.push(toAccount(loadedFrom(entry).record));
        if (page.length < 200) break;
        after = page[page.length - 1]?.key;
      }
      return accounts.sort((left, right) => left.createdAt - right.createdAt || left.id.localeCompare(right.id));
    },

    async get(options) {
      const { workspaceId, accountId } = parseInput({ schema: byIdOptionsSchema, input: options });
      const loaded = await findAccount({ context, accountId, workspaceId });
      if (loaded === null) throw accountNotFound({ accountId });
      return toAccount(loaded.record);
    },

    async remove(options) {
      const { workspaceId, accountId } = parseInput({ schema: byIdOptionsSchema, input: options });
      const found = await findAccount({ context, accountId, workspaceId });
      if (found === null) throw accountNotFound({ accountId });

      await withAccountLock({
        context,
        accountId,
        fn: async () => {
          const loaded = await readAccountAt({ context, key: found.key });
          if (loaded === null) return;
          await revokeBestEffort({ context, loaded });
          const { record } = loaded;
          await context.store.delete(loaded.key);
          const indexKey = storeKeys.accountByPlatformId({
            workspaceId: record.workspaceId,
            platform: record.platform,
            platformAccountId: record.platformAccountId,
          });
          const index = await context.store.get(indexKey);
          if (index !== null && decodeRecord({ entry: index, schema: platformIndexSchema }).accountId === accountId) {
            await context.store.delete(indexKey, { expectedVersion: index.version }).catch((error: unknown) => {
              // A reconnect re-pointed the index meanwhile; it is no longer ours to delete.
              if (!isStoreConflict(error)) throw error;
            });
          }
          await context.store.delete(storeKeys.accountIndex({ accountId }));
          context.log('info', 'letmepost.account.removed', {
            workspaceId: record.workspaceId,
            platform: record.platform,
            accountId,
          });
        },
      });
    },
  };
}

async function revokeBestEffort({ context, loaded }: { context: LetmepostContext; loaded: LoadedAccount }): Promise<void> {
  const { record } = loaded;
  const provider = context.providers.get(record.platform);
  if (provider?.revoke === undefined) return;
  try {
    const tokens = openTokens({ context, loaded });
    const client = openClient({ context, loaded });
    await provider.revoke({ tokens, client, signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS) });
  } catch (error) {
    // Removal must not depend on the platform: a revoked, expired or unreachable grant is
    // exactly when users remove accounts.
    context.log('warn', 'letmepost.account.revoke_failed', {
      workspaceId: record.workspaceId,
      platform: record.platform,
      accountId: record.id,
      errorCode: LetmepostError.isInstance(error) ? error.code : undefined,
    });
  }
}

/** JSON drops undefined anyway; stripping keeps records comparable in tests and smaller. */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
