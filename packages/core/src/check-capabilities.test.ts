import { describe, expect, it } from 'vitest';
import { CAPABILITY_RULES, checkCapabilities, validatePost } from './check-capabilities.js';
import type { Post } from './post.js';
import type { ProviderAccount, ProviderCapabilities, ValidationIssue } from './index.js';
import { measureText } from './text-measure.js';
import { connectAccount, createHarness, createTestProvider, errorOf, testCapabilities } from './test-support/test-provider.js';

const strict: ProviderCapabilities = {
  text: { maxLength: 10, unit: 'graphemes', required: false },
  media: {
    maxItems: 2,
    maxImages: 2,
    maxVideos: 1,
    imageMimeTypes: ['image/png', 'image/jpeg'],
    videoMimeTypes: ['video/mp4'],
    maxImageBytes: 100,
    maxVideoBytes: 1000,
    mixedImagesAndVideo: false,
    altText: false,
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: false,
  link: 'card',
  deletePost: false,
  pending: false,
};

const rules = (post: Post, capabilities: ProviderCapabilities = strict) =>
  checkCapabilities({ platform: 'mastodon', capabilities, post }).map((issue) => [issue.rule, issue.field]);

const png = (bytes = 4) => ({ data: new Uint8Array(bytes), mimeType: 'image/png' });

describe('checkCapabilities', () => {
  it('reports each capability under its canonical rule id and field', () => {
    expect(rules({ text: 'a'.repeat(11) })).toEqual([['mastodon.text.max_length', 'text']]);
    expect(rules({ text: '' })).toEqual([['mastodon.text.required', 'text']]);
    expect(rules({ text: '', link: 'https://example.com' })).toEqual([]);
    expect(rules({ text: 'a', thread: [{ text: 'b' }] })).toEqual([['mastodon.thread.unsupported', 'thread']]);
    expect(rules({ text: 'a', replyTo: '1' })).toEqual([['mastodon.reply.unsupported', 'replyTo']]);
    expect(rules({ text: 'a', firstComment: 'b' })).toEqual([['mastodon.first_comment.unsupported', 'firstComment']]);
    expect(rules({ text: 'a', media: [png(), png(), png()] })).toEqual([
      ['mastodon.media.max_items', 'media'],
      ['mastodon.media.max_images', 'media'],
    ]);
    const video = { data: new Uint8Array(4), mimeType: 'video/mp4' };
    expect(rules({ text: 'a', media: [video, video] })).toEqual([['mastodon.media.max_videos', 'media']]);
    expect(rules({ text: 'a', media: [png(), video] })).toEqual([['mastodon.media.mixed', 'media']]);
    expect(rules({ text: 'a', media: [{ data: new Uint8Array(4), mimeType: 'image/webp' }] })).toEqual([['mastodon.media.mime_type', 'media.0.mimeType']]);
    expect(rules({ text: 'a', media: [png(101)] })).toEqual([['mastodon.media.max_bytes', 'media.0']]);
    expect(rules({ text: 'a', media: [{ ...png(), altText: 'a cat' }] })).toEqual([['mastodon.media.alt_text', 'media.0.altText']]);
  });

  it('uses only the canonical list, and image/jpg counts as JPEG', () => {
    const all = checkCapabilities({
      platform: 'mastodon',
      capabilities: strict,
      post: { text: '', thread: [{ text: 'b' }], replyTo: '1', firstComment: 'c', media: [png(101), png(), { data: new Uint8Array(1), mimeType: 'image/bmp', altText: 'x' }] },
    });
    for (const issue of all) expect(CAPABILITY_RULES).toContain(issue.rule.slice('mastodon.'.length));
    expect(rules({ text: 'a', media: [{ data: new Uint8Array(4), mimeType: 'image/jpg' }] })).toEqual([]);
  });

  it('checks thread items and the first comment where the platform has them, naming the item', () => {
    const threaded = { ...strict, thread: true, firstComment: true };
    expect(rules({ text: 'ok', thread: [{ text: 'fine' }, { text: 'a'.repeat(11) }], firstComment: 'b'.repeat(11) }, threaded)).toEqual([
      ['mastodon.text.max_length', 'thread.1.text'],
      ['mastodon.text.max_length', 'firstComment'],
    ]);
  });

  it('counts text in the declared unit; a unit only the provider can count is left to it', () => {
    expect(measureText({ text: '👨‍👩‍👧‍👦', unit: 'graphemes' })).toBe(1);
    expect(measureText({ text: '👨‍👩‍👧‍👦', unit: 'characters' })).toBe(7);
    expect(measureText({ text: '👨‍👩‍👧‍👦', unit: 'utf16' })).toBe(11);
    expect(measureText({ text: 'é', unit: 'bytes' })).toBe(2);
    expect(measureText({ text: 'a', unit: 'twitter-weighted' })).toBeUndefined();
    expect(rules({ text: 'a'.repeat(500) }, { ...strict, text: { maxLength: 10, unit: 'twitter-weighted', required: false } })).toEqual([]);
  });
});

describe('validatePost', () => {
  it('runs the capabilities for the account and post, then the provider’s own rules, once per rule and field', () => {
    const seen: Array<ProviderAccount | undefined> = [];
    const provider = Object.assign(
      createTestProvider({
        validate: ({ post, account }) => {
          seen.push(account);
          const issues: ValidationIssue[] = [{ rule: 'linkedin.text.max_length', field: 'text', message: 'rendered text is too long' }];
          if (post.text.includes('#')) issues.push({ rule: 'linkedin.text.hashtag', field: 'text', message: 'no hashtags' });
          return issues;
        },
      }),
      {
        capabilitiesFor: ({ account }: { account?: ProviderAccount }) =>
          account?.data?.premium === true ? { ...testCapabilities, text: { ...testCapabilities.text, maxLength: 1000 } } : testCapabilities,
      },
    );
    const premium: ProviderAccount = { platformAccountId: '1', data: { premium: true } };
    const long: Post = { text: `#${'a'.repeat(400)}` };
    expect(validatePost({ provider, post: long, options: {} }).map((issue) => [issue.rule, issue.message])).toEqual([
      ['linkedin.text.max_length', 'Text is 401 characters; linkedin allows 300.'],
      ['linkedin.text.hashtag', 'no hashtags'],
    ]);
    expect(validatePost({ provider, post: long, options: {}, account: premium }).map((issue) => issue.rule)).toEqual([
      'linkedin.text.max_length',
      'linkedin.text.hashtag',
    ]);
    expect(seen).toEqual([undefined, premium]);
  });
});

describe('publish preflight', () => {
  it('hands the stored account to capabilitiesFor and validate, and refuses with canonical ids', async () => {
    const accounts: Array<ProviderAccount | undefined> = [];
    const provider = Object.assign(
      createTestProvider({
        validate: ({ account }) => {
          accounts.push(account);
          return [];
        },
      }),
      {
        capabilitiesFor: ({ account }: { account?: ProviderAccount }) => {
          accounts.push(account);
          return { ...testCapabilities, text: { ...testCapabilities.text, maxLength: 5 } };
        },
      },
    );
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const failed = await errorOf(harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'longer than five' }, targets: [{ accountId: account!.id }] }));
    expect(failed.code).toBe('preflight_failed');
    expect(failed.issues).toEqual([{ field: 'post.text', rule: 'linkedin.text.max_length', message: expect.stringContaining('targets.0 (linkedin)') }]);
    expect(accounts.map((seen) => seen?.platformAccountId)).toEqual([account!.platformAccountId, account!.platformAccountId]);
    expect(provider.calls.publish).toHaveLength(0);
  });
});
