import { describe, expect, test } from 'vitest';
import { countGraphemes, decodePercentEscapes, utf8ByteLength } from './text.js';

test('countGraphemes counts user-perceived characters', () => {
  expect(countGraphemes('')).toBe(0);
  expect(countGraphemes('hello')).toBe(5);
  expect(countGraphemes('👨‍👩‍👧‍👦')).toBe(1); // 7 code points, 11 UTF-16 units
  expect(countGraphemes('🇫🇷🇩🇪')).toBe(2);
  expect(countGraphemes('e\u0301')).toBe(1); // e + combining acute
  expect(countGraphemes('नमस्ते')).toBe(3);
});

test('utf8ByteLength', () => {
  expect(utf8ByteLength('abc')).toBe(3);
  expect(utf8ByteLength('é')).toBe(2);
  expect(utf8ByteLength('€')).toBe(3);
  expect(utf8ByteLength('😀')).toBe(4);
  expect(utf8ByteLength('\ud800')).toBe(3); // lone surrogate → U+FFFD
});

describe('decodePercentEscapes', () => {
  test('decodes valid escapes and answers undefined, never a URIError, for malformed ones', () => {
    expect(decodePercentEscapes({ value: 'localhost%3A2583' })).toBe('localhost:2583');
    expect(decodePercentEscapes({ value: '%F0%9F%98%80' })).toBe('😀');
    for (const value of ['%E0%A4%A', '%ED%A0%80', '%zz', '%']) expect(decodePercentEscapes({ value })).toBeUndefined();
  });
});
