import { z } from 'zod';
import type { Account, ClientCredentials, ProviderAccount, TokenSet } from './account.js';
import {
  addGrantMember,
  grantKey,
  grantMembers,
  loadedGrantFrom,
  newGrantId,
  openGrantClient,
  openGrantTokens,
  platformSchema,
  readGrant,
  removeGrantMember,
  stripUndefined,
  tokenSetSchema,
  withGrantLock,
  writeGrant,
  type LoadedGrant,
} from './grants.js';
import { isLegacyAccountEntry, migrateLegacyAccounts } from './legacy-accounts.js';
import {
  issuesFromZod,
  parseInput,
  requireProvider,
  type LetmepostContext,
} from './letmepost-context.js';
import { lazySchema } from './lazy-schema.js';
import { LetmepostError } from './letmepost-error.js';
import { generateId } from './pkce.js';
import type { PlatformId } from './platform-id.js';
import {
  decodeRecord,
  encodeRecord,
  isStoreConflict,
  listAllEntries,
  nextVersion,
  openField,
  readStoreEntry,
  sealField,
  storeKeys,
  storeIdSchema,
} from './store-layout.js';
import type { StoreEntry } from './token-store.js';

export { clientCredentialsSchema, platformSchema, stripUndefined, tokenSetSchema } from './grants.js';

/** Upper bound for a best-effort revoke on removal. */
const REVOKE_TIMEOUT_MS = 10_000;
/** Rounds of re-reading when a concurrent connect or removal moved an account meanwhile. */
const MAX_ACCOUNT_WRITE_ATTEMPTS = 5;

export const workspaceIdSchema = lazySchema(() => storeIdSchema({ maxLength: 256 }));

const accountKindSchema = lazySchema(() => z.enum(['person', 'organization', 'page', 'channel', 'blog', 'bot', 'board']));

/**
 * An account as stored: who it is at the platform and which grant it publishes with. Secrets
 * live on the grant; `tokens` is only present for an account the platform gave tokens of its own
 * (a Facebook Page token), sealed and bound to this record's version.
 */
export const accountRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(2),
    id: z.string(),
    workspaceId: z.string(),
    /** The account's own platform (publish goes through it); may differ from its grant's. */
    platform: platformSchema(),
    platformAccountId: z.string(),
    kind: accountKindSchema().optional(),
    username: z.string().optional(),
    displayName: z.string().optional(),
    avatarUrl: z.string().optional(),
    profileUrl: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    grantId: z.string(),
    /** Sealed `TokenSet` of the account itself, when the platform issues per-account tokens. */
    tokens: z.string().optional(),
    createdAt: z.number(),
    updatedAt: z.number(),
  }),
);

export type AccountRecord = z.infer<ReturnType<typeof accountRecordSchema>>;

export const accountIndexSchema = lazySchema(() => z.object({ v: z.literal(1), workspaceId: z.string() }));
export const platformIndexSchema = lazySchema(() => z.object({ v: z.literal(1), accountId: z.string() }));

/** An account record with the grant it draws on (`null` when the grant is gone). */
export interface LoadedAccount {
  key: string;
  version: number;
  record: AccountRecord;
  grant: LoadedGrant | null;
}

export function toAccount({ record, grant }: { record: AccountRecord; grant: LoadedGrant | null }): Account {
  const facts = grant?.record;
  const reauthBy = facts === undefined ? undefined : facts.hasRefreshToken ? facts.refreshTokenExpiresAt : facts.expiresAt;
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
    // An account whose grant vanished cannot publish until it is connected again.
    status: facts?.status ?? 'reauth_required',
    ...(facts?.scopes !== undefined && { scopes: [...facts.scopes] }),
    ...(facts?.expiresAt !== undefined && { expiresAt: facts.expiresAt }),
    // The last moment the account works without the user coming back: when the refresh token
    // dies, or, for grants that cannot be refreshed, when the access token does.
    ...(reauthBy !== undefined && { reauthBy }),
    createdAt: record.createdAt,
    updatedAt: Math.max(record.updatedAt, facts?.updatedAt ?? 0),
  };
}

/**
 * The provider's view of each stored record, made once: decoded records are frozen and shared
 * (see `decodeRecord`), and every publish to an account hands its provider this view.
 */
const providerAccounts = new WeakMap<AccountRecord, ProviderAccount>();

export function toProviderAccount(record: AccountRecord): ProviderAccount {
  if (!Object.isFrozen(record)) return providerAccountOf(record);
  let account = providerAccounts.get(record);
  if (account === undefined) {
    account = Object.freeze(providerAccountOf(record));
    providerAccounts.set(record, account);
  }
  return account;
}

function providerAccountOf(record: AccountRecord): ProviderAccount {
  return {
    platformAccountId: record.platformAccountId,
    ...(record.kind !== undefined && { kind: record.kind }),
    ...(record.username !== undefined && { username: record.username }),
    ...(record.displayName !== undefined && { displayName: record.displayName }),
    ...(record.avatarUrl !== undefined && { avatarUrl: record.avatarUrl }),
    ...(record.profileUrl !== undefined && { profileUrl: record.profileUrl }),
    // A provider gets data it cannot change: a stored record's is frozen already (decoded
    // records are shared), anything else is copied.
    ...(record.data !== undefined && { data: Object.isFrozen(record.data) ? record.data : structuredClone(record.data) }),
  };
}

/** The account's own tokens, when the platform issued it some; `undefined` for grant-only accounts. */
export function openAccountTokens({ context, loaded }: { context: LetmepostContext; loaded: LoadedAccount }): TokenSet | undefined {
  if (loaded.record.tokens === undefined) return undefined;
  return openField({
    cipher: context.cipher,
    key: loaded.key,
    field: 'tokens',
    ciphertext: loaded.record.tokens,
    schema: tokenSetSchema(),
    recordVersion: loaded.version,
  });
}

/** The account with that id, or null when it does not exist or belongs to another workspace. */
export function findAccount({
  context,
  accountId,
  workspaceId,
}: {
  context: LetmepostContext;
  accountId: string;
  workspaceId?: string;
}): Promise<LoadedAccount | null> {
  // The workspace names the record's key: one read fewer than through the id index (on every
  // publish). Equivalent, since a record is written after its index entry and removed before it,
  // and an index entry without a record is treated as absent.
  if (workspaceId === undefined) return findThroughIndex({ context, accountId });
  let key: string;
  try {
    key = storeKeys.account({ workspaceId, accountId });
  } catch (error) {
    // A malformed id is a rejection, as from any async lookup, never a synchronous throw.
    return Promise.reject(error);
  }
  return readAccountAt({ context, key, workspaceId, accountId });
}

async function findThroughIndex({ context, accountId }: { context: LetmepostContext; accountId: string }): Promise<LoadedAccount | null> {
  const indexEntry = await context.store.get(storeKeys.accountIndex({ accountId }));
  if (indexEntry === null) return null;
  const { workspaceId } = decodeRecord({ entry: indexEntry, schema: accountIndexSchema() });
  return readAccountAt({ context, key: storeKeys.account({ workspaceId, accountId }), workspaceId, accountId });
}

/**
 * The account record at `key` with its grant, or null when there is none or it is not `accountId`
 * of `workspaceId`. Not an async function: every publish to an account reads it (two store reads
 * chained, no async frame of its own).
 */
function readAccountAt({
  context,
  key,
  workspaceId,
  accountId,
}: {
  context: LetmepostContext;
  key: string;
  workspaceId: string;
  accountId: string;
}): Promise<LoadedAccount | null> {
  return readStoreEntry({ context, key }).then((entry) => {
    if (entry === null || !isLegacyAccountEntry(entry)) return withGrant({ context, entry, workspaceId, accountId });
    return migrateLegacyAccounts({ context, workspaceId })
      .then(() => readStoreEntry({ context, key }))
      .then((migrated) => withGrant({ context, entry: migrated, workspaceId, accountId }));
  });
}

function withGrant({
  context,
  entry,
  workspaceId,
  accountId,
}: {
  context: LetmepostContext;
  entry: StoreEntry | null;
  workspaceId: string;
  accountId: string;
}): Promise<LoadedAccount | null> | null {
  if (entry === null) return null;
  const record = accountRecordFrom(entry);
  if (record.id !== accountId || record.workspaceId !== workspaceId) return null;
  return readGrant({ context, workspaceId: record.workspaceId, grantId: record.grantId }).then((grant) => ({
    key: entry.key,
    version: entry.version,
    record,
    grant,
  }));
}

function accountRecordFrom(entry: StoreEntry): AccountRecord {
  return decodeRecord({ entry, schema: accountRecordSchema() });
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
 * Stores what one consent produced: one grant, and every account it yields drawing on it. A
 * platform account already connected in this workspace is updated in place (same account id,
 * `reauth_required` cleared), so reconnecting is how a user repairs an account and the host's
 * references to it stay valid. A reconnect reuses the grant the account already had; a grant
 * left without accounts by the reconnect is forgotten without a revoke, since at most platforms
 * revoking it would end the consent the user just gave.
 */
export async function saveConnectedGrant({
  context,
  workspaceId,
  platform,
  accounts: granted,
  tokens,
  client,
  grantData,
}: {
  context: LetmepostContext;
  workspaceId: string;
  /** The platform of the provider that issued the grant (refresh and revoke go through it). */
  platform: PlatformId;
  /** Each account with its own platform (publish goes through it; a Facebook login yields Instagram accounts). */
  accounts: ReadonlyArray<{ platform: PlatformId; account: ProviderAccount }>;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
  grantData?: Record<string, unknown> | undefined;
}): Promise<Account[]> {
  // A consent the user kept nothing of (an empty choice) leaves nothing behind.
  if (granted.length === 0) return [];
  const described = granted.map(({ platform: accountPlatform, account: providerAccount }) => {
    // Validated by the provider of the account's own platform, which will publish for it.
    const provider = requireProvider({ context, platform: accountPlatform });
    const { tokens: accountTokens, platform: _platform, ...rest } = providerAccount;
    const dataResult = provider.accountSchema.safeParse(rest.data ?? {});
    if (!dataResult.success) {
      throw new LetmepostError({
        code: 'platform_auth_failed',
        platform: accountPlatform,
        message: `The ${accountPlatform} provider described an account whose data does not match its accountSchema.`,
        issues: issuesFromZod({ error: dataResult.error, pathPrefix: 'data' }),
      });
    }
    return { platform: accountPlatform, account: { ...rest, data: dataResult.data }, accountTokens };
  });

  // Claim every (workspace, platform account) pair first: two callbacks finishing at once for
  // the same platform account must end with one account, not two.
  const claims = await Promise.all(
    described.map(async (item) => {
      const indexKey = storeKeys.accountByPlatformId({
        workspaceId,
        platform: item.platform,
        platformAccountId: item.account.platformAccountId,
      });
      return { ...item, indexKey, accountId: await claimAccountId({ context, indexKey }) };
    }),
  );

  // A reconnect keeps the grant id its accounts already use, so the grant is updated in place.
  let grantId: string | undefined;
  for (const claim of claims) {
    const existingGrant = (await findAccount({ context, accountId: claim.accountId, workspaceId }))?.grant;
    if (existingGrant !== null && existingGrant !== undefined && existingGrant.record.platform === platform) {
      grantId = existingGrant.record.id;
      break;
    }
  }
  const finalGrantId = grantId ?? newGrantId();
  const key = grantKey({ workspaceId, grantId: finalGrantId });
  const now = context.clock.now();

  const saved: AccountRecord[] = [];
  const formerGrants = new Set<string>();
  await withGrantLock({
    context,
    grantId: finalGrantId,
    fn: async (lease) => {
      const current = await context.store.get(key);
      const currentGrant = current === null ? null : loadedGrantFrom(current);
      await writeGrant({
        context,
        key,
        expectedVersion: currentGrant?.version ?? null,
        facts: stripUndefined({
          v: 1 as const,
          id: finalGrantId,
          workspaceId,
          platform,
          status: 'active' as const,
          data: grantData,
          createdAt: currentGrant?.record.createdAt ?? now,
          updatedAt: now,
        }),
        tokens,
        client,
        lease,
      });
      for (const claim of claims) {
        const record = await attachAccount({ context, workspaceId, grantId: finalGrantId, claim, now });
        if (record.former !== undefined && record.former !== finalGrantId) formerGrants.add(record.former);
        saved.push(record.record);
      }
    },
  });
  for (const former of formerGrants) await forgetGrantIfUnused({ context, workspaceId, grantId: former });

  const grant = await readGrant({ context, workspaceId, grantId: finalGrantId });
  return saved.map((record) => toAccount({ record, grant }));
}

/** Writes one account of a grant (under the grant's lease), retrying when its claim moved. */
async function attachAccount({
  context,
  workspaceId,
  grantId,
  claim,
  now,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
  claim: {
    platform: PlatformId;
    indexKey: string;
    accountId: string;
    account: Omit<ProviderAccount, 'tokens' | 'platform'>;
    accountTokens: TokenSet | undefined;
  };
  now: number;
}): Promise<{ record: AccountRecord; former: string | undefined }> {
  let accountId = claim.accountId;
  for (let attempt = 0; attempt < MAX_ACCOUNT_WRITE_ATTEMPTS; attempt++) {
    // A removal may have released the claim since it was taken; claim again.
    const index = await context.store.get(claim.indexKey);
    if (index === null || decodeRecord({ entry: index, schema: platformIndexSchema() }).accountId !== accountId) {
      accountId = await claimAccountId({ context, indexKey: claim.indexKey });
      continue;
    }
    const key = storeKeys.account({ workspaceId, accountId });
    const currentEntry = await context.store.get(key);
    if (currentEntry !== null && isLegacyAccountEntry(currentEntry)) {
      await migrateLegacyAccounts({ context, workspaceId });
      continue;
    }
    const current = currentEntry === null ? null : { version: currentEntry.version, record: accountRecordFrom(currentEntry) };
    const expectedVersion = current?.version ?? null;
    const { account } = claim;
    const record: AccountRecord = stripUndefined({
      v: 2 as const,
      id: accountId,
      workspaceId,
      platform: claim.platform,
      platformAccountId: account.platformAccountId,
      kind: account.kind,
      username: account.username,
      displayName: account.displayName,
      avatarUrl: account.avatarUrl,
      profileUrl: account.profileUrl,
      data: account.data,
      grantId,
      tokens:
        claim.accountTokens === undefined
          ? undefined
          : sealField({
              cipher: context.cipher,
              key,
              field: 'tokens',
              value: claim.accountTokens,
              recordVersion: nextVersion({ expectedVersion }),
            }),
      createdAt: current?.record.createdAt ?? now,
      updatedAt: now,
    });
    // The membership and the id index go first: an account record nobody can find is worse
    // than an index entry pointing at nothing (which lookups treat as absent).
    await addGrantMember({ context, workspaceId, grantId, accountId });
    await context.store.set(storeKeys.accountIndex({ accountId }), encodeRecord({ v: 1, workspaceId }));
    try {
      await context.store.set(key, encodeRecord(record), { expectedVersion });
    } catch (error) {
      if (!isStoreConflict(error)) throw error;
      continue;
    }
    return { record, former: current?.record.grantId };
  }
  throw new LetmepostError({ code: 'store_conflict', message: 'The account kept changing while it was saved; try again.' });
}

/** Drops a grant no account draws on any more (after a reconnect moved them), without revoking. */
async function forgetGrantIfUnused({
  context,
  workspaceId,
  grantId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
}): Promise<void> {
  await withGrantLock({
    context,
    grantId,
    fn: async () => {
      for (const accountId of await grantMembers({ context, workspaceId, grantId })) {
        const entry = await context.store.get(storeKeys.account({ workspaceId, accountId }));
        const stillMember = entry !== null && !isLegacyAccountEntry(entry) && accountRecordFrom(entry).grantId === grantId;
        if (stillMember) return;
        await removeGrantMember({ context, workspaceId, grantId, accountId });
      }
      await context.store.delete(grantKey({ workspaceId, grantId }));
    },
  });
}

async function claimAccountId({ context, indexKey }: { context: LetmepostContext; indexKey: string }): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await context.store.get(indexKey);
    if (existing !== null) return decodeRecord({ entry: existing, schema: platformIndexSchema() }).accountId;
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

/**
 * Every account record of a workspace as stored, after turning records of the previous release
 * into grants (which happens once, the first time a workspace is read).
 */
export async function listWorkspaceAccountEntries({
  context,
  workspaceId,
}: {
  context: LetmepostContext;
  workspaceId: string;
}): Promise<StoreEntry[]> {
  const prefix = storeKeys.accountsPrefix({ workspaceId });
  const entries = await listAllEntries({ store: context.store, prefix });
  if (!entries.some((entry) => isLegacyAccountEntry(entry))) return entries;
  await migrateLegacyAccounts({ context, workspaceId });
  return listAllEntries({ store: context.store, prefix });
}

export interface AccountsApi {
  list(options: { workspaceId: string }): Promise<Account[]>;
  get(options: { workspaceId?: string; accountId: string }): Promise<Account>;
  /**
   * Forgets the account. When it is the last account drawing on its grant, the grant is revoked
   * at the platform (best effort) and forgotten too; otherwise the grant stays, untouched, for
   * the accounts still using it.
   */
  remove(options: { workspaceId?: string; accountId: string }): Promise<void>;
}

const listOptionsSchema = lazySchema(() => z.object({ workspaceId: workspaceIdSchema() }));
const byIdOptionsSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema().optional(),
    accountId: storeIdSchema({ maxLength: 256 }),
  }),
);

export function createAccountsApi({ context }: { context: LetmepostContext }): AccountsApi {
  return {
    async list(options) {
      const { workspaceId } = parseInput({ schema: listOptionsSchema(), input: options });
      const entries = await listWorkspaceAccountEntries({ context, workspaceId });
      const grants = new Map<string, LoadedGrant>();
      for (const entry of await listAllEntries({ store: context.store, prefix: storeKeys.grantsPrefix({ workspaceId }) })) {
        const grant = loadedGrantFrom(entry);
        grants.set(grant.record.id, grant);
      }
      return entries
        .map((entry) => {
          const record = accountRecordFrom(entry);
          return toAccount({ record, grant: grants.get(record.grantId) ?? null });
        })
        .sort((left, right) => left.createdAt - right.createdAt || left.id.localeCompare(right.id));
    },

    async get(options) {
      const { workspaceId, accountId } = parseInput({ schema: byIdOptionsSchema(), input: options });
      const loaded = await findAccount({ context, accountId, workspaceId });
      if (loaded === null) throw accountNotFound({ accountId });
      return toAccount(loaded);
    },

    async remove(options) {
      const { workspaceId, accountId } = parseInput({ schema: byIdOptionsSchema(), input: options });
      for (let attempt = 0; attempt < MAX_ACCOUNT_WRITE_ATTEMPTS; attempt++) {
        const found = await findAccount({ context, accountId, workspaceId });
        if (found === null) {
          if (attempt === 0) throw accountNotFound({ accountId });
          return;
        }
        const done = await withGrantLock({
          context,
          grantId: found.record.grantId,
          fn: () => removeUnderGrantLease({ context, found }),
        });
        if (done) return;
      }
      throw new LetmepostError({ code: 'store_conflict', message: 'The account kept changing while it was removed; try again.' });
    },
  };
}

/**
 * Removes one account while its grant's lease is held. Returns false when the account moved to
 * another grant meanwhile (a reconnect), so the caller retries under that grant's lease.
 */
async function removeUnderGrantLease({ context, found }: { context: LetmepostContext; found: LoadedAccount }): Promise<boolean> {
  const { workspaceId, id: accountId, grantId } = found.record;
  const entry = await context.store.get(found.key);
  if (entry === null) return true;
  const record = accountRecordFrom(entry);
  if (record.grantId !== grantId) return false;

  try {
    await context.store.delete(found.key, { expectedVersion: entry.version });
  } catch (error) {
    if (isStoreConflict(error)) return false;
    throw error;
  }
  const indexKey = storeKeys.accountByPlatformId({
    workspaceId,
    platform: record.platform,
    platformAccountId: record.platformAccountId,
  });
  const index = await context.store.get(indexKey);
  if (index !== null && decodeRecord({ entry: index, schema: platformIndexSchema() }).accountId === accountId) {
    await context.store.delete(indexKey, { expectedVersion: index.version }).catch((error: unknown) => {
      // A reconnect re-pointed the index meanwhile; it is no longer ours to delete.
      if (!isStoreConflict(error)) throw error;
    });
  }
  await context.store.delete(storeKeys.accountIndex({ accountId }));
  await removeGrantMember({ context, workspaceId, grantId, accountId });

  const remaining = await grantMembers({ context, workspaceId, grantId });
  const lastOfGrant = remaining.length === 0;
  if (lastOfGrant) {
    const grant = await readGrant({ context, workspaceId, grantId });
    if (grant !== null) {
      await revokeBestEffort({ context, grant, accountId });
      await context.store.delete(grant.key);
    }
  }
  context.log('info', 'letmepost.account.removed', {
    workspaceId,
    platform: record.platform,
    accountId,
    grantId,
    grantRevoked: lastOfGrant,
  });
  return true;
}

async function revokeBestEffort({
  context,
  grant,
  accountId,
}: {
  context: LetmepostContext;
  grant: LoadedGrant;
  accountId: string;
}): Promise<void> {
  const { record } = grant;
  const provider = context.providers.get(record.platform);
  if (provider?.revoke === undefined) return;
  try {
    const tokens = openGrantTokens({ context, grant });
    const client = openGrantClient({ context, grant });
    await provider.revoke({
      tokens,
      client,
      ...(record.data !== undefined && { grantData: structuredClone(record.data) }),
      signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS),
    });
  } catch (error) {
    // Removal must not depend on the platform: a revoked, expired or unreachable grant is
    // exactly when users remove accounts.
    context.log('warn', 'letmepost.account.revoke_failed', {
      workspaceId: record.workspaceId,
      platform: record.platform,
      accountId,
      grantId: record.id,
      errorCode: LetmepostError.isInstance(error) ? error.code : undefined,
    });
  }
}

