import { z } from 'zod';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { StoreEntry } from './token-store.js';

/**
 * How core lays its state out on a `TokenStore`. Every value is a JSON document with a `v`
 * (schema version) field; every secret inside one is an envelope ciphertext string (`lmp1.…`)
 * whose associated data is `<store key>#<field name>`, so a ciphertext copied into another record
 * or another field of the same record fails to decrypt instead of leaking into the wrong context.
 *
 * ```
 * accounts/<accountId>                                     { workspaceId }               who owns an account id
 * ws/<workspace>/accounts/<accountId>                      account record                tokens#, client# sealed
 * ws/<workspace>/account-ids/<platform>/<platformAccount>  { accountId }                 reconnects reuse the id
 * ws/<workspace>/app-credentials/<platform>                white-label OAuth app         clientSecret# sealed
 * ws/<workspace>/app-credentials/<platform>/<instance>     same, for one instance (Mastodon server)
 * clients/<platform>/<instance>                            registered app (registerClient) client# sealed, shared by all workspaces
 * ws/<workspace>/idempotency/<key>                         publish claim + results       TTL (default 24 h)
 * global/idempotency/<key>                                 same, publishes without a workspace
 * connect-sessions/<sha256(state)>                         pending OAuth session         codeVerifier#, client#, params# sealed, TTL 10 min
 * connect-selections/<sha256(selectionId)>                 accounts awaiting the user's choice  grant# sealed, TTL 15 min
 * counters/launch/<platform>/<accountId>                   rolling launch-cap counter    (increment)
 * counters/launch/<platform>/cred-<sha256(credentials)>    same, pass-per-request credentials
 * lock/refresh/<accountId>                                 lease serialising refresh and every other account write
 * lock/app-credentials/<workspace>                         lease serialising the plan-slot check and the app-credentials write
 * lock/clients/<platform>/<instance>                       lease serialising one client registration
 * ```
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
  connectSession: ({ stateHash }: { stateHash: string }) => `connect-sessions/${stateHash}`,
  launchCounter: ({ platform, subject }: { platform: PlatformId; subject: string }) =>
    `counters/launch/${platform}/${segment(subject)}`,
  accountLock: ({ accountId }: { accountId: string }) => `lock/refresh/${segment(accountId)}`,
} as const;

/**
 * A lone (unpaired) UTF-16 surrogate has no UTF-8 form: `encodeURIComponent` throws a raw
 * `URIError` on it, and stores would write it differently. In a `u` regex a paired surrogate is
 * one code point, so `\p{Surrogate}` matches only a lone one.
 */
const LONE_SURROGATE = /\p{Surrogate}/u;

export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

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
  encrypt(options: { plaintext: string; associatedData: string }): string;
  decrypt(options: { ciphertext: string; associatedData: string }): string;
}

export function sealField({
  cipher,
  key,
  field,
  value,
}: {
  cipher: FieldCipher;
  key: string;
  field: string;
  value: unknown;
}): string {
  return cipher.encrypt({ plaintext: JSON.stringify(value), associatedData: fieldAssociatedData({ key, field }) });
}

export function openField<T>({
  cipher,
  key,
  field,
  ciphertext,
  schema,
}: {
  cipher: FieldCipher;
  key: string;
  field: string;
  ciphertext: string;
  schema: z.ZodType<T>;
}): T {
  const plaintext = cipher.decrypt({ ciphertext, associatedData: fieldAssociatedData({ key, field }) });
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
export function decodeRecord<T>({ entry, schema }: { entry: StoreEntry; schema: z.ZodType<T> }): T {
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
