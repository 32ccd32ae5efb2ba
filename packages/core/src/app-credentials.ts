import { z } from 'zod';
import type { ClientCredentials } from './account.js';
import { platformSchema, stripUndefined, workspaceIdSchema } from './accounts.js';
import { lazySchema } from './lazy-schema.js';
import { parseInput, requireProvider, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { decodeRecord, encodeRecord, nextVersion, openField, sealField, sealedStringSchema, storeKeys } from './store-layout.js';

/** Lease around the plan-slot check and the write it allows; the host's hook runs inside it. */
const APP_CREDENTIALS_LOCK_TTL_MS = 15_000;
const APP_CREDENTIALS_LOCK_WAIT_MS = 20_000;

/** A workspace's own OAuth app as listed: the secret is write-only. */
export interface AppCredentialsSummary {
  platform: PlatformId;
  /** The server the app belongs to, for platforms where each server is its own OAuth provider. */
  instance?: string;
  clientId: string;
  createdAt: number;
}

export interface AppCredentialsApi {
  /**
   * Stores (or replaces) the workspace's OAuth app for a platform, or for one instance of it
   * (`instance`, e.g. `mastodon.social`, for providers with `connectInstance`); the secret is
   * sealed. The host's `policy.canStoreAppCredentials` is asked first, under a per-workspace
   * lease, so two uploads at once cannot both take the last plan slot.
   */
  put(options: {
    workspaceId: string;
    platform: PlatformId;
    instance?: string;
    clientId: string;
    clientSecret: string;
  }): Promise<AppCredentialsSummary>;
  list(options: { workspaceId: string }): Promise<AppCredentialsSummary[]>;
  /**
   * Forgets the pair; removing an absent pair is not an error. Only future connect sessions are
   * affected: connected accounts keep their own sealed copy of the app that issued their grant.
   */
  remove(options: { workspaceId: string; platform: PlatformId; instance?: string }): Promise<void>;
}

/**
 * An instance as core keys it: a lowercase host name with an optional port. Providers'
 * `connectInstance` must produce the same form, so a pair stored for `Mastodon.Social` is found by
 * a connect to `https://mastodon.social/`.
 */
export const instanceSchema = lazySchema(() =>
  z
    .string()
    .trim()
    .toLowerCase()
    .min(1, 'must not be empty')
    .max(261)
    .regex(/^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/, {
      message: 'must be a host name with an optional port, like mastodon.social or localhost:3000',
    }),
);

const appCredentialsRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    platform: platformSchema(),
    instance: z.string().optional(),
    clientId: z.string(),
    /** Sealed string. */
    clientSecret: z.string(),
    createdAt: z.number(),
  }),
);

const putSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema(),
    platform: platformSchema(),
    instance: instanceSchema().optional(),
    clientId: z.string().trim().min(1, 'must not be empty').max(512),
    clientSecret: z.string().min(1, 'must not be empty').max(4096),
  }),
);

const listSchema = lazySchema(() => z.object({ workspaceId: workspaceIdSchema() }));
const removeSchema = lazySchema(() =>
  z.object({ workspaceId: workspaceIdSchema(), platform: platformSchema(), instance: instanceSchema().optional() }),
);

/**
 * A per-instance provider's apps live per instance, every other provider's per platform; a pair
 * stored under the wrong shape would never be found by a connect, so it is refused.
 */
function checkInstanceShape({ provider, instance }: { provider: AnyProvider; instance: string | undefined }): void {
  const perInstance = provider.connectInstance !== undefined;
  if (perInstance && instance === undefined) {
    throw new LetmepostError({
      code: 'validation_failed',
      platform: provider.id,
      field: 'instance',
      message: `${provider.displayName} apps belong to one server: give the instance (e.g. its host name).`,
    });
  }
  if (!perInstance && instance !== undefined) {
    throw new LetmepostError({
      code: 'validation_failed',
      platform: provider.id,
      field: 'instance',
      message: `${provider.displayName} apps are not per instance; leave instance out.`,
    });
  }
}

export function createAppCredentialsApi({ context }: { context: LetmepostContext }): AppCredentialsApi {
  const listSummaries = async ({ workspaceId }: { workspaceId: string }): Promise<AppCredentialsSummary[]> => {
    const entries = await context.store.list(storeKeys.appCredentialsPrefix({ workspaceId }));
    return entries.map((entry) => {
      const record = decodeRecord({ entry, schema: appCredentialsRecordSchema() });
      return stripUndefined({ platform: record.platform, instance: record.instance, clientId: record.clientId, createdAt: record.createdAt });
    });
  };

  return {
    async put(options) {
      const { workspaceId, platform, instance, clientId, clientSecret } = parseInput({ schema: putSchema(), input: options });
      const provider = requireProvider({ context, platform });
      if (provider.auth.kind !== 'oauth2') {
        throw new LetmepostError({
          code: 'not_supported',
          platform,
          field: 'platform',
          message: `${provider.displayName} accounts are not connected through an OAuth app, so there is nothing to store.`,
        });
      }
      checkInstanceShape({ provider, instance });
      const key = storeKeys.appCredentials({ workspaceId, platform, instance });

      // The check and the write it allows happen under one lease: otherwise two uploads for two
      // new platforms could both see one free slot and both be stored.
      return context.store.withLock(
        storeKeys.appCredentialsLock({ workspaceId }),
        async (lease) => {
          const existing = await listSummaries({ workspaceId });
          const current = await context.store.get(key);
          const replacement = current !== null;
          const existingPlatforms = [...new Set(existing.map((item) => item.platform))].sort();
          const allowed =
            (await context.policy.canStoreAppCredentials?.({
              workspaceId,
              platform,
              ...(instance !== undefined && { instance }),
              existingPlatforms,
              replacement,
            })) ?? true;
          if (!allowed) {
            throw new LetmepostError({
              code: 'plan_feature_not_available',
              platform,
              message: `This workspace may not store its own ${provider.displayName} app.`,
              remediation: 'Upgrade the plan, or connect with the instance-wide app.',
            });
          }
          const record = stripUndefined({
            v: 1 as const,
            platform,
            instance,
            clientId,
            clientSecret: sealField({
              cipher: context.cipher,
              key,
              field: 'clientSecret',
              value: clientSecret,
              recordVersion: nextVersion({ expectedVersion: current?.version ?? null }),
            }),
            createdAt: context.clock.now(),
          });
          // Fenced: a hook slower than the lease must not let a write land after another holder's.
          await context.store.set(key, encodeRecord(record), { expectedVersion: current?.version ?? null, fence: lease });
          context.log('info', 'letmepost.app_credentials.stored', { workspaceId, platform, instance, clientId, replacement });
          return stripUndefined({ platform, instance, clientId, createdAt: record.createdAt });
        },
        { ttlMs: APP_CREDENTIALS_LOCK_TTL_MS, waitMs: APP_CREDENTIALS_LOCK_WAIT_MS },
      );
    },

    async list(options) {
      const { workspaceId } = parseInput({ schema: listSchema(), input: options });
      return listSummaries({ workspaceId });
    },

    async remove(options) {
      const { workspaceId, platform, instance } = parseInput({ schema: removeSchema(), input: options });
      // Under the same lease as put, so a slot check never counts a pair that is being removed
      // as free, nor the other way round.
      await context.store.withLock(
        storeKeys.appCredentialsLock({ workspaceId }),
        async () => {
          const removed = await context.store.delete(storeKeys.appCredentials({ workspaceId, platform, instance }));
          if (removed) context.log('info', 'letmepost.app_credentials.removed', { workspaceId, platform, instance });
        },
        { ttlMs: APP_CREDENTIALS_LOCK_TTL_MS, waitMs: APP_CREDENTIALS_LOCK_WAIT_MS },
      );
    },
  };
}

/** The workspace's own app for a platform (or one instance of it), with its secret opened, or undefined. */
export async function readWorkspaceClient({
  context,
  workspaceId,
  platform,
  instance,
}: {
  context: LetmepostContext;
  workspaceId: string;
  platform: PlatformId;
  instance?: string | undefined;
}): Promise<ClientCredentials | undefined> {
  const key = storeKeys.appCredentials({ workspaceId, platform, instance });
  const entry = await context.store.get(key);
  if (entry === null) return undefined;
  const record = decodeRecord({ entry, schema: appCredentialsRecordSchema() });
  const clientSecret = openField({
    cipher: context.cipher,
    key,
    field: 'clientSecret',
    ciphertext: record.clientSecret,
    schema: sealedStringSchema(),
    recordVersion: entry.version,
  });
  return { clientId: record.clientId, clientSecret };
}
