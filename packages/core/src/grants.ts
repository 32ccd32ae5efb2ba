import { z } from 'zod';
import type { ClientCredentials, TokenSet } from './account.js';
import type { LetmepostContext } from './letmepost-context.js';
import { lazySchema } from './lazy-schema.js';
import { generateId } from './pkce.js';
import { PLATFORM_IDS } from './platform-id.js';
import { decodeRecord, encodeRecord, listAllEntries, nextVersion, openField, readStoreEntry, sealField, storeKeys } from './store-layout.js';
import type { LockLease, StoreEntry } from './token-store.js';

/** Lease on a grant while it is refreshed or rewritten; longer than any refresh may take. */
export const GRANT_LOCK_TTL_MS = 30_000;
/** How long a grant write waits for a refresh in another process to finish. */
export const GRANT_LOCK_WAIT_MS = 35_000;

export const platformSchema = lazySchema(() => z.enum(PLATFORM_IDS));

export const tokenSetSchema = lazySchema((): z.ZodType<TokenSet> =>
  z.object({
    accessToken: z.string(),
    refreshToken: z.string().optional(),
    tokenType: z.string().optional(),
    expiresAt: z.number().optional(),
    refreshTokenExpiresAt: z.number().optional(),
    scopes: z.array(z.string()).optional(),
    secrets: z.record(z.string(), z.string()).optional(),
  }),
);

export const clientCredentialsSchema = lazySchema((): z.ZodType<ClientCredentials> =>
  z.object({
    clientId: z.string(),
    clientSecret: z.string().optional(),
  }),
);

/**
 * One consent at a platform: the tokens it issued and the app that issued them, shared by every
 * account the consent yields (a LinkedIn member and the organisations they administer). Refresh,
 * revoke and the `reauth_required` status belong here, not to the accounts: one rotating refresh
 * token can only be spent once, whichever account needed it.
 *
 * Non-secret token facts (expiry, scopes) are kept in clear so listing never decrypts; `tokens`
 * and `client` are sealed and bound to the record's store version.
 */
export const grantRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    id: z.string(),
    workspaceId: z.string(),
    /** The platform whose provider issued the grant; refresh and revoke go through it. */
    platform: platformSchema(),
    status: z.enum(['active', 'reauth_required']),
    /** The error code that put the grant in `reauth_required`. */
    statusReason: z.string().optional(),
    scopes: z.array(z.string()).optional(),
    expiresAt: z.number().optional(),
    refreshTokenExpiresAt: z.number().optional(),
    hasRefreshToken: z.boolean(),
    /** Non-secret facts the provider needs to refresh or revoke (e.g. Bluesky's PDS and DID). */
    data: z.record(z.string(), z.unknown()).optional(),
    /** Sealed `TokenSet`. */
    tokens: z.string(),
    /** Sealed `ClientCredentials` of the OAuth app that issued the grant (refresh needs it). */
    client: z.string().optional(),
    createdAt: z.number(),
    updatedAt: z.number(),
    refreshedAt: z.number().optional(),
  }),
);

export type GrantRecord = z.infer<ReturnType<typeof grantRecordSchema>>;

/** What a grant record says in clear: everything but the sealed fields. */
export type GrantFacts = Omit<GrantRecord, 'tokens' | 'client' | 'scopes' | 'expiresAt' | 'refreshTokenExpiresAt' | 'hasRefreshToken'>;

export interface LoadedGrant {
  key: string;
  version: number;
  record: GrantRecord;
}

const membershipSchema = lazySchema(() => z.object({ v: z.literal(1) }));

export function newGrantId(): string {
  return generateId({ prefix: 'grt' });
}

export function grantKey({ workspaceId, grantId }: { workspaceId: string; grantId: string }): string {
  return storeKeys.grant({ workspaceId, grantId });
}

/** The token-derived, non-secret facts kept in clear on a grant. */
export function tokenFacts(tokens: TokenSet): Pick<GrantRecord, 'scopes' | 'expiresAt' | 'refreshTokenExpiresAt' | 'hasRefreshToken'> {
  return {
    scopes: tokens.scopes,
    expiresAt: tokens.expiresAt,
    refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
    hasRefreshToken: tokens.refreshToken !== undefined && tokens.refreshToken !== '',
  };
}

export function readGrant({
  context,
  workspaceId,
  grantId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
}): Promise<LoadedGrant | null> {
  // Not an async function: every publish to an account reads its grant, and each async layer
  // costs two promises. A malformed id is still a rejection.
  let key: string;
  try {
    key = grantKey({ workspaceId, grantId });
  } catch (error) {
    return Promise.reject(error);
  }
  return readStoreEntry({ context, key }).then((entry) => (entry === null ? null : loadedGrantFrom(entry)));
}

export function loadedGrantFrom(entry: StoreEntry): LoadedGrant {
  return { key: entry.key, version: entry.version, record: decodeRecord({ entry, schema: grantRecordSchema() }) };
}

export function openGrantTokens({ context, grant }: { context: LetmepostContext; grant: LoadedGrant }): TokenSet {
  return openField({
    cipher: context.cipher,
    key: grant.key,
    field: 'tokens',
    ciphertext: grant.record.tokens,
    schema: tokenSetSchema(),
    recordVersion: grant.version,
  });
}

export function openGrantClient({ context, grant }: { context: LetmepostContext; grant: LoadedGrant }): ClientCredentials | undefined {
  if (grant.record.client === undefined) return undefined;
  return openField({
    cipher: context.cipher,
    key: grant.key,
    field: 'client',
    ciphertext: grant.record.client,
    schema: clientCredentialsSchema(),
    recordVersion: grant.version,
  });
}

/**
 * Writes a grant with compare-and-set at `expectedVersion` (`null`: create), fenced by `lease`
 * when given. Every sealed field is sealed afresh for the version this write creates, so a write
 * that changes only the status still re-binds the tokens to the record's new version.
 */
export async function writeGrant({
  context,
  key,
  expectedVersion,
  facts,
  tokens,
  client,
  lease,
}: {
  context: LetmepostContext;
  key: string;
  expectedVersion: number | null;
  facts: GrantFacts;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
  lease?: LockLease;
}): Promise<LoadedGrant> {
  const recordVersion = nextVersion({ expectedVersion });
  const record: GrantRecord = stripUndefined({
    ...facts,
    ...tokenFacts(tokens),
    tokens: sealField({ cipher: context.cipher, key, field: 'tokens', value: tokens, recordVersion }),
    client:
      client === undefined
        ? undefined
        : sealField({ cipher: context.cipher, key, field: 'client', value: client, recordVersion }),
  });
  const entry = await context.store.set(key, encodeRecord(record), {
    expectedVersion,
    ...(lease !== undefined && { fence: lease }),
  });
  return { key, version: entry.version, record };
}

/** The clear facts of a loaded grant, to carry over into its next write. */
export function factsOf(record: GrantRecord): GrantFacts {
  const { tokens: _tokens, client: _client, scopes: _scopes, expiresAt: _expiresAt, refreshTokenExpiresAt: _refresh, hasRefreshToken: _has, ...facts } =
    record;
  return facts;
}

export function withGrantLock<T>({
  context,
  grantId,
  fn,
}: {
  context: LetmepostContext;
  grantId: string;
  fn: (lease: LockLease) => Promise<T>;
}): Promise<T> {
  return context.store.withLock(storeKeys.grantLock({ grantId }), fn, {
    ttlMs: GRANT_LOCK_TTL_MS,
    waitMs: GRANT_LOCK_WAIT_MS,
  });
}

/** Records that `accountId` draws on the grant; written under the grant's lease. */
export async function addGrantMember({
  context,
  workspaceId,
  grantId,
  accountId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
  accountId: string;
}): Promise<void> {
  const key = storeKeys.grantMember({ workspaceId, grantId, accountId });
  if ((await context.store.get(key)) === null) await context.store.set(key, encodeRecord({ v: 1 }));
}

export async function removeGrantMember({
  context,
  workspaceId,
  grantId,
  accountId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
  accountId: string;
}): Promise<void> {
  await context.store.delete(storeKeys.grantMember({ workspaceId, grantId, accountId }));
}

/** Ids of the accounts that draw on a grant. */
export async function grantMembers({
  context,
  workspaceId,
  grantId,
}: {
  context: LetmepostContext;
  workspaceId: string;
  grantId: string;
}): Promise<string[]> {
  const prefix = storeKeys.grantMembersPrefix({ workspaceId, grantId });
  return (await listAllEntries({ store: context.store, prefix })).map((entry) => {
    decodeRecord({ entry, schema: membershipSchema() });
    return decodeURIComponent(entry.key.slice(prefix.length));
  });
}

/** JSON drops undefined anyway; stripping keeps records comparable in tests and smaller. */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}
