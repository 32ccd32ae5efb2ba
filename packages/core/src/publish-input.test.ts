import { describe, expect, it } from 'vitest';
import { postSchema } from './post.js';
import { quickPost, quickPublishOptions } from './publish-input.js';
import { publishOptionsSchema } from './publish.js';

/** mulberry32: the same inputs on every run. */
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
  text = 'x';
}
const aborted = new AbortController().signal;
/** Values every field is tried with: right ones, wrong ones, edge cases of the right type. */
const strings = ['ws-1', 'acc_1', '', 'a'.repeat(255), 'a'.repeat(256), 'a'.repeat(257), 'bad\uD800', 'ok\uD83D\uDE00'];
const anything = [undefined, null, 0, 1, true, false, 'twitter', 'nope', {}, [], () => {}, aborted, new Instance(), ...strings];
const platforms = ['twitter', 'linkedin', 'bluesky', 'Twitter', 'myspace', undefined, 1];

function randomTarget(): unknown {
  const target: Record<string, unknown> = {};
  if (random() < 0.5) target.accountId = pick([...strings, undefined, 7]);
  if (random() < 0.6) target.platform = pick(platforms);
  if (random() < 0.5) target.credentials = pick([{ token: 't' }, undefined, 'c', null]);
  if (random() < 0.3) target.options = pick(anything);
  if (random() < 0.05) target.extra = 1;
  return random() < 0.03 ? pick([null, 'target', [], new Instance()]) : target;
}

function randomOptions(): unknown {
  const options: Record<string, unknown> = {};
  if (random() < 0.7) options.workspaceId = pick([...strings, undefined, 3]);
  if (random() < 0.9) options.post = pick([{ text: 'hi' }, undefined, 'post']);
  if (random() < 0.95) {
    const count = pick([0, 1, 1, 2, 3, 101]);
    options.targets = random() < 0.05 ? pick(anything) : Array.from({ length: count }, randomTarget);
  }
  if (random() < 0.3) options.idempotencyKey = pick([...strings, undefined]);
  if (random() < 0.3) options.dryRun = pick([true, false, undefined, 'yes']);
  if (random() < 0.2) options.signal = pick([aborted, undefined, {}]);
  if (random() < 0.2) options.onProgress = pick([() => {}, undefined, 'f']);
  if (random() < 0.05) options.unknownKey = 1;
  return random() < 0.03 ? pick([null, [], 'options', new Instance()]) : options;
}

function randomPost(): unknown {
  const post: Record<string, unknown> = {};
  if (random() < 0.9) post.text = pick(['hello', '', 'a'.repeat(400), 5, undefined, null]);
  if (random() < 0.2) post.replyTo = pick(['123', '', undefined, 9]);
  if (random() < 0.2) post.firstComment = pick(['first', '', undefined]);
  if (random() < 0.1) post.link = pick(['https://example.com', 'not a url', undefined]);
  if (random() < 0.1) post.media = pick([[], undefined, [{ url: 'https://example.com/a.png', mimeType: 'image/png' }]]);
  if (random() < 0.05) post.thread = pick([[{ text: 'b' }], undefined]);
  if (random() < 0.05) post.other = 1;
  return random() < 0.03 ? pick([null, 'post', new Instance(), Object.assign(Object.create(null), { text: 'n' })]) : post;
}

/** Drops keys whose value is undefined: zod keeps an explicit undefined, which core reads as absent. */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined).map(([key, entry]) => [key, defined(entry)]));
}

describe('the direct checks of publish input accept a subset of what zod accepts, with the same values', () => {
  it('publish options: 20,000 generated inputs', () => {
    let quickAccepted = 0;
    let zodAccepted = 0;
    for (let index = 0; index < 20_000; index += 1) {
      const input = randomOptions();
      const quick = quickPublishOptions(input);
      const parsed = publishOptionsSchema().safeParse(input);
      if (parsed.success) zodAccepted += 1;
      if (quick === undefined) continue;
      quickAccepted += 1;
      expect(parsed.success, JSON.stringify(input)).toBe(true);
      expect(defined(quick)).toEqual(defined(parsed.data));
      // The caller's post is passed on as it is, like `z.unknown()` does.
      expect(quick.post).toBe((input as { post?: unknown }).post);
    }
    // The direct check is what most valid calls take, not a path that never runs.
    expect(quickAccepted).toBeGreaterThan(zodAccepted * 0.5);
  });

  it('posts: 20,000 generated inputs', () => {
    let quickAccepted = 0;
    for (let index = 0; index < 20_000; index += 1) {
      const input = randomPost();
      const quick = quickPost(input);
      if (quick === undefined) continue;
      quickAccepted += 1;
      const parsed = postSchema.safeParse(input);
      expect(parsed.success, JSON.stringify(input)).toBe(true);
      expect(defined(quick)).toEqual(defined(parsed.data));
      // A copy: a caller changing its object during the publish changes nothing.
      expect(quick).not.toBe(input);
    }
    expect(quickAccepted).toBeGreaterThan(1000);
  });

  it('typical calls take the direct check', () => {
    expect(quickPublishOptions({ workspaceId: 'ws-1', post: { text: 'hi' }, targets: [{ accountId: 'acc_1' }] })).toBeDefined();
    expect(quickPublishOptions({ post: { text: 'hi' }, targets: [{ platform: 'twitter', credentials: { a: 1 } }], idempotencyKey: 'k' })).toBeDefined();
    expect(quickPost({ text: 'hi', replyTo: '1', firstComment: 'c' })).toEqual({ text: 'hi', replyTo: '1', firstComment: 'c' });
    // Media, a link or a thread go to zod.
    expect(quickPost({ text: 'hi', media: [] })).toBeUndefined();
    expect(quickPost({ text: 'hi', link: 'https://example.com' })).toBeUndefined();
  });
});
