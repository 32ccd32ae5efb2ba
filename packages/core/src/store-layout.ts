import { z } from 'zod';
import { createBoundedCache, deepFreeze, type BoundedCache } from './bounded-cache.js';
import { lazySchema } from './lazy-schema.js';
import { LetmepostError } from './letmepost-error.js';
import { isWellFormedText } from './token-store-support.js';
import type { PlatformId } from './platform-id.js';
import type { StoreEntry, TokenStore } from './token-store.js';

/**
 * How core lays its state out on a `TokenStore`. Every value is a JSON document with a `v`
 * (schema version) field; every secret inside one is an envelope ciphertext string (`lmp1.…` or `lmp2.…`)
 * whose associated data is `<store key>#<field name>`, so a ciphertext copied into another record
 * or another field of the same record fails to decrypt instead of leaking into the wrong context.
 *
 * ```
 * accounts/<accountId>                                     { workspaceId }               who owns an account id
 * ws/<workspace>/accounts/<accountId>                      account record (v2)           { grantId }, own tokens# sealed if any
 * ws/<workspace>/grants/<grantId>                          grant: one consent            tokens#, client# sealed
 * ws/<workspace>/grant-accounts/<grantId>/<accountId>      { }                           accounts drawing on a grant
 * ws/<workspace>/account-ids/<platform>/<platformAccount>  { accountId }                 reconnects reuse the id
 * ws/<workspace>/app-credentials/<platform>                white-label OAuth app         clientSecret# sealed
 * ws/<workspace>/app-credentials/<platform>/<instance>     same, for one instance (Mastodon server)
 * clients/<platform>/<instance>                            registered app (registerClient) client# sealed, shared by all workspaces
 * ws/<workspace>/idempotency/<key>                         publish claim + results       TTL (default 24 h)
 * global/idempotency/<key>                                 same, publishes without a workspace
 * ws/<workspace>/resumes/<resumeId>                        outcome of a resumed publish  TTL until the token expires
 * global/resumes/<resumeId>                                same, pass-per-request publishes without a workspace
 * connect-sessions/<sha256(state)>                         pending OAuth session         codeVerifier#, client#, params# sealed, TTL 10 min
 * connect-selections/<sha256(selectionId)>                 accounts awaiting the user's choice  grant# sealed, TTL 15 min
 * counters/launch/<platform>/<accountId>                   rolling launch-cap counter    (increment)
 * counters/launch/<platform>/cred-<sha256(credentials)>    same, pass-per-request credentials
 * lock/refresh/grant/<grantId>                             lease serialising refresh and every grant write
 * lock/migrate/<workspace>                                 lease while v1 account records become grants
 * lock/resume/<resumeId>                                   lease: one resume of a token at a time
 * lock/app-credentials/<workspace>                         lease serialising the plan-slot check and the app-credentials write
 * lock/clients/<platform>/<instance>                       lease serialising one client registration
 * ```
 *
 * Sealed fields of grants, accounts, workspace apps and registered clients are bound to the store
 * version of their record (`lmp2.` envelopes): a replayed older copy of a record fails with
 * `decryption_failed`. Single-use records (connect sessions, selections) are deleted when used and
 * a re-created key starts again at version 1, so they stay `lmp1.`. Account records
 * of the previous release (`v: 1`, tokens inline, one copy per account) are turned into grants
 * the first time core reads their workspace (see `legacy-accounts.ts`).
 *
 * `<instance>` is `~` for a platform-wide registration (a provider without `connectInstance`); `~`
 * cannot occur in a host name. Caller-chosen segments (workspace ids, platform account ids,
 * idempotency keys, instances) are percent-encoded, so a `/` inside one can never reach into a
 * neighbour's prefix. Connect
 * sessions are keyed by a hash of the state, so the raw state (the bearer that authenticates the
 * OAuth callback) never sits in the store.
 */
export const storeKeys = {
  accountIndex: ({ accountId }: { accountId: string }) => `accounts/${segment(accountId)}`,
  accountIndexPrefix: () => 'accounts/',
  accountsPrefix: ({ workspaceId }: { workspaceId: string }) => `ws/${segment(workspaceId)}/accounts/`,
  account: ({ workspaceId, accountId }: { workspaceId: string; accountId: string }) =>
    `ws/${segment(workspaceId)}/accounts/${segment(accountId)}`,
  accountByPlatformId: ({
    workspaceId,
    platform,
    platformAccountId,
  }: {
    workspaceId: string;
    platform: PlatformId;
    platformAccountId: string;
  }) => `ws/${segment(workspaceId)}/account-ids/${platform}/${segment(platformAccountId)}`,
  appCredentialsPrefix: ({ workspaceId }: { workspaceId: string }) => `ws/${segment(workspaceId)}/app-credentials/`,
  appCredentials: ({ workspaceId, platform, instance }: { workspaceId: string; platform: PlatformId; instance?: string | undefined }) =>
    `ws/${segment(workspaceId)}/app-credentials/${platform}${instance === undefined ? '' : `/${segment(instance)}`}`,
  appCredentialsLock: ({ workspaceId }: { workspaceId: string }) => `lock/app-credentials/${segment(workspaceId)}`,
  registeredClient: ({ platform, instance }: { platform: PlatformId; instance: string | undefined }) =>
    `clients/${platform}/${instance === undefined ? '~' : segment(instance)}`,
  registeredClientLock: ({ platform, instance }: { platform: PlatformId; instance: string | undefined }) =>
    `lock/clients/${platform}/${instance === undefined ? '~' : segment(instance)}`,
  connectSelection: ({ selectionHash }: { selectionHash: string }) => `connect-selections/${selectionHash}`,
  idempotency: ({ workspaceId, idempotencyKey }: { workspaceId: string | undefined; idempotencyKey: string }) =>
    workspaceId === undefined
      ? `global/idempotency/${segment(idempotencyKey)}`
      : `ws/${segment(workspaceId)}/idempotency/${segment(idempotencyKey)}`,
  resumeOutcome: ({ workspaceId, resumeId }: { workspaceId: string | undefined; resumeId: string }) =>
    workspaceId === undefined ? `global/resumes/${segment(resumeId)}` : `ws/${segment(workspaceId)}/resumes/${segment(resumeId)}`,
  resumeLock: ({ resumeId }: { resumeId: string }) => `lock/resume/${segment(resumeId)}`,
  connectSession: ({ stateHash }: { stateHash: string }) => `connect-sessions/${stateHash}`,
  launchCounter: ({ platform, subject }: { platform: PlatformId; subject: string }) =>
    `counters/launch/${platform}/${segment(subject)}`,
  grantsPrefix: ({ workspaceId }: { workspaceId: string }) => `ws/${segment(workspaceId)}/grants/`,
  grant: ({ workspaceId, grantId }: { workspaceId: string; grantId: string }) =>
    `ws/${segment(workspaceId)}/grants/${segment(grantId)}`,
  grantMembersPrefix: ({ workspaceId, grantId }: { workspaceId: string; grantId: string }) =>
    `ws/${segment(workspaceId)}/grant-accounts/${segment(grantId)}/`,
  grantMember: ({ workspaceId, grantId, accountId }: { workspaceId: string; grantId: string; accountId: string }) =>
    `ws/${segment(workspaceId)}/grant-accounts/${segment(grantId)}/${segment(accountId)}`,
  grantLock: ({ grantId }: { grantId: string }) => `lock/refresh/grant/${segment(grantId)}`,
  migrationLock: ({ workspaceId }: { workspaceId: string }) => `lock/migrate/${segment(workspaceId)}`,
} as const;

const UNRESERVED_ONLY = /^[A-Za-z0-9_.~-]*$/;

/**
 * A caller-chosen id that becomes a store key segment (workspace, account, idempotency key):
 * non-empty, at most `maxLength` characters, and well-formed text. Checked at every boundary,
 * so a bad id is `validation_failed` naming its field.
 */
export function storeIdSchema({ maxLength }: { maxLength: number }) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(maxLength)
    .refine(isWellFormedText, 'must be well-formed text (it contains an unpaired UTF-16 surrogate)');
}

/**
 * Percent-encodes one segment. Ids from outside pass `storeIdSchema` first; this guard is for
 * values from elsewhere (a platform's account id), so a bad one is a typed error, never a URIError.
 */
function segment(value: string): string {
  // Ids letmepost makes (and most hosts') are unreserved characters only: nothing to encode.
  if (UNRESERVED_ONLY.test(value)) return value;
  if (!isWellFormedText(value)) {
    throw new LetmepostError({
      code: 'validation_failed',
      rule: 'store.key_malformed',
      message: 'An id used in a store key contains an unpaired UTF-16 surrogate, which has no UTF-8 form.',
    });
  }
  return encodeURIComponent(value);
}

/** The associated data binding a sealed field to its record and field name. */
export function fieldAssociatedData({ key, field }: { key: string; field: string }): string {
  return `${key}#${field}`;
}

/** What core needs from the envelope cipher; `createEnvelopeCipher()` satisfies it. */
export interface FieldCipher {
  encrypt(options: { plaintext: string; associatedData: string; recordVersion?: number }): string;
  decrypt(options: { ciphertext: string; associatedData: string; recordVersion?: number }): string;
}

/**
 * Seals one field of a record. `recordVersion` is the store version the record will have once
 * written (1 for a create, n + 1 for a compare-and-set at n): the seal then opens only at that
 * version, so an older copy of the record put back over a newer one is refused.
 */
export function sealField({
  cipher,
  key,
  field,
  value,
  recordVersion,
}: {
  cipher: FieldCipher;
  key: string;
  field: string;
  value: unknown;
  recordVersion?: number;
}): string {
  return cipher.encrypt({
    plaintext: JSON.stringify(value),
    associatedData: fieldAssociatedData({ key, field }),
    ...(recordVersion !== undefined && { recordVersion }),
  });
}

/** The version a write will give a record: created at 1, or one past the version it replaces. */
export function nextVersion({ expectedVersion }: { expectedVersion: number | null }): number {
  return expectedVersion === null ? 1 : expectedVersion + 1;
}

/**
 * Fields opened and parsed, per cipher, by envelope: every publish to an account opens the same
 * sealed tokens until they change (a new envelope). Per cipher, so the values go with the
 * letmepost instance that opened them; frozen, since every reader shares them.
 */
const openedFields = new WeakMap<
  FieldCipher,
  BoundedCache<string, { key: string; field: string; recordVersion: number | undefined; schema: z.ZodType<unknown>; value: unknown }>
>();
const OPENED_FIELDS_MAX = 1024;

interface OpenFieldOptions<T> {
  cipher: FieldCipher;
  key: string;
  field: string;
  ciphertext: string;
  schema: z.ZodType<T>;
  /** The store version the record was read at (version-bound seals need it). */
  recordVersion?: number | undefined;
}

/**
 * Schemas of sealed fields that hold a bare string or any JSON. One instance each: `openField`
 * remembers what it opened per schema, so a schema made per call would never be found again.
 */
export const sealedStringSchema = lazySchema(() => z.string());
export const sealedJsonSchema = lazySchema(() => z.unknown());

export function openField<T>(options: OpenFieldOptions<T>): T {
  const { cipher, key, field, ciphertext, schema, recordVersion } = options;
  let opened = openedFields.get(cipher);
  if (opened === undefined) {
    opened = createBoundedCache({ max: OPENED_FIELDS_MAX });
    openedFields.set(cipher, opened);
  }
  // The associated data is a function of the key and the field: comparing them is comparing it,
  // without building its string on every read.
  const known = opened.get(ciphertext);
  if (known !== undefined && known.key === key && known.field === field && known.recordVersion === recordVersion && known.schema === schema) {
    return known.value as T;
  }
  const value = deepFreeze(openAndParse({ ...options, associatedData: fieldAssociatedData({ key, field }) }));
  opened.set(ciphertext, { key, field, recordVersion, schema, value });
  return value;
}

function openAndParse<T>({ cipher, key, field, ciphertext, schema, recordVersion, associatedData }: OpenFieldOptions<T> & { associatedData: string }): T {
  const plaintext = cipher.decrypt({
    ciphertext,
    associatedData,
    ...(recordVersion !== undefined && { recordVersion }),
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    throw corruptRecord({ key, detail: `sealed field "${field}" is not JSON` });
  }
  const result = schema.safeParse(parsed);
  // The zod issue messages describe shapes only, but the input is a secret: never include it.
  if (!result.success) throw corruptRecord({ key, detail: `sealed field "${field}" has an unexpected shape` });
  return result.data;
}

export function encodeRecord(value: unknown): string {
  return JSON.stringify(value);
}

/** Parses a record read from the store; a record core cannot read is a store problem, not input. */
/**
 * Record values decoded, by the stored text: a publish reads the same account, index and grant
 * records every time until one is written again (new text). Frozen, since every reader shares
 * them; a change is made by writing a new record.
 */
const decodedRecords = createBoundedCache<string, Array<{ schema: z.ZodType<unknown>; result: DecodedValue<unknown> }>>({ max: 1024 });

type DecodedValue<T> = { success: true; data: T } | { success: false };

/** A stored record's text parsed as JSON and checked with `schema`, or `success: false`. Never throws. */
export function decodeRecordValue<T>({ value, schema }: { value: string; schema: z.ZodType<T> }): DecodedValue<T> {
  const known = decodedRecords.get(value);
  if (known !== undefined) {
    for (let index = 0; index < known.length; index += 1) {
      const decoded = known[index]!;
      if (decoded.schema === schema) return decoded.result as DecodedValue<T>;
    }
  }
  let result: DecodedValue<T>;
  try {
    const parsed = schema.safeParse(JSON.parse(value));
    result = parsed.success ? { success: true, data: deepFreeze(parsed.data) } : { success: false };
  } catch {
    result = { success: false };
  }
  if (known === undefined) decodedRecords.set(value, [{ schema, result }]);
  else known.push({ schema, result });
  return result;
}

export function decodeRecord<T>({ entry, schema }: { entry: StoreEntry; schema: z.ZodType<T> }): T {
  const decoded = decodeRecordValue({ value: entry.value, schema });
  if (decoded.success) return decoded.data;
  // Not decodable: worked out again, for the message.
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.value);
  } catch {
    throw corruptRecord({ key: entry.key, detail: 'value is not JSON' });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const first = result.error.issues[0];
    throw corruptRecord({
      key: entry.key,
      detail: `unexpected shape${first ? ` at ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`,
    });
  }
  return result.data;
}

function corruptRecord({ key, detail }: { key: string; detail: string }): LetmepostError {
  return new LetmepostError({
    code: 'store_unavailable',
    message: `The stored record "${key}" cannot be read (${detail}).`,
    remediation: 'The record was written by an incompatible version or modified outside letmepost; remove or restore it.',
  });
}

export function isStoreConflict(error: unknown): boolean {
  return LetmepostError.isInstance(error) && error.code === 'store_conflict';
}

/** Visits every entry under `prefix` page by page, so memory stays bounded by the page size. */
export async function forEachEntry({
  store,
  prefix,
  visit,
}: {
  store: TokenStore;
  prefix: string;
  visit: (entry: StoreEntry) => void;
}): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { limit: 200, ...(after !== undefined && { after }) });
    for (const entry of page) visit(entry);
    if (page.length < 200) return;
    after = page[page.length - 1]?.key;
  }
}

/** Every entry under `prefix`, read page by page so no single `list` call is unbounded. */
export async function listAllEntries({ store, prefix }: { store: TokenStore; prefix: string }): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = [];
  await forEachEntry({ store, prefix, visit: (entry) => entries.push(entry) });
  return entries;
}

/**
 * `store.get(key)`, always as a promise: a host's store that throws instead of rejecting still
 * rejects here, for the callers that chain on it rather than await it.
 */
export function readStoreEntry({ context, key }: { context: { store: TokenStore }; key: string }): Promise<StoreEntry | null> {
  try {
    return context.store.get(key);
  } catch (error) {
    return Promise.reject(error);
  }
}
