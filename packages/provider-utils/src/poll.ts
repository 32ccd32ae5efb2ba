import type { JsonValue } from '@letmepost/core';
import { abortableSleep } from './http-client.js';

export interface PollUntilOptions<VALUE> {
  /** One look at the platform (a status read). Its errors end the polling and propagate. */
  check: (options: { attempt: number; signal?: AbortSignal }) => Promise<VALUE>;
  /** Whether `value` ends the polling (finished, failed); otherwise the next look follows. */
  isDone: (value: VALUE) => boolean;
  /** Wait between two looks. */
  intervalMs: number;
  /**
   * How long to keep looking before giving up with the last value. Counted in looks
   * (`maxWaitMs / intervalMs`), not clock time, so a frozen test clock cannot make it spin.
   */
  maxWaitMs: number;
  /**
   * `true`: the first look comes after one interval (processing that takes seconds at best);
   * `false` (default): look right away, then every interval.
   */
  delayFirstCheck?: boolean;
  /** Injectable for tests; default waits on real timers and stops when `signal` aborts. */
  sleep?: (options: { ms: number; signal?: AbortSignal }) => Promise<void>;
  signal?: AbortSignal;
}

export interface PollUntilResult<VALUE> {
  /** The last value seen; `undefined` only when no look was allowed (`maxWaitMs` 0 with a delayed first look). */
  value: VALUE | undefined;
  /** Whether `isDone(value)` held; false when the wait budget ran out first. */
  done: boolean;
  /** How many looks were made. */
  attempts: number;
}

/**
 * The one polling loop providers use while a platform processes something (a video, a media
 * container, a job): look, wait, look again, until done or the wait budget is spent. What is
 * still unfinished after the budget becomes a `pending` result the host finishes with
 * `letmepost.resume()`, so `maxWaitMs` bounds how long `publish` holds the caller.
 */
export async function pollUntil<VALUE>(options: PollUntilOptions<VALUE>): Promise<PollUntilResult<VALUE>> {
  const { check, isDone, intervalMs, maxWaitMs, signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const delayed = options.delayFirstCheck ?? false;
  const budget = intervalMs > 0 ? Math.floor(maxWaitMs / intervalMs) : 0;
  const looks = delayed ? budget : budget + 1;
  let value: VALUE | undefined;
  let attempts = 0;
  for (let attempt = 0; attempt < looks; attempt += 1) {
    if (attempt > 0 || delayed) await sleep({ ms: intervalMs, ...(signal !== undefined ? { signal } : {}) });
    value = await check({ attempt, ...(signal !== undefined ? { signal } : {}) });
    attempts += 1;
    if (isDone(value)) return { value, done: true, attempts };
  }
  return { value, done: false, attempts };
}

/**
 * Provider state as plain JSON, which is what a `pending` answer's `resume` must be: typed
 * records (a post body, draft records) go through a JSON round trip, which also drops
 * `undefined` fields exactly as sealing the token would.
 */
export function toJsonValue(value: object): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
