import { z } from 'zod';
import type { ClientCredentials } from './account.js';
import { clientCredentialsSchema, platformSchema, stripUndefined } from './accounts.js';
import { lazySchema } from './lazy-schema.js';
import { issuesFromZod, toLetmepostError, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { decodeRecord, encodeRecord, isStoreConflict, nextVersion, openField, sealField, storeKeys } from './store-layout.js';
import type { StoreEntry } from './token-store.js';

/**
 * The `rule` of the error a provider raises when the platform says it no longer knows the app
 * (OAuth `invalid_client`). For a registered app core then forgets it, so the next session
 * registers anew (Mastodon before 4.3 deletes apps that never got a token).
 */
export const INVALID_CLIENT_RULE = 'oauth.invalid_client';

/** Lease on one (platform, instance) while its app is registered; longer than a registration may take. */
const REGISTRATION_LOCK_TTL_MS = 30_000;
const REGISTRATION_LOCK_WAIT_MS = 35_000;
/** Kept under the lease, so a registration cannot outlive the lock that serialises it. */
const REGISTRATION_TIMEOUT_MS = 20_000;
/** An app this close to its retirement is registered anew rather than handed to a session. */
const EXPIRY_SKEW_MS = 15 * 60 * 1000;

const registeredClientRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    platform: platformSchema(),
    instance: z.string().optional(),
    /** The redirect URI the app was registered with; a different `baseUrl` needs a new app. */
    redirectUri: z.string(),
    /** Sealed `ClientCredentials`. */
    client: z.string(),
    registeredAt: z.number(),
    expiresAt: z.number().optional(),
  }),
);

type RegisteredClientRecord = z.infer<ReturnType<typeof registeredClientRecordSchema>>;

const registeredClientSchema = lazySchema(() =>
  z.object({
    client: z.object({ clientId: z.string().min(1).max(512), clientSecret: z.string().min(1).max(4096).optional() }),
    expiresAt: z.number().optional(),
  }),
);

export interface RegisteredClientResolver {
  /**
   * The app registered for this host at (platform, instance): from the cache when it is still
   * good, registered otherwise. Across processes one caller registers while the others wait on
   * the lease and then read what it wrote, so N sessions starting at once register once.
   */
  resolve(options: {
    provider: AnyProvider;
    instance: string | undefined;
    params: unknown;
    redirectUri: string;
  }): Promise<ClientCredentials>;
  /**
   * Drops the cached app if it is still the one with `clientId` (compare-and-delete, so an app a
   * later session registered meanwhile is kept).
   */
  forget(options: { platform: PlatformId; instance: string | undefined; clientId: string }): Promise<boolean>;
}

export function createRegisteredClientResolver({ context }: { context: LetmepostContext }): RegisteredClientResolver {
  // Single flight in this process, on top of the store lease that covers other processes.
  const inflight = new Map<string, Promise<ClientCredentials>>();

  const usable = ({ entry, redirectUri }: { entry: StoreEntry | null; redirectUri: string }): ClientCredentials | undefined => {
    if (entry === null) return undefined;
    const record = decodeRecord({ entry, schema: registeredClientRecordSchema() });
    if (record.redirectUri !== redirectUri) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt - EXPIRY_SKEW_MS <= context.clock.now()) return undefined;
    return openField({
      cipher: context.cipher,
      key: entry.key,
      field: 'client',
      ciphertext: record.client,
      schema: clientCredentialsSchema(),
      recordVersion: entry.version,
    });
  };

  const register = async ({
    provider,
    instance,
    params,
    redirectUri,
  }: Parameters<RegisteredClientResolver['resolve']>[0]): Promise<ClientCredentials> => {
    const registerClient = provider.registerClient;
    if (registerClient === undefined) {
      throw new LetmepostError({ code: 'not_supported', platform: provider.id, message: `${provider.displayName} does not register clients.` });
    }
    const key = storeKeys.registeredClient({ platform: provider.id, instance });
    return context.store.withLock(
      storeKeys.registeredClientLock({ platform: provider.id, instance }),
      async (lease) => {
        // Re-read under the lease: whoever held it before us may have just registered.
        const current = await context.store.get(key);
        const cached = usable({ entry: current, redirectUri });
        if (cached !== undefined) return cached;

        let registered: z.infer<ReturnType<typeof registeredClientSchema>>;
        try {
          const answer = await registerClient.call(provider, {
            params,
            redirectUri,
            // Not the caller's signal: other sessions share this registration, and one of them
            // giving up must not fail the rest.
            signal: AbortSignal.timeout(REGISTRATION_TIMEOUT_MS),
          });
          const parsed = registeredClientSchema().safeParse(answer);
          if (!parsed.success) {
            throw new LetmepostError({
              code: 'platform_auth_failed',
              platform: provider.id,
              message: `The ${provider.id} provider's registerClient() answered with an unexpected shape.`,
              issues: issuesFromZod({ error: parsed.error, pathPrefix: 'registerClient' }),
            });
          }
          registered = parsed.data;
        } catch (error) {
          const failure = toLetmepostError({ error, platform: provider.id, fallbackCode: 'platform_auth_failed' });
          context.log('warn', 'letmepost.client_registration.failed', { platform: provider.id, instance, errorCode: failure.code });
          throw failure;
        }

        const client = stripUndefined({ ...registered.client });
        const record: RegisteredClientRecord = stripUndefined({
          v: 1 as const,
          platform: provider.id,
          instance,
          redirectUri,
          client: sealField({
            cipher: context.cipher,
            key,
            field: 'client',
            value: client,
            recordVersion: nextVersion({ expectedVersion: current?.version ?? null }),
          }),
          registeredAt: context.clock.now(),
          expiresAt: registered.expiresAt,
        });
        try {
          // CAS at the version read under the lease, fenced by it: a holder whose lease ran out
          // cannot overwrite the app a later holder registered.
          await context.store.set(key, encodeRecord(record), { expectedVersion: current?.version ?? null, fence: lease });
        } catch (error) {
          if (!isStoreConflict(error)) throw error;
          // Someone else wrote meanwhile; the app we registered is valid all the same, so this
          // session uses it and the cache keeps theirs.
          context.log('warn', 'letmepost.client_registration.cache_conflict', { platform: provider.id, instance });
        }
        context.log('info', 'letmepost.client_registration.registered', {
          platform: provider.id,
          instance,
          clientId: client.clientId,
        });
        return client;
      },
      { ttlMs: REGISTRATION_LOCK_TTL_MS, waitMs: REGISTRATION_LOCK_WAIT_MS },
    );
  };

  return {
    async resolve(options) {
      const key = storeKeys.registeredClient({ platform: options.provider.id, instance: options.instance });
      // The common case: a cached app, one read, no lease.
      const cached = usable({ entry: await context.store.get(key), redirectUri: options.redirectUri });
      if (cached !== undefined) return cached;

      const flightKey = `${key}\n${options.redirectUri}`;
      const running = inflight.get(flightKey);
      if (running !== undefined) return running;
      const flight = register(options).finally(() => {
        if (inflight.get(flightKey) === flight) inflight.delete(flightKey);
      });
      inflight.set(flightKey, flight);
      return flight;
    },

    async forget({ platform, instance, clientId }) {
      const key = storeKeys.registeredClient({ platform, instance });
      const entry = await context.store.get(key);
      if (entry === null) return false;
      const record = decodeRecord({ entry, schema: registeredClientRecordSchema() });
      const cached = openField({
        cipher: context.cipher,
        key,
        field: 'client',
        ciphertext: record.client,
        schema: clientCredentialsSchema(),
        recordVersion: entry.version,
      });
      if (cached.clientId !== clientId) return false;
      try {
        const removed = await context.store.delete(key, { expectedVersion: entry.version });
        if (removed) context.log('warn', 'letmepost.client_registration.forgotten', { platform, instance, clientId });
        return removed;
      } catch (error) {
        if (isStoreConflict(error)) return false;
        throw error;
      }
    },
  };
}
