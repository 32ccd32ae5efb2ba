import type { Media, Post, ProviderAccount } from '@letmepost/core';
import { validatePost } from '@letmepost/provider-utils';
import { describe, expect, it } from 'vitest';
import { createTwitter } from './twitter-provider.js';
import { validateTwitterPost } from './twitter-validate.js';

const provider = createTwitter();

/** Everything core's preflight reports: declared capabilities, then X's own rules. */
const rules = (post: Post, options: unknown = {}, account?: ProviderAccount) =>
  validatePost({ provider, post, options, ...(account !== undefined && { account }) }).map((issue) => [issue.rule, issue.field]);

const png = (extra: Partial<Media> = {}): Media => ({ data: new Uint8Array(8), mimeType: 'image/png', ...extra }) as Media;

describe('validateTwitterPost', () => {
  it('accepts a post at exactly 280 weighted characters, counting URLs as 23', () => {
    const text = `${'a'.repeat(256)} https://example.com/${'p'.repeat(400)}`;
    expect(rules({ text })).toEqual([]);
    expect(rules({ text: `${text}x` })).toEqual([]);
    expect(rules({ text: `b${text}` })).toEqual([['twitter.text.max_length', 'text']]);
  });

  it('counts the appended link (and its blank line) against the limit', () => {
    expect(rules({ text: 'a'.repeat(255), link: 'https://letmepost.dev/a-rather-long-path' })).toEqual([]);
    expect(rules({ text: 'a'.repeat(256), link: 'https://letmepost.dev/x' })).toEqual([['twitter.text.max_length', 'text']]);
  });

  it('requires text or media in every item, naming the item', () => {
    expect(rules({ text: '', media: [png()] })).toEqual([]);
    expect(rules({ text: '  ', thread: [{ text: 'ok' }, { text: '' }] })).toEqual([
      ['twitter.text.required', 'text'],
      ['twitter.text.required', 'thread.1.text'],
    ]);
  });

  it('checks the first comment like any post', () => {
    expect(rules({ text: 'ok', firstComment: '字'.repeat(141) })).toEqual([['twitter.text.max_length', 'firstComment']]);
  });

  it('allows four images, or one video or GIF, never mixed', () => {
    expect(rules({ text: 'a', media: [png(), png(), png(), png()] })).toEqual([]);
    expect(rules({ text: 'a', media: [png(), png(), png(), png(), png()] })).toEqual([
      ['twitter.media.max_items', 'media'],
      ['twitter.media.max_images', 'media'],
    ]);
    expect(rules({ text: 'a', media: [png({ mimeType: 'image/gif' }), png({ mimeType: 'image/gif' })] })).toEqual([['twitter.media.max_videos', 'media']]);
    expect(rules({ text: 'a', thread: [{ text: 'b', media: [png({ mimeType: 'image/gif' }), png()] }] })).toEqual([['twitter.media.mixed', 'thread.0.media']]);
  });

  it('names unsupported types, empty files, oversized files and long alt text by field', () => {
    expect(
      rules({
        text: 'a',
        media: [
          png({ mimeType: 'image/bmp' }),
          png({ data: new Uint8Array(0) }),
          png({ data: new Uint8Array(5 * 1024 * 1024 + 1) }),
          png({ altText: '€'.repeat(1001) }),
        ],
      }),
    ).toEqual([
      ['twitter.media.mime_type', 'media.0.mimeType'],
      ['twitter.media.max_bytes', 'media.2'],
      ['twitter.media.empty', 'media.1'],
      ['twitter.media.alt_text', 'media.3.altText'],
    ]);
    expect(rules({ text: 'a', media: [png({ altText: '€'.repeat(1000) })] })).toEqual([]);
  });

  it('checks declared stream sizes against the per-kind limit', () => {
    const stream = (async function* empty() {})();
    expect(rules({ text: 'a', media: [{ stream, size: 15 * 1024 * 1024, mimeType: 'image/gif' }] })).toEqual([]);
    expect(rules({ text: 'a', media: [{ stream, size: 15 * 1024 * 1024 + 1, mimeType: 'image/gif' }] })).toEqual([['twitter.media.max_bytes', 'media.0']]);
    expect(rules({ text: 'a', media: [{ stream, size: 512 * 1024 * 1024 + 1, mimeType: 'video/mp4' }] })).toEqual([['twitter.media.max_bytes', 'media.0']]);
  });

  it('accepts replyTo as an id or a post URL and refuses anything else', () => {
    expect(rules({ text: 'a', replyTo: '1799999999999999999' })).toEqual([]);
    expect(rules({ text: 'a', replyTo: 'https://twitter.com/jack/status/20' })).toEqual([]);
    expect(rules({ text: 'a', replyTo: 'https://x.com/i/web/status/20' })).toEqual([]);
    expect(rules({ text: 'a', replyTo: 'https://example.com/jack/status/20' })).toEqual([['twitter.reply_to.invalid', 'replyTo']]);
  });

  it('reports invalid options by path', () => {
    expect(rules({ text: 'a' }, { replySettings: 'everyone', extra: true })).toEqual([
      ['twitter.options.invalid', 'options.replySettings'],
      ['twitter.options.invalid', 'options'],
    ]);
  });

  it('reports code points X refuses', () => {
    expect(rules({ text: 'a\uFFFEb' })).toEqual([['twitter.text.invalid_characters', 'text']]);
  });
});

describe('account-dependent limits', () => {
  const premium: ProviderAccount = { platformAccountId: '1', data: { subscriptionType: 'Premium' } };
  const basic: ProviderAccount = { platformAccountId: '1', data: { subscriptionType: 'None' } };

  it('lets a Premium account post up to 25,000 weighted characters, and no one else', () => {
    const long = 'a'.repeat(25_000);
    expect(rules({ text: long }, {}, premium)).toEqual([]);
    expect(rules({ text: `${long}a` }, {}, premium)).toEqual([['twitter.text.max_length', 'text']]);
    expect(rules({ text: 'a'.repeat(281) }, {}, basic)).toEqual([['twitter.text.max_length', 'text']]);
    expect(rules({ text: 'a'.repeat(281) })).toEqual([['twitter.text.max_length', 'text']]);
    expect(provider.capabilitiesFor!({ account: premium, post: { text: '' } }).text.maxLength).toBe(25_000);
  });

  it('allows a GIF up to 15 MB while still images stay at 5 MB', () => {
    const gif = png({ mimeType: 'image/gif', data: new Uint8Array(10 * 1024 * 1024) });
    expect(rules({ text: 'a', media: [gif] })).toEqual([]);
    expect(rules({ text: 'a', media: [png({ data: new Uint8Array(10 * 1024 * 1024) })] })).toEqual([['twitter.media.max_bytes', 'media.0']]);
  });
});

describe('maxVideoBytes', () => {
  const bigVideo = { stream: (async function* () {})(), size: 600 * 1024 * 1024, mimeType: 'video/mp4' } as const;

  it('refuses a video over the 512 MiB baseline by default', () => {
    expect(validateTwitterPost({ post: { text: 'v', media: [bigVideo] }, options: {} }).map((issue) => issue.rule)).toEqual(['twitter.media.max_bytes']);
  });

  it('accepts it when the host raised the cap for a Premium account', () => {
    expect(validateTwitterPost({ post: { text: 'v', media: [bigVideo] }, options: {}, maxVideoBytes: 1024 * 1024 * 1024 })).toEqual([]);
  });
});
