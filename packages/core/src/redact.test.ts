import { describe, expect, test } from 'vitest';
import { REDACTED, redactStrings, redactThenShorten } from './redact.js';

const SECRET = 'sk-live-0123456789abcdef';

describe('redactThenShorten', () => {
  test('a secret across the cut leaves no fragment: it is masked before the text is cut', () => {
    const text = `${'a'.repeat(295)}${SECRET} tail`;
    const shortened = redactThenShorten({ text, maxLength: 300, knownSecrets: [SECRET] });
    expect(shortened).toBe(`${'a'.repeat(295)}…`);
    expect(shortened).not.toContain(SECRET.slice(0, 4));
  });

  test('a marker that fits before the cut is kept; text that fits is left alone', () => {
    expect(redactThenShorten({ text: `${'a'.repeat(290)}${SECRET}!`, maxLength: 300, knownSecrets: [SECRET] })).toBe(`${'a'.repeat(290)}${REDACTED}…`);
    expect(redactThenShorten({ text: `short ${SECRET}`, maxLength: 300, knownSecrets: [SECRET] })).toBe(`short ${REDACTED}`);
  });

  test('inline credentials are masked without being known', () => {
    const text = `${'a'.repeat(280)} Authorization: Bearer abcdefghijklmnopqrstuvwxyz`;
    expect(redactThenShorten({ text, maxLength: 300 })).not.toContain('abcd');
  });

  test('never ends on half a surrogate pair, and can say how much was left out', () => {
    const text = `${'a'.repeat(9)}😀${'b'.repeat(10)}`;
    expect(redactThenShorten({ text, maxLength: 10 })).toBe(`${'a'.repeat(9)}…`);
    expect(redactThenShorten({ text, maxLength: 11, countRest: true })).toBe(`${'a'.repeat(9)}😀… [10 more characters]`);
  });
});

describe('redactStrings', () => {
  test('masks secrets inside strings and keeps every key, even secret-named ones a mapper reads', () => {
    const body = { error: { code: 'invalid_token', message: `token ${SECRET} expired`, retry: 3 }, items: [SECRET, 1, null] };
    expect(redactStrings({ value: body, knownSecrets: [SECRET] })).toEqual({
      error: { code: 'invalid_token', message: `token ${REDACTED} expired`, retry: 3 },
      items: [REDACTED, 1, null],
    });
  });

  test('bounds nesting so a hostile body cannot exhaust the stack', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 10_000; level += 1) deep = [deep];
    const redacted = redactStrings({ value: deep, depth: 4 }) as unknown[][][][][];
    expect(redacted[0]![0]![0]![0]![0]).toBe('[truncated]');
  });
});
