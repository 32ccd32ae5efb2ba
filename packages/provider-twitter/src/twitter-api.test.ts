import { describe, expect, it } from 'vitest';
import { quickTwitterCreatePostResponse, twitterCreatePostResponseSchema } from './twitter-api.js';

/** mulberry32: the same answers on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), state | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seeded(20261206);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
class Instance {
  id = '1';
}
const anything = [undefined, null, 0, 1.5, true, '', 'text', [], {}, new Instance(), ['1'], '12345', '1'.repeat(19), '1'.repeat(20), '12a', ' 12', '-1'];

function randomData(): unknown {
  const data: Record<string, unknown> = {};
  // Right values about half the time, so both sides of the check are reached often.
  if (random() < 0.95) data.id = random() < 0.6 ? pick(['1', '1890123456789012345']) : pick(['1'.repeat(20), '', 'abc', '0x1', '١٢', 12, null, undefined]);
  if (random() < 0.95) data.text = random() < 0.7 ? pick(['hello', '', 'ünïcode 🎉']) : pick([5, null, undefined]);
  if (random() < 0.4) {
    data.edit_history_post_ids = pick([[], ['1'], ['1', '2'], ['1', 2], [null], 'x', null, undefined, {}, Array.from({ length: 3 }, () => pick(anything))]);
  }
  if (random() < 0.2) data.extra = pick(anything);
  return random() < 0.05 ? pick(anything) : data;
}

function randomAnswer(): unknown {
  const answer: Record<string, unknown> = {};
  if (random() < 0.95) answer.data = randomData();
  if (random() < 0.1) answer.errors = [{ title: 'x' }];
  if (random() < 0.1) answer.includes = {};
  return random() < 0.05 ? pick(anything) : answer;
}

describe('quickTwitterCreatePostResponse', () => {
  it('gives what the schema gives whenever it answers, on 20,000 generated answers', () => {
    let answered = 0;
    for (let round = 0; round < 20_000; round += 1) {
      const answer = randomAnswer();
      const quick = quickTwitterCreatePostResponse(answer);
      if (quick === undefined) continue;
      answered += 1;
      const parsed = twitterCreatePostResponseSchema.safeParse(answer);
      expect(parsed.success, JSON.stringify(answer)).toBe(true);
      expect(quick).toEqual(parsed.data);
      // A copy, as zod's output is, with the keys the schema knows and no others.
      expect(quick).not.toBe(answer);
      expect(Object.keys(quick.data).sort()).toEqual(Object.keys(parsed.data!.data).sort());
    }
    // The generator reaches both sides: answers it takes, and answers it leaves to the schema.
    expect(answered).toBeGreaterThan(2_000);
    expect(answered).toBeLessThan(18_000);
  });

  it("takes X's documented answer and leaves an unexpected one to the schema", () => {
    const documented = { data: { id: '1445880548472328192', text: 'Hello', edit_history_post_ids: ['1445880548472328192'] } };
    expect(quickTwitterCreatePostResponse(documented)).toEqual(documented);
    expect(quickTwitterCreatePostResponse({ data: { id: '1', text: 't', edit_history_post_ids: ['1', null] } })).toBeUndefined();
    expect(quickTwitterCreatePostResponse({ data: { id: 1, text: 't' } })).toBeUndefined();
    expect(quickTwitterCreatePostResponse({ errors: [{ title: 'Forbidden' }] })).toBeUndefined();
  });
});
