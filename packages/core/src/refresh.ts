import type { ClientCredentials, TokenSet } from './account.js';
import { accountNotFound, findAccount, openAccountTokens, type LoadedAccount } from './accounts.js';
import {
  factsOf,
  openGrantClient,
  openGrantTokens,
  readGrant,
  stripUndefined,
  withGrantLock,
  writeGrant,
  type GrantRecord,
  type LoadedGrant,
} from './grants.js';
import { toLetmepostError, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import { isStoreConflict } from './store-layout.js';
import type { LockLease } from './token-store.js';
import { sleep } from './sleep.js';

/** Tokens this close to expiry are refreshed before use, so they cannot die mid-request. */
export const REFRESH_SKEW_MS = 60_000;
/** Kept well under the grant lease, so a refresh cannot outlive the lock that serialises it. */
const REFRESH_TIMEOUT_MS = 20_000;
/**
 * How long refreshed tokens are retried into an unavailable store before they are held in this
 * process instead. With the refresh itself (at most 20 s) it stays inside the 30 s lease.
 */
const PERSIST_RETRY_BUDGET_MS = 8_000;
const PERSIST_RETRY_FIRST_DELAY_MS = 50;
const PERSIST_RETRY_MAX_DELAY_MS = 2_000;
/**
 * Held tokens are also written in the background, so other processes (which cannot see them)
 * find them in the store as soon as it is back, instead of spending the old refresh token.
 */
const HELD_WRITE_FIRST_DELAY_MS = 1_000;
const HELD_WRITE_MAX_DELAY_MS = 30_000;
const HELD_WRITE_GIVE_UP_MS = 15 * 60_000;

/** An account with the tokens it publishes with opened, ready to authorise a publish. */
export interface ActiveAccount {
  loaded: LoadedAccount;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
}

/** A grant with its tokens opened. */
interface ActiveGrant {
  grant: LoadedGrant;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
}

/**
 * Refreshed tokens the store could not take: kept in this process, keyed by grant, until a
 * write succeeds. `from` is the stored token set they replace, so they are only ever written over
 * that one (never over tokens someone else wrote since).
 */
interface HeldTokens {
  from: { accessToken: string; refreshToken: string | undefined };
  tokens: TokenSet;
  refreshedAt: number;
}

export interface Refresher {
  /**
   * The account's tokens when they need no refresh (what nearly every publish finds), without a
   * promise; `undefined` when `ensureFresh` has work to do. Throws `reauth_required` as it does.
   */
  activeIfFresh(options: { loaded: LoadedAccount }): ActiveAccount | undefined;
  /** The account's tokens, its grant refreshed first when they are expired or about to be. */
  ensureFresh(options: { loaded: LoadedAccount }): Promise<ActiveAccount>;
  /**
   * After the platform refused `rejectedAccessToken`: refresh the account's grant, unless another
   * caller (in this process or another) already replaced that token, in which case the
   * replacement is returned.
   */
  refreshAfterRejection(options: { accountId: string; workspaceId?: string; rejectedAccessToken: string }): Promise<ActiveAccount>;
  /**
   * Refreshes a grant whose access token expires before `dueBefore` (a scheduled keep-alive),
   * through the same single flight, lease and re-read as publish-time refresh. Answers the
   * grant's expiry afterwards and whether this call refreshed it.
   */
  refreshGrantIfDue(options: { workspaceId: string; grantId: string; dueBefore: number }): Promise<{ refreshed: boolean; expiresAt?: number }>;
}

/**
 * Token refresh, per grant, built so that tokens survive months of unattended use:
 *
 * - single flight in this process: concurrent callers for any accounts of one grant share one
 *   refresh;
 * - a store lease per grant across processes, and a re-read once it is held: whoever waited
 *   finds the tokens the holder just wrote and uses them instead of refreshing again, which with
 *   rotating refresh tokens would burn the new token and lock every account of the grant out;
 * - the new tokens are written (CAS at the version read, fenced by the lease) before anyone
 *   gets to use them; when the store is unreachable the write is retried with backoff, and if it
 *   still fails the tokens are held in this process and written by the next caller or by a
 *   background retry (whichever comes first), so a store outage never throws away a rotated
 *   refresh token;
 * - a response without a refresh token keeps the old one;
 * - only `reauth_required` (the `invalid_grant` class) marks the grant for reconnection;
 *   outages, rate limits, timeouts and resets leave it active and its tokens untouched.
 */
export function createRefresher({ context }: { context: LetmepostContext }): Refresher {
  const inflight = new Map<string, Promise<ActiveGrant>>();
  const held = new Map<string, HeldTokens>();

  const singleFlight = async ({
    workspaceId,
    grantId,
    rejectedAccessToken,
    dueBefore,
  }: {
    workspaceId: string;
    grantId: string;
    rejectedAccessToken?: string;
    /** A keep-alive: refresh when the token expires before this instant, not only when nearly dead. */
    dueBefore?: number;
  }): Promise<ActiveGrant> => {
    // A caller that needs a forced or early refresh may find a flight that decided no refresh
    // was due; it then starts its own. Two rounds suffice: the second flight is one this caller
    // owns or one started after its request.
    const stillStale = (shared: ActiveGrant): boolean =>
      rejectedAccessToken !== undefined
        ? shared.tokens.accessToken === rejectedAccessToken
        : dueBefore !== undefined && isDue({ tokens: shared.tokens, now: context.clock.now(), dueBefore });
    for (let round = 0; round < 2; round++) {
      const running = inflight.get(grantId);
      if (running === undefined) break;
      const shared = await running;
      if (!stillStale(shared)) return shared;
      if (inflight.get(grantId) === running) break;
    }
    const flight = refreshUnderLease({ context, held, workspaceId, grantId, rejectedAccessToken, dueBefore, onHeld: writeHeldInBackground }).finally(() => {
      if (inflight.get(grantId) === flight) inflight.delete(grantId);
    });
    inflight.set(grantId, flight);
    return flight;
  };

  /** Keeps trying to write a grant's held tokens until it succeeds, they are dropped, or time runs out. */
  const writeHeldInBackground = ({ workspaceId, grantId }: { workspaceId: string; grantId: string }): void => {
    const startedAt = performance.now();
    let delayMs = HELD_WRITE_FIRST_DELAY_MS;
    const attempt = (): void => {
      if (!held.has(grantId)) return;
      singleFlight({ workspaceId, grantId }).then(
        () => undefined,
        () => {
          if (!held.has(grantId) || performance.now() - startedAt > HELD_WRITE_GIVE_UP_MS) return;
          delayMs = Math.min(HELD_WRITE_MAX_DELAY_MS, delayMs * 2);
          schedule();
        },
      );
    };
    const schedule = (): void => {
      // Never keeps the process alive on its own.
      setTimeout(attempt, delayMs).unref();
    };
    schedule();
  };

  const forAccount = ({ loaded, active }: { loaded: LoadedAccount; active: ActiveGrant }): ActiveAccount => ({
    // The same account as loaded unless a refresh wrote its grant again: callers compare them.
    loaded: active.grant === loaded.grant ? loaded : { ...loaded, grant: active.grant },
    tokens: openAccountTokens({ context, loaded }) ?? active.tokens,
    client: active.client,
  });

  const activeIfFresh = ({ loaded }: { loaded: LoadedAccount }): ActiveAccount | undefined => {
    const grant = requireUsableGrant({ loaded });
    const tokens = openGrantTokens({ context, grant });
    const pending = held.get(grant.record.id);
    if (pending !== undefined && sameTokens({ tokens, from: pending.from })) return undefined;
    if (isDue({ tokens, now: context.clock.now() })) return undefined;
    return forAccount({ loaded, active: { grant, tokens, client: openGrantClient({ context, grant }) } });
  };

  return {
    activeIfFresh,

    async ensureFresh({ loaded }) {
      const fresh = activeIfFresh({ loaded });
      if (fresh !== undefined) return fresh;
      const grant = requireUsableGrant({ loaded });
      const tokens = openGrantTokens({ context, grant });
      const client = openGrantClient({ context, grant });
      try {
        return forAccount({ loaded, active: await singleFlight({ workspaceId: grant.record.workspaceId, grantId: grant.record.id }) });
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
          return forAccount({ loaded, active: { grant, tokens, client } });
        }
        throw error;
      }
    },

    async refreshAfterRejection({ accountId, workspaceId, rejectedAccessToken }) {
      const loaded = await findAccount({ context, accountId, ...(workspaceId !== undefined && { workspaceId }) });
      if (loaded === null) throw accountNotFound({ accountId });
      const grant = requireUsableGrant({ loaded });
      const own = openAccountTokens({ context, loaded });
      if (own !== undefined && own.accessToken === rejectedAccessToken) {
        // The account's own token (a Page token) is not renewed through the grant's refresh.
        throw new LetmepostError({
          code: 'reauth_required',
          platform: loaded.record.platform,
          message: `The ${loaded.record.platform} token of account "${accountId}" was rejected and cannot be refreshed.`,
          remediation: 'Send the user through connect.start() again to reconnect the account.',
        });
      }
      const active = await singleFlight({ workspaceId: grant.record.workspaceId, grantId: grant.record.id, rejectedAccessToken });
      return forAccount({ loaded, active });
    },

    async refreshGrantIfDue({ workspaceId, grantId, dueBefore }) {
      const before = await readGrant({ context, workspaceId, grantId });
      if (before === null) throw grantGone({ grantId });
      const previousAccessToken = openGrantTokens({ context, grant: before }).accessToken;
      const active = await singleFlight({ workspaceId, grantId, dueBefore });
      return {
        refreshed: active.tokens.accessToken !== previousAccessToken,
        ...(active.tokens.expiresAt !== undefined && { expiresAt: active.tokens.expiresAt }),
      };
    },
  };
}

function requireUsableGrant({ loaded }: { loaded: LoadedAccount }): LoadedGrant {
  const { grant } = loaded;
  if (grant === null) {
    throw new LetmepostError({
      code: 'reauth_required',
      platform: loaded.record.platform,
      message: `Account "${loaded.record.id}" (${loaded.record.platform}) has no stored grant; it must be reconnected.`,
      remediation: 'Send the user through connect.start() again; reconnecting keeps the same account id.',
    });
  }
  if (grant.record.status === 'reauth_required') throw reauthRequired({ platform: loaded.record.platform, accountId: loaded.record.id });
  return grant;
}

function isDue({ tokens, now, dueBefore }: { tokens: TokenSet; now: number; dueBefore?: number | undefined }): boolean {
  if (tokens.expiresAt === undefined) return false;
  return tokens.expiresAt - REFRESH_SKEW_MS <= now || (dueBefore !== undefined && tokens.expiresAt <= dueBefore);
}

function sameTokens({ tokens, from }: { tokens: TokenSet; from: HeldTokens['from'] }): boolean {
  return tokens.accessToken === from.accessToken && tokens.refreshToken === from.refreshToken;
}

async function refreshUnderLease({
  context,
  held,
  workspaceId,
  grantId,
  rejectedAccessToken,
  dueBefore,
  onHeld,
}: {
  context: LetmepostContext;
  held: Map<string, HeldTokens>;
  workspaceId: string;
  grantId: string;
  rejectedAccessToken: string | undefined;
  dueBefore?: number | undefined;
  /** Called once tokens are held, to write them as soon as the store is back. */
  onHeld: (options: { workspaceId: string; grantId: string }) => void;
}): Promise<ActiveGrant> {
  return withGrantLock({
    context,
    grantId,
    fn: async (lease) => {
      // Re-read under the lease: another process may have refreshed while we waited for it.
      const grant = await readGrant({ context, workspaceId, grantId });
      if (grant === null) throw grantGone({ grantId });
      const { record } = grant;
      if (record.status === 'reauth_required') throw reauthRequired({ platform: record.platform, grantId });
      const tokens = openGrantTokens({ context, grant });
      const client = openGrantClient({ context, grant });

      // Tokens this process refreshed while the store was away: write them now instead of
      // spending the refresh token they replace a second time.
      const pending = held.get(grantId);
      if (pending !== undefined) {
        if (sameTokens({ tokens, from: pending.from })) {
          const written = await persistRefreshed({ context, grant, tokens: pending.tokens, refreshedAt: pending.refreshedAt, lease, previous: tokens });
          held.delete(grantId);
          context.log('info', 'letmepost.grant.held_tokens_written', { workspaceId, platform: record.platform, grantId });
          return { grant: written, tokens: pending.tokens, client };
        }
        // Someone else wrote a newer set since; ours is outdated.
        held.delete(grantId);
      }

      const stale =
        rejectedAccessToken !== undefined ? tokens.accessToken === rejectedAccessToken : isDue({ tokens, now: context.clock.now(), dueBefore });
      if (!stale) return { grant, tokens, client };

      const provider = context.providers.get(record.platform);
      if (provider?.refresh === undefined) {
        if (rejectedAccessToken === undefined) {
          // Expired by our clock but not refreshable: let the platform have the final word.
          return { grant, tokens, client };
        }
        const failure = new LetmepostError({
          code: 'reauth_required',
          platform: record.platform,
          message: `The ${record.platform} token of grant "${grantId}" was rejected and cannot be refreshed.`,
          remediation: 'Send the user through connect.start() again to reconnect the account.',
        });
        await markReauthRequired({ context, grant, tokens, client, lease, reason: failure.code });
        throw failure;
      }

      let refreshed: TokenSet;
      try {
        refreshed = await provider.refresh({
          tokens,
          client,
          ...(record.data !== undefined && { grantData: structuredClone(record.data) }),
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
          await markReauthRequired({ context, grant, tokens, client, lease, reason: failure.code });
        }
        context.log('warn', 'letmepost.account.refresh_failed', {
          workspaceId,
          platform: record.platform,
          grantId,
          errorCode: failure.code,
          markedReauthRequired: failure.code === 'reauth_required',
        });
        throw failure;
      }

      const merged = mergeTokens({ previous: tokens, refreshed });
      const refreshedAt = context.clock.now();
      let written: LoadedGrant;
      try {
        written = await persistRefreshed({ context, grant, tokens: merged, refreshedAt, lease, previous: tokens });
      } catch (error) {
        if (LetmepostError.isInstance(error) && error.code === 'store_unavailable') {
          // The platform has already spent the old refresh token; these are the only live ones.
          held.set(grantId, {
            from: { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken },
            tokens: merged,
            refreshedAt,
          });
          context.log('error', 'letmepost.grant.refresh_held', {
            workspaceId,
            platform: record.platform,
            grantId,
            errorCode: error.code,
          });
          onHeld({ workspaceId, grantId });
        }
        throw error;
      }
      context.log('info', 'letmepost.account.refreshed', {
        workspaceId,
        platform: record.platform,
        grantId,
        expiresAt: merged.expiresAt,
        rotated: refreshed.refreshToken !== undefined && refreshed.refreshToken !== tokens.refreshToken,
        forced: rejectedAccessToken !== undefined,
      });
      return { grant: written, tokens: merged, client };
    },
  });
}

/**
 * Writes refreshed tokens. A store that is briefly unreachable is retried with backoff. The
 * fenced CAS write only conflicts when the lease ran out (the refresh took longer than the lease)
 * and someone else wrote. If what is stored is still the token set we refreshed from, nobody else
 * used it, so ours is written anyway: losing a rotated refresh token would lock the grant out.
 */
async function persistRefreshed({
  context,
  grant,
  tokens,
  refreshedAt,
  lease,
  previous,
}: {
  context: LetmepostContext;
  grant: LoadedGrant;
  tokens: TokenSet;
  refreshedAt: number;
  lease: LockLease;
  previous: TokenSet;
}): Promise<LoadedGrant> {
  const client = openGrantClient({ context, grant });
  const facts = (record: GrantRecord) =>
    stripUndefined({ ...factsOf(record), status: 'active' as const, statusReason: undefined, updatedAt: refreshedAt, refreshedAt });
  return retryWhileUnavailable({
    context,
    operation: async () => {
      try {
        return await writeGrant({ context, key: grant.key, expectedVersion: grant.version, facts: facts(grant.record), tokens, client, lease });
      } catch (error) {
        if (!isStoreConflict(error)) throw error;
        const current = await readGrant({ context, workspaceId: grant.record.workspaceId, grantId: grant.record.id });
        if (current === null) throw error;
        const stored = openGrantTokens({ context, grant: current });
        if (stored.accessToken !== previous.accessToken || stored.refreshToken !== previous.refreshToken) throw error;
        return writeGrant({ context, key: current.key, expectedVersion: current.version, facts: facts(current.record), tokens, client });
      }
    },
  });
}

/** Runs `operation` again after pauses that grow, while the store answers `store_unavailable`. */
async function retryWhileUnavailable<T>({ context, operation }: { context: LetmepostContext; operation: () => Promise<T> }): Promise<T> {
  const deadline = performance.now() + PERSIST_RETRY_BUDGET_MS;
  let delayMs = PERSIST_RETRY_FIRST_DELAY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const unavailable = LetmepostError.isInstance(error) && error.code === 'store_unavailable' && error.retryable !== false;
      if (!unavailable || performance.now() + delayMs > deadline) throw error;
      context.log('warn', 'letmepost.grant.write_retry', { attempt, errorCode: 'store_unavailable' });
      await sleep(delayMs);
      delayMs = Math.min(PERSIST_RETRY_MAX_DELAY_MS, delayMs * 2);
    }
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
  grant,
  tokens,
  client,
  lease,
  reason,
}: {
  context: LetmepostContext;
  grant: LoadedGrant;
  tokens: TokenSet;
  client: ClientCredentials | undefined;
  lease: LockLease;
  reason: string;
}): Promise<void> {
  const now = context.clock.now();
  try {
    await writeGrant({
      context,
      key: grant.key,
      expectedVersion: grant.version,
      facts: { ...factsOf(grant.record), status: 'reauth_required', statusReason: reason, updatedAt: now },
      tokens,
      client,
      lease,
    });
    context.log('warn', 'letmepost.account.reauth_required', {
      workspaceId: grant.record.workspaceId,
      platform: grant.record.platform,
      grantId: grant.record.id,
      reason,
    });
  } catch (error) {
    // The caller still learns the account needs reconnecting; the next refresh will try again.
    context.log('error', 'letmepost.account.status_write_failed', {
      grantId: grant.record.id,
      errorCode: LetmepostError.isInstance(error) ? error.code : undefined,
    });
  }
}

export function reauthRequired({
  platform,
  accountId,
  grantId,
}: {
  platform: PlatformId;
  accountId?: string;
  grantId?: string;
}): LetmepostError {
  return new LetmepostError({
    code: 'reauth_required',
    platform,
    message:
      accountId !== undefined
        ? `Account "${accountId}" (${platform}) must be reconnected before it can publish.`
        : `The ${platform} grant "${grantId}" must be reconnected before its accounts can publish.`,
    remediation: 'Send the user through connect.start() again; reconnecting keeps the same account id.',
  });
}

function grantGone({ grantId }: { grantId: string }): LetmepostError {
  return new LetmepostError({
    code: 'not_found',
    message: `Grant "${grantId}" no longer exists; its accounts were removed meanwhile.`,
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
