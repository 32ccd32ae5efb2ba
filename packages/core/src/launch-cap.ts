import type { LaunchCap, LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import { postItems, type Post } from './post.js';
import type { ProviderPublishResult } from './provider.js';
import { storeKeys } from './store-layout.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Default per-account budgets. X bills every created post on its pay-per-use API, so a new
 * deployment caps each account at 50 billable posts per rolling 30 days until the host decides
 * otherwise (`launchCaps` / `TWITTER_LAUNCH_CAP_PER_ACCOUNT`).
 */
export const DEFAULT_LAUNCH_CAPS: Readonly<Partial<Record<PlatformId, LaunchCap>>> = {
  twitter: { limit: 50, windowMs: 30 * DAY_MS },
};

/** Posts the platform will create for one target: every thread item, and the first comment. */
export function billableItemCount({ post }: { post: Post }): number {
  return postItems(post).length + (post.firstComment === undefined ? 0 : 1);
}

export interface LaunchCapReservation {
  key: string;
  cap: LaunchCap;
  amount: number;
}

/**
 * Reserves `amount` billable posts before anything is sent, atomically with the limit check, so
 * concurrent publishes cannot jointly overshoot the cap. Returns undefined when the platform has
 * no cap.
 */
export async function reserveLaunchCap({
  context,
  platform,
  subject,
  amount,
}: {
  context: LetmepostContext;
  platform: PlatformId;
  subject: string;
  amount: number;
}): Promise<LaunchCapReservation | undefined> {
  const cap = context.launchCaps.get(platform);
  if (cap === undefined || amount <= 0) return undefined;
  const key = storeKeys.launchCounter({ platform, subject });
  const outcome = await context.store.increment(key, { windowMs: cap.windowMs, amount, limit: cap.limit });
  if (!outcome.accepted) {
    const days = Math.round(cap.windowMs / DAY_MS);
    throw new LetmepostError({
      code: 'launch_cap_reached',
      platform,
      message: `This ${platform} account has used ${outcome.count} of its ${cap.limit} billable posts in the last ${days} days; this publish needs ${amount} more.`,
      remediation: `Wait for older posts to leave the rolling window, or raise launchCaps.${platform} (TWITTER_LAUNCH_CAP_PER_ACCOUNT for X).`,
    });
  }
  return { key, cap, amount };
}

/** Gives back reserved posts that were definitely not created. */
export async function releaseLaunchCap({
  context,
  reservation,
  amount,
}: {
  context: LetmepostContext;
  reservation: LaunchCapReservation;
  amount: number;
}): Promise<void> {
  const released = Math.min(amount, reservation.amount);
  if (released <= 0) return;
  try {
    await context.store.increment(reservation.key, { windowMs: reservation.cap.windowMs, amount: -released });
  } catch {
    // Failing to release only makes the cap stricter than it should be, never looser.
  }
}

/**
 * How many reserved posts were definitely not created. Items the provider reports as `failed`
 * were not; `unknown`, `pending` and unreported items may exist and stay counted, because a cap
 * that undercounts is the one failure that costs the host money.
 */
export function uncreatedItemCount({
  result,
  reserved,
  hasFirstComment,
}: {
  result: ProviderPublishResult;
  reserved: number;
  /** Whether the post asked for a first comment (reserved too, and not created without its root). */
  hasFirstComment: boolean;
}): number {
  const items = result.items ?? [];
  if (items.length === 0) return result.status === 'failed' ? reserved : 0;
  const failed = items.filter((item) => item.status === 'failed');
  const rootFailed = failed.some((item) => item.index === 0);
  // Without the root post there is nothing to comment on.
  const commentNotCreated = rootFailed && hasFirstComment ? 1 : 0;
  return Math.min(reserved, failed.length + commentNotCreated);
}
