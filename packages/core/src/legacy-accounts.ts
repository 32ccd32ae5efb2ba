import { z } from 'zod';
import type { ClientCredentials, TokenSet } from './account.js';
import {
  addGrantMember,
  clientCredentialsSchema,
  grantKey,
  platformSchema,
  stripUndefined,
  tokenSetSchema,
  writeGrant,
} from './grants.js';
import { lazySchema } from './lazy-schema.js';
import type { LetmepostContext } from './letmepost-context.js';
import { decodeRecord, decodeRecordValue, encodeRecord, isStoreConflict, listAllEntries, openField, storeKeys } from './store-layout.js';
import type { StoreEntry } from './token-store.js';

/** Long enough to migrate a workspace of a few thousand accounts. */
const MIGRATION_LOCK_TTL_MS = 60_000;

/**
 * An account record as the release before grants wrote it: its own copy of the grant's tokens
 * and client, sealed inline (`lmp1.` envelopes, not bound to a record version), status and token
 * facts on the account.
 */
const legacyAccountRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    id: z.string(),
    workspaceId: z.string(),
    platform: platformSchema(),
    platformAccountId: z.string(),
    kind: z.enum(['person', 'organization', 'page', 'channel', 'blog', 'bot', 'board']).optional(),
    username: z.string().optional(),
    displayName: z.string().optional(),
    avatarUrl: z.string().optional(),
    profileUrl: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
    status: z.enum(['active', 'reauth_required']),
    statusReason: z.string().optional(),
    hasRefreshToken: z.boolean(),
    tokens: z.string(),
    client: z.string().optional(),
    createdAt: z.number(),
    updatedAt: z.number(),
    refreshedAt: z.number().optional(),
  }),
);

type LegacyAccountRecord = z.infer<ReturnType<typeof legacyAccountRecordSchema>>;

const versionProbeSchema = lazySchema(() => z.object({ v: z.number() }));

/** Whether a stored account entry is a record of the previous release (`v: 1`). */
export function isLegacyAccountEntry(entry: StoreEntry): boolean {
  const probe = decodeRecordValue({ value: entry.value, schema: versionProbeSchema() });
  return probe.success && probe.data.v === 1;
}

interface LegacyAccount {
  entry: StoreEntry;
  record: LegacyAccountRecord;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
}

/**
 * Turns every v1 account record of a workspace into grants and v2 account records, once, the
 * first time core reads one. The previous release stored one copy of a consent per account it
 * yielded (a LinkedIn member and their organisations), so copies that still hold the same
 * access or refresh token are one consent and become one grant, shared again; the freshest copy
 * (last refreshed) supplies the tokens.
 *
 * Safe to run from several processes at once and to interrupt: it holds a per-workspace lease,
 * a grant's id is derived from its oldest account's id so a re-run finds the grant it already
 * wrote (and never overwrites it: it may have been refreshed since), and each account record is
 * replaced with compare-and-set at the version it was read at.
 */
export async function migrateLegacyAccounts({ context, workspaceId }: { context: LetmepostContext; workspaceId: string }): Promise<void> {
  await context.store.withLock(
    storeKeys.migrationLock({ workspaceId }),
    async () => {
      const legacy = await readLegacyAccounts({ context, workspaceId });
      for (const group of groupByConsent(legacy)) await migrateGroup({ context, workspaceId, group });
    },
    { ttlMs: MIGRATION_LOCK_TTL_MS },
  );
}

async function readLegacyAccounts({ context, workspaceId }: { context: LetmepostContext; workspaceId: string }): Promise<LegacyAccount[]> {
  const found: LegacyAccount[] = [];
  for (const entry of await listAllEntries({ store: context.store, prefix: storeKeys.accountsPrefix({ workspaceId }) })) {
    if (!isLegacyAccountEntry(entry)) continue;
    const record = decodeRecord({ entry, schema: legacyAccountRecordSchema() });
    // v1 seals are bound to the record's key and field only (`lmp1.`), so no version is given.
    const tokens = openField({ cipher: context.cipher, key: entry.key, field: 'tokens', ciphertext: record.tokens, schema: tokenSetSchema() });
    const client =
      record.client === undefined
        ? undefined
        : openField({ cipher: context.cipher, key: entry.key, field: 'client', ciphertext: record.client, schema: clientCredentialsSchema() });
    found.push({ entry, record, tokens, client });
  }
  return found;
}

/** Copies of one consent: same platform, and a shared access or refresh token (transitively). */
function groupByConsent(accounts: readonly LegacyAccount[]): LegacyAccount[][] {
  const parent = accounts.map((_, index) => index);
  const root = (index: number): number => {
    while (parent[index] !== index) index = parent[index] = parent[parent[index]!]!;
    return index;
  };
  const byToken = new Map<string, number>();
  accounts.forEach((account, index) => {
    for (const token of [account.tokens.accessToken, account.tokens.refreshToken]) {
      if (token === undefined || token === '') continue;
      const tokenKey = `${account.record.platform}\0${token}`;
      const seen = byToken.get(tokenKey);
      if (seen === undefined) byToken.set(tokenKey, index);
      else parent[root(index)] = root(seen);
    }
  });
  const groups = new Map<number, LegacyAccount[]>();
  accounts.forEach((account, index) => {
    const group = groups.get(root(index)) ?? [];
    group.push(account);
    groups.set(root(index), group);
  });
  return [...groups.values()];
}

async function migrateGroup({
  context,
  workspaceId,
  group,
}: {
  context: LetmepostContext;
  workspaceId: string;
  group: LegacyAccount[];
}): Promise<void> {
  const byAge = [...group].sort((left, right) => left.record.createdAt - right.record.createdAt || left.record.id.localeCompare(right.record.id));
  const oldest = byAge[0]!;
  const freshest = [...group].sort(
    (left, right) => (right.record.refreshedAt ?? right.record.updatedAt) - (left.record.refreshedAt ?? left.record.updatedAt),
  )[0]!;
  const grantId = `grt_${oldest.record.id.replace(/^acc_/, '')}`;
  const key = grantKey({ workspaceId, grantId });

  if ((await context.store.get(key)) === null) {
    try {
      await writeGrant({
        context,
        key,
        expectedVersion: null,
        facts: stripUndefined({
          v: 1 as const,
          id: grantId,
          workspaceId,
          platform: freshest.record.platform,
          status: freshest.record.status,
          statusReason: freshest.record.statusReason,
          // v1 accounts each held their whole consent, so the account data carried what refresh
          // needed (Bluesky's PDS and DID); it becomes the grant's data.
          data: freshest.record.data,
          createdAt: oldest.record.createdAt,
          updatedAt: freshest.record.updatedAt,
          refreshedAt: freshest.record.refreshedAt,
        }),
        tokens: freshest.tokens,
        client: freshest.client,
      });
    } catch (error) {
      // Another migrator (a lease that ran out) wrote it first; theirs stands.
      if (!isStoreConflict(error)) throw error;
    }
  }

  for (const legacy of group) {
    const { record } = legacy;
    await addGrantMember({ context, workspaceId, grantId, accountId: record.id });
    const next = stripUndefined({
      v: 2 as const,
      id: record.id,
      workspaceId: record.workspaceId,
      platform: record.platform,
      platformAccountId: record.platformAccountId,
      kind: record.kind,
      username: record.username,
      displayName: record.displayName,
      avatarUrl: record.avatarUrl,
      profileUrl: record.profileUrl,
      data: record.data,
      grantId,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    });
    try {
      await context.store.set(legacy.entry.key, encodeRecord(next), { expectedVersion: legacy.entry.version });
    } catch (error) {
      if (!isStoreConflict(error)) throw error;
    }
  }
  context.log('info', 'letmepost.account.migrated', {
    workspaceId,
    platform: freshest.record.platform,
    grantId,
    accountIds: group.map((legacy) => legacy.record.id),
  });
}
