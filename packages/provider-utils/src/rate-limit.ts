/**
 * What a response says about the caller's rate-limit budget. Times are epoch milliseconds from
 * the injected clock; `retryAfterMs` is a delay from `now`.
 */
export interface RateLimitInfo {
  limit?: number;
  remaining?: number;
  /** When the current window resets (epoch ms). */
  resetAt?: number;
  /** How long to wait before trying again, from `Retry-After` or, failing that, the reset time. */
  retryAfterMs?: number;
}

export interface ParseRateLimitOptions {
  /** Response headers with lowercase names. */
  headers: Record<string, string>;
  /** Epoch ms, from the injected clock. */
  now: number;
}

// Resets above this are epoch seconds (X `x-rate-limit-reset`), below it a delta in seconds
// (`ratelimit-reset` from the IETF draft, GitHub-style deltas). 10^9 s is September 2001, so no
// real delta and no real epoch can be confused.
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;

/**
 * Reads the rate-limit headers platforms send: `Retry-After` (seconds or an HTTP date),
 * `x-rate-limit-*` (X: reset in epoch seconds), `x-ratelimit-*` (Reddit, Meta-style, LinkedIn:
 * reset as epoch seconds or seconds from now) and the IETF `ratelimit-*` draft (reset as delta
 * seconds). Unparseable values are ignored rather than guessed.
 */
export function parseRateLimit(options: ParseRateLimitOptions): RateLimitInfo {
  const { headers, now } = options;
  const info: RateLimitInfo = {};

  const limit = firstNumber(headers, ['x-rate-limit-limit', 'x-ratelimit-limit', 'ratelimit-limit']);
  if (limit !== undefined) info.limit = limit;
  const remaining = firstNumber(headers, ['x-rate-limit-remaining', 'x-ratelimit-remaining', 'ratelimit-remaining']);
  if (remaining !== undefined) info.remaining = remaining;

  const reset = firstNumber(headers, ['x-rate-limit-reset', 'x-ratelimit-reset', 'ratelimit-reset']);
  if (reset !== undefined && reset >= 0) {
    info.resetAt = reset >= EPOCH_SECONDS_THRESHOLD ? Math.round(reset * 1000) : now + Math.round(reset * 1000);
  }

  const retryAfter = parseRetryAfter({ value: headers['retry-after'], now });
  if (retryAfter !== undefined) {
    info.retryAfterMs = retryAfter;
  } else if (info.resetAt !== undefined && info.remaining === 0) {
    // Without Retry-After, an exhausted budget tells us when the next request can succeed.
    info.retryAfterMs = Math.max(0, info.resetAt - now);
  }
  return info;
}

/** `Retry-After` as a delay in ms: delta seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(options: { value: string | undefined; now: number }): number | undefined {
  const value = options.value?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - options.now);
}

function firstNumber(headers: Record<string, string>, names: readonly string[]): number | undefined {
  for (const name of names) {
    const raw = headers[name];
    if (raw === undefined) continue;
    // Some platforms send a list (`ratelimit-limit: 100, 100;w=60`); the first item is the
    // tightest policy the server chose to report first.
    const first = raw.split(',')[0]?.trim();
    if (first && /^-?\d+(\.\d+)?$/.test(first)) return Number(first);
  }
  return undefined;
}
