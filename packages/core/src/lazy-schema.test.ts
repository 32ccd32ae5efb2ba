import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';

describe('lazySchema', () => {
  it('builds nothing until first asked, then builds once and hands back the same schema', () => {
    let builds = 0;
    const inner = lazySchema(() => {
      builds += 1;
      return z.object({ id: z.string() });
    });
    const outer = lazySchema(() => z.object({ item: inner() }));
    expect(builds).toBe(0);
    const first = outer();
    expect(builds).toBe(1);
    expect(outer()).toBe(first);
    expect(inner()).toBe(inner());
    expect(builds).toBe(1);
    expect(first.parse({ item: { id: 'a' } })).toEqual({ item: { id: 'a' } });
    expect(first.safeParse({ item: { id: 1 } }).success).toBe(false);
  });
});
