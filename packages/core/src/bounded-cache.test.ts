import { describe, expect, it } from 'vitest';
import { createBoundedCache, deepFreeze } from './bounded-cache.js';

describe('createBoundedCache', () => {
  it('keeps at most max entries, dropping the oldest', () => {
    const cache = createBoundedCache<string, number>({ max: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10); // replacing a value neither evicts another nor grows the map
    expect(cache.get('b')).toBe(2);
    cache.set('c', 3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
    expect(cache.get('c')).toBe(3);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ tokens: { accessToken: 'a', scopes: ['x'] } });
    expect(() => {
      (value.tokens as { accessToken: string }).accessToken = 'b';
    }).toThrow(TypeError);
    expect(() => (value.tokens.scopes as string[]).push('y')).toThrow(TypeError);
  });
});
