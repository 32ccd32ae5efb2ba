import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '@letmepost/core';

export interface LockRetryOptions {
  /** First pause between attempts to take a busy lock. Default 10 ms. */
  minDelayMs?: number;
  /** Longest pause between attempts. Default 100 ms. */
  maxDelayMs?: number;
}

/**
 * Polls `tryAcquire` until it yields a lease or `waitMs` of real time has passed. Pauses grow
 * exponentially with full jitter, so several processes queued on one key do not retry in lockstep
 * and a long-held lock costs a handful of queries rather than a busy loop.
 *
 * Real time (`performance.now()`) bounds the wait, not the store's clock: a test clock that stands
 * still must not turn a wait into an endless loop, and a lease is still judged expired by the
 * store's own clock inside `tryAcquire`.
 */
export async function acquireWithBackoff<LEASE>({
  tryAcquire,
  waitMs,
  clock,
  retry = {},
}: {
  tryAcquire: () => Promise<LEASE | undefined>;
  waitMs: number;
  /** An injected clock also bounds the wait, as in the reference memory store. */
  clock?: Clock | undefined;
  retry?: LockRetryOptions | undefined;
}): Promise<LEASE | undefined> {
  const minDelayMs = retry.minDelayMs ?? 10;
  const maxDelayMs = Math.max(minDelayMs, retry.maxDelayMs ?? 100);
  const realDeadline = performance.now() + waitMs;
  const clockDeadline = clock === undefined ? Number.POSITIVE_INFINITY : clock.now() + waitMs;
  let ceiling = minDelayMs;
  for (;;) {
    const lease = await tryAcquire();
    if (lease !== undefined) return lease;
    const remainingMs = Math.min(
      realDeadline - performance.now(),
      clock === undefined ? Number.POSITIVE_INFINITY : clockDeadline - clock.now(),
    );
    if (remainingMs <= 0) return undefined;
    const delayMs = Math.min(remainingMs, minDelayMs + Math.random() * (ceiling - minDelayMs));
    await sleep(Math.max(1, delayMs));
    ceiling = Math.min(maxDelayMs, ceiling * 2);
  }
}
