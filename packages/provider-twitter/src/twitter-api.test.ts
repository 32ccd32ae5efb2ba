import { describe, expect, it } from 'vitest';
import { quickTwitterCreatePostResponse, twitterCreatePostResponseSchema } from './twitter-api.js';

class Instance {
  id = '1';
}
/** Every field of the answer tried with right values, wrong ones and edge cases: each combination once. */
const ids = ['1', '1890123456789012345', '1'.repeat(20), '', 'abc', '0x1', '١٢', 12, null, undefined];
const texts = ['hello', '', 'ünïcode 🎉', 5, null, undefined];
const histories = [undefined, [], ['1'], ['1', '2'], ['1', 2], [null], 'x', null, {}, [new Instance()]];
const extras = [undefined, 'x', { nested: true }];
const outsides: unknown[] = [undefined, null, 0, 'text', [], new Instance(), ['1']];

function* answers(): Generator<unknown> {
  for (const id of ids) {
    for (const text of texts) {
      for (const history of histories) {
        for (const extra of extras) {
          const data: Record<string, unknown> = {};
          if (id !== undefined) data.id = id;
          if (text !== undefined) data.text = text;
          if (history !== undefined) data.edit_history_post_ids = history;
          if (extra !== undefined) data.extra = extra;
          yield { data };
          yield { data, errors: [{ title: 'x' }] };
        }
      }
    }
  }
  // An optional key present with `undefined`, and answers without a usable `data`.
  yield { data: { id: '1', text: 't', edit_history_post_ids: undefined } };
  for (const outside of outsides) {
    yield outside;
    yield { data: outside };
  }
}

describe('quickTwitterCreatePostResponse', () => {
  it('gives what the schema gives whenever it answers, on every combination of right and wrong fields', () => {
    let answered = 0;
    let total = 0;
    for (const answer of answers()) {
      total += 1;
      const quick = quickTwitterCreatePostResponse(answer);
      if (quick === undefined) continue;
      answered += 1;
      const parsed = twitterCreatePostResponseSchema().safeParse(answer);
      expect(parsed.success, JSON.stringify(answer)).toBe(true);
      expect(quick).toEqual(parsed.data);
      // A copy, as zod's output is, with the keys the schema knows and no others.
      expect(quick).not.toBe(answer);
      expect(Object.keys(quick.data).sort()).toEqual(Object.keys(parsed.data!.data).sort());
    }
    // Both sides of the check are reached: answers it takes, and answers it leaves to the schema.
    expect(answered).toBeGreaterThan(100);
    expect(total - answered).toBeGreaterThan(1000);
  });

  it("takes X's documented answer and leaves an unexpected one to the schema", () => {
    const documented = { data: { id: '1445880548472328192', text: 'Hello', edit_history_post_ids: ['1445880548472328192'] } };
    expect(quickTwitterCreatePostResponse(documented)).toEqual(documented);
    expect(quickTwitterCreatePostResponse({ data: { id: '1', text: 't', edit_history_post_ids: ['1', null] } })).toBeUndefined();
    expect(quickTwitterCreatePostResponse({ data: { id: 1, text: 't' } })).toBeUndefined();
    expect(quickTwitterCreatePostResponse({ errors: [{ title: 'Forbidden' }] })).toBeUndefined();
  });
});
