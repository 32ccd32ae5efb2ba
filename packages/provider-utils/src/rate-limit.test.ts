import { describe, expect, test } from 'vitest';
import { parseRateLimit, parseRetryAfter } from './rate-limit.js';

const now = Date.UTC(2025, 0, 1, 12, 0, 0);

describe('parseRateLimit', () => {
  test('X: x-rate-limit-* with the reset in epoch seconds', () => {
    const reset = now / 1000 + 900;
    expect(
      parseRateLimit({
        headers: { 'x-rate-limit-limit': '300', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(reset) },
        now,
      }),
    ).toEqual({ limit: 300, remaining: 0, resetAt: now + 900_000, retryAfterMs: 900_000 });
  });

  test('x-ratelimit-reset as seconds from now (Reddit)', () => {
    expect(
      parseRateLimit({ headers: { 'x-ratelimit-remaining': '12.0', 'x-ratelimit-reset': '42' }, now }),
    ).toEqual({ remaining: 12, resetAt: now + 42_000 });
  });

  test('IETF ratelimit-* draft: delta seconds, first list item', () => {
    expect(
      parseRateLimit({ headers: { 'ratelimit-limit': '100, 100;w=60', 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }, now }),
    ).toEqual({ limit: 100, remaining: 0, resetAt: now + 7000, retryAfterMs: 7000 });
  });

  test('Retry-After wins over the reset', () => {
    expect(
      parseRateLimit({ headers: { 'retry-after': '3', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(now / 1000 + 60) }, now })
        .retryAfterMs,
    ).toBe(3000);
  });

  test('no retryAfterMs when budget remains and no Retry-After', () => {
    expect(parseRateLimit({ headers: { 'x-rate-limit-remaining': '5', 'x-rate-limit-reset': String(now / 1000 + 60) }, now }).retryAfterMs).toBeUndefined();
  });

  test('garbage is ignored, not guessed', () => {
    expect(parseRateLimit({ headers: { 'x-rate-limit-limit': 'lots', 'retry-after': 'soon', 'ratelimit-reset': '-5' }, now })).toEqual({});
  });
});

describe('parseRetryAfter', () => {
  test('delta seconds', () => {
    expect(parseRetryAfter({ value: '120', now })).toBe(120_000);
    expect(parseRetryAfter({ value: ' 1.5 ', now })).toBe(1500);
  });
  test('HTTP date, relative to now, never negative', () => {
    expect(parseRetryAfter({ value: new Date(now + 30_000).toUTCString(), now })).toBe(30_000);
    expect(parseRetryAfter({ value: new Date(now - 30_000).toUTCString(), now })).toBe(0);
  });
  test('absent or invalid', () => {
    expect(parseRetryAfter({ value: undefined, now })).toBeUndefined();
    expect(parseRetryAfter({ value: 'tomorrow-ish', now })).toBeUndefined();
  });
});
