import type { ClientCredentials, TokenSet } from './account.js';
import {
  accountNotFound,
  findAccount,
  openClient,
  openTokens,
  sealTokens,
  stripUndefined,
  tokenFacts,
  toProviderAccount,
  withAccountLock,
  writeAccountRecord,
  type AccountRecord,
  type LoadedAccount,
} from './accounts.js';
import { toLetmepostError, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import { encodeRecord, isStoreConflict } from './store-layout.js';
import type { LockLease } from './token-store.js';

/** Tokens this close to expiry are refreshed before use, so they cannot die mid-request. */
export const REFRESH_SKEW_MS = 60_000;
/** Kept well under the account lease, so a refresh cannot outlive the lock that serialises it. */
const REFRESH_TIMEOUT_MS = 20_000;

/** An account with its tokens opened, ready to authorise a publish. */
export interface ActiveAccount {
  loaded: LoadedAccount;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
}

export interface Refresher {
  /** The account's tokens, refreshed first when they are expired or about to be. */
  ensureFresh(options: { loaded: LoadedAccount }): Promise<ActiveAccount>;
  /**
   * After the platform refused `rejectedAccessToken`: refresh, unless another caller (in this
   * process or another) already replaced that token, in which case the replacement is returned.
   */
  refreshAfterRejection(options: { accountId: string; rejectedAccessToken: string }): Promise<ActiveAccount>;
}

/**
 * Token refresh, built so that tokens survive months of unattended use:
 *
 * - single flight in this process: concurrent callers for one account share one refresh;
 * - a store lease across processes, and a re-read once it is held: whoever waited finds the
 *   tokens the holder just wrote and uses them instead of refreshing again, which with rotating
 *   refresh tokens would burn the new token and lock the account out;
 * - the new tokens are written (CAS at the version read, fenced by the lease) before anyone
 *   gets to use them, so a crash can never lose a rotated refresh token that was already used;
 * - a response without a refresh token keeps the old one;
 * - only `reauth_required` (the `invalid_grant` class) marks the account for reconnection;
 *   outages and rate limits leave it active for the next attempt.
 */
export function createRefresher({ context }: { context: LetmepostContext }): Refresher {
  const inflight = new Map<string, Promise<ActiveAccount>>();

  const singleFlight = async ({
    accountId,
    rejectedAccessToken,
  }: {
    accountId: string;
    rejectedAccessToken?: string;
  }): Promise<ActiveAccount> => {
    // A caller that needs a forced refresh may find a flight that decided no refresh was due;
    // it then starts its own. Two rounds suffice: the second flight is one this caller owns or
    // one started after its rejection.
    for (let round = 0; round < 2; round++) {
      const running = inflight.get(accountId);
      if (running === undefined) break;
      const shared = await running;
      if (rejectedAccessToken === undefined || shared.tokens.accessToken !== rejectedAccessToken) return shared;
      if (inflight.get(accountId) === running) break;
    }
    const flight = refreshUnderLease({ context, accountId, rejectedAccessToken }).finally(() => {
      if (inflight.get(accountId) === flight) inflight.delete(accountId);
    });
    inflight.set(accountId, flight);
    return flight;
  };

  return {
    async ensureFresh({ loaded }) {
      if (loaded.record.status === 'reauth_required') throw reauthRequired({ record: loaded.record });
      const tokens = openTokens({ context, loaded });
      const client = openClient({ context, loaded });
      const now = context.clock.now();
      if (!isDue({ tokens, now })) return { loaded, tokens, client };
      try {
        return await singleFlight({ accountId: loaded.record.id });
      } catch (error) {
        // Refreshing early is a courtesy; if the platform is briefly unavailable, a token that
        // has not actually expired is still good for this request.
        if (
          LetmepostError.isInstance(error) &&
          error.code !== 'reauth_required' &&
          error.code !== 'not_found' &&
          tokens.expiresAt !== undefined &&
          tokens.expiresAt > context.clock.now()
        ) {
          return { loaded, tokens, client };
        }
        throw error;
      }
    },

    refreshAfterRejection({ accountId, rejectedAccessToken }) {
      return singleFlight({ accountId, rejectedAccessToken });
    },
  };
}

function isDue({ tokens, now }: { tokens: TokenSet; now: number }): boolean {
  return tokens.expiresAt !== undefined && tokens.expiresAt - REFRESH_SKEW_MS <= now;
}

async function refreshUnderLease({
  context,
  accountId,
  rejectedAccessToken,
}: {
  context: LetmepostContext;
  accountId: string;
  rejectedAccessToken: string | undefined;
}): Promise<ActiveAccount> {
  return withAccountLock({
    context,
    accountId,
    fn: async (lease) => {
      // Re-read under the lease: another process may have refreshed while we waited for it.
      const loaded = await findAccount({ context, accountId });
      if (loaded === null) throw accountNotFound({ accountId });
      const { record } = loaded;
      if (record.status === 'reauth_required') throw reauthRequired({ record });
      const tokens = openTokens({ context, loaded });
      const client = openClient({ context, loaded });

      const stale =
        rejectedAccessToken !== undefined
          ? tokens.accessToken === rejectedAccessToken
          : isDue({ tokens, now: context.clock.now() });
      if (!stale) return { loaded, tokens, client };

      const provider = context.providers.get(record.platform);
      if (provider?.refresh === undefined) {
        if (rejectedAccessToken === undefined) {
          // Expired by our clock but not refreshable: let the platform have the final word.
          return { loaded, tokens, client };
        }
        const failure = new LetmepostError({
          code: 'reauth_required',
          platform: record.platform,
          message: `The ${record.platform} token of account "${accountId}" was rejected and cannot be refreshed.`,
          remediation: 'Send the user through connect.start() again to reconnect the account.',
        });
        await markReauthRequired({ context, loaded, lease, reason: failure.code });
        throw failure;
      }

      let refreshed: TokenSet;
      try {
        refreshed = await provider.refresh({
          tokens,
          account: toProviderAccount(record),
          client,
          signal: AbortSignal.timeout(REFRESH_TIMEOUT_MS),
        });
      } catch (error) {
        const failure = toLetmepostError({
          error,
          platform: record.platform,
          fallbackCode: 'platform_unavailable',
          knownSecrets: secretsOf({ tokens, client }),
        });
        if (failure.code === 'reauth_required') {
          await markReauthRequired({ context, loaded, lease, reason: failure.code });
        }
        context.log('warn', 'letmepost.account.refresh_failed', {
          workspaceId: record.workspaceId,
          platform: record.platform,
          accountId,
          errorCode: failure.code,
          markedReauthRequired: failure.code === 'reauth_required',
        });
        throw failure;
      }

      const merged = mergeTokens({ previous: tokens, refreshed });
      const now = context.clock.now();
      const next: AccountRecord = stripUndefined({
        ...record,
        ...tokenFacts(merged),
        tokens: sealTokens({ context, key: loaded.key, tokens: merged }),
        status: 'active',
        statusReason: undefined,
        updatedAt: now,
        refreshedAt: now,
      });
      const written = await persistRefreshed({ context, loaded, next, lease, previous: tokens });
      context.log('info', 'letmepost.account.refreshed', {
        workspaceId: record.workspaceId,
        platform: record.platform,
        accountId,
        expiresAt: merged.expiresAt,
        rotated: refreshed.refreshToken !== undefined && refreshed.refreshToken !== tokens.refreshToken,
        forced: rejectedAccessToken !== undefined,
      });
      return { loaded: written, tokens: merged, client };
    },
  });
}

/**
 * Writes refreshed tokens. The fenced CAS write only fails when the lease ran out (the refresh
 * took longer than the lease) and someone else wrote. If what is stored is still the grant we
 * refreshed from, nobody else used it, so ours is written anyway: losing a rotated refresh token
 * would lock the account out for good.
 */
async function persistRefreshed({
  context,
  loaded,
  next,
  lease,
  previous,
}: {
  context: LetmepostContext;
  loaded: LoadedAccount;
  next: AccountRecord;
  lease: LockLease;
  previous: TokenSet;
}): Promise<LoadedAccount> {
  try {
    return await writeAccountRecord({ context, loaded, record: next, lease });
  } catch (error) {
    if (!isStoreConflict(error)) throw error;
    const current = await findAccount({ context, accountId: loaded.record.id });
    if (current === null) throw error;
    const stored = openTokens({ context, loaded: current });
    if (stored.accessToken !== previous.accessToken || stored.refreshToken !== previous.refreshToken) throw error;
    const entry = await context.store.set(current.key, encodeRecord(next), { expectedVersion: current.version });
    return { key: current.key, version: entry.version, record: next };
  }
}

export function mergeTokens({ previous, refreshed }: { previous: TokenSet; refreshed: TokenSet }): TokenSet {
  const rotated = refreshed.refreshToken !== undefined && refreshed.refreshToken !== '';
  return stripUndefined({
    ...refreshed,
    // Many platforms (Google, Meta, LinkedIn) answer a refresh without a new refresh token; the
    // old one stays valid and must be kept.
    refreshToken: rotated ? refreshed.refreshToken : previous.refreshToken,
    refreshTokenExpiresAt: rotated
      ? refreshed.refreshTokenExpiresAt
      : (refreshed.refreshTokenExpiresAt ?? previous.refreshTokenExpiresAt),
    tokenType: refreshed.tokenType ?? previous.tokenType,
    scopes: refreshed.scopes ?? previous.scopes,
    secrets:
      refreshed.secrets === undefined ? previous.secrets : { ...(previous.secrets ?? {}), ...refreshed.secrets },
  });
}

async function markReauthRequired({
  context,
  loaded,
  lease,
  reason,
}: {
  context: LetmepostContext;
  loaded: LoadedAccount;
  lease: LockLease;
  reason: string;
}): Promise<void> {
  const now = context.clock.now();
  try {
    await writeAccountRecord({
      context,
      loaded,
      record: { ...loaded.record, status: 'reauth_required', statusReason: reason, updatedAt: now },
      lease,
    });
    context.log('warn', 'letmepost.account.reauth_required', {
      workspaceId: loaded.record.workspaceId,
      platform: loaded.record.platform,
      accountId: loaded.record.id,
      reason,
    });
  } catch (error) {
    // The caller still learns the account needs reconnecting; the next refresh will try again.
    context.log('error', 'letmepost.account.status_write_failed', {
      accountId: loaded.record.id,
      errorCode: LetmepostError.isInstance(error) ? error.code : undefined,
    });
  }
}

export function reauthRequired({ record }: { record: AccountRecord }): LetmepostError {
  return new LetmepostError({
    code: 'reauth_required',
    platform: record.platform,
    message: `Account "${record.id}" (${record.platform}) must be reconnected before it can publish.`,
    remediation: 'Send the user through connect.start() again; reconnecting keeps the same account id.',
  });
}

export function secretsOf({ tokens, client }: { tokens: TokenSet; client?: ClientCredentials | undefined }): string[] {
  return [
    tokens.accessToken,
    tokens.refreshToken,
    client?.clientSecret,
    ...Object.values(tokens.secrets ?? {}),
  ].filter((value): value is string => typeof value === 'string' && value.length >= 4);
}
