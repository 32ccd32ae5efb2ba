import { z } from 'zod';
import type { ClientCredentials } from './account.js';
import { platformSchema, stripUndefined, workspaceIdSchema } from './accounts.js';
import { parseInput, requireProvider, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import { decodeRecord, encodeRecord, openField, sealField, storeKeys } from './store-layout.js';

/** A workspace's own OAuth app as listed: the secret is write-only. */
export interface AppCredentialsSummary {
  platform: PlatformId;
  clientId: string;
  createdAt: number;
}

export interface AppCredentialsApi {
  /** Stores (or replaces) the workspace's OAuth app for a platform; the secret is sealed. */
  put(options: { workspaceId: string; platform: PlatformId; clientId: string; clientSecret: string }): Promise<AppCredentialsSummary>;
  list(options: { workspaceId: string }): Promise<AppCredentialsSummary[]>;
  /**
   * Forgets the pair; removing an absent pair is not an error. Only future connect sessions are
   * affected: connected accounts keep their own sealed copy of the app that issued their grant.
   */
  remove(options: { workspaceId: string; platform: PlatformId }): Promise<void>;
}

const appCredentialsRecordSchema = z.object({
  v: z.literal(1),
  platform: platformSchema,
  clientId: z.string(),
  /** Sealed string. */
  clientSecret: z.string(),
  createdAt: z.number(),
});

const putSchema = z.object({
  workspaceId: workspaceIdSchema,
  platform: platformSchema,
  clientId: z.string().trim().min(1, 'must not be empty').max(512),
  clientSecret: z.string().min(1, 'must not be empty').max(4096),
});

const listSchema = z.object({ workspaceId: workspaceIdSchema });
const removeSchema = z.object({ workspaceId: workspaceIdSchema, platform: platformSchema });

export function createAppCredentialsApi({ context }: { context: LetmepostContext }): AppCredentialsApi {
  return {
    async put(options) {
      const { workspaceId, platform, clientId, clientSecret } = parseInput({ schema: putSchema, input: options });
      const provider = requireProvider({ context, platform });
      if (provider.auth.kind !== 'oauth2') {
        throw new LetmepostError({
          code: 'not_supported',
          platform,
          field: 'platform',
          message: `${provider.displayName} accounts are not connected through an OAuth app, so there is nothing to store.`,
        });
      }
      const allowed = (await context.policy.canStoreAppCredentials?.({ workspaceId, platform })) ?? true;
      if (!allowed) {
        throw new LetmepostError({
          code: 'plan_feature_not_available',
          platform,
          message: `This workspace may not store its own ${provider.displayName} app.`,
          remediation: 'Upgrade the plan, or connect with the instance-wide app.',
        });
      }
      const key = storeKeys.appCredentials({ workspaceId, platform });
      const record = {
        v: 1 as const,
        platform,
        clientId,
        clientSecret: sealField({ cipher: context.cipher, key, field: 'clientSecret', value: clientSecret }),
        createdAt: context.clock.now(),
      };
      await context.store.set(key, encodeRecord(record));
      context.log('info', 'letmepost.app_credentials.stored', { workspaceId, platform, clientId });
      return { platform, clientId, createdAt: record.createdAt };
    },

    async list(options) {
      const { workspaceId } = parseInput({ schema: listSchema, input: options });
      const entries = await context.store.list(storeKeys.appCredentialsPrefix({ workspaceId }));
      return entries.map((entry) => {
        const record = decodeRecord({ entry, schema: appCredentialsRecordSchema });
        return stripUndefined({ platform: record.platform, clientId: record.clientId, createdAt: record.createdAt });
      });
    },

    async remove(options) {
      const { workspaceId, platform } = parseInput({ schema: removeSchema, input: options });
      const removed = await context.store.delete(storeKeys.appCredentials({ workspaceId, platform }));
      if (removed) context.log('info', 'letmepost.app_credentials.removed', { workspaceId, platform });
    },
  };
}

/** The workspace's own app for a platform, with its secret opened, or undefined. */
export async function readWorkspaceClient({
  context,
  workspaceId,
  platform,
}: {
  context: LetmepostContext;
  workspaceId: string;
  platform: PlatformId;
}): Promise<ClientCredentials | undefined> {
  const key = storeKeys.appCredentials({ workspaceId, platform });
  const entry = await context.store.get(key);
  if (entry === null) return undefined;
  const record = decodeRecord({ entry, schema: appCredentialsRecordSchema });
  const clientSecret = openField({
    cipher: context.cipher,
    key,
    field: 'clientSecret',
    ciphertext: record.clientSecret,
    schema: z.string(),
  });
  return { clientId: record.clientId, clientSecret };
}
