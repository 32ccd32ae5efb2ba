import type { Media, Post } from '@letmepost/core';
import { validatePost } from '@letmepost/provider-utils';
import { describe, expect, it } from 'vitest';
import { createLinkedIn } from './linkedin-provider.js';

const provider = createLinkedIn();
/** Everything core's preflight reports: declared capabilities, then LinkedIn's own rules. */
const validate = (post: Post) => validatePost({ provider, post, options: {} });
const rules = (post: Post) => validate(post).map((issue) => issue.rule);
const image = (overrides: Partial<Media> = {}): Media => ({ data: new Uint8Array(10), mimeType: 'image/png', ...overrides }) as Media;
const video = (size = 100_000, overrides: Partial<Media> = {}): Media =>
  ({ data: new Uint8Array(size), mimeType: 'video/mp4', ...overrides }) as Media;

describe('validateLinkedInPost', () => {
  it('accepts the shapes LinkedIn takes', () => {
    expect(rules({ text: 'hello' })).toEqual([]);
    expect(rules({ text: '', link: 'https://example.com' })).toEqual([]);
    expect(rules({ text: '', media: [image()] })).toEqual([]);
    expect(rules({ text: 'x', media: Array.from({ length: 20 }, () => image()) })).toEqual([]);
    expect(rules({ text: 'x', media: [video()] })).toEqual([]);
    expect(rules({ text: 'x'.repeat(3000) })).toEqual([]);
  });

  it('counts UTF-16 code units against 3000, as LinkedIn does', () => {
    // 1500 astral emoji are 3000 code units: at the limit, not over it.
    expect(rules({ text: '🚀'.repeat(1500) })).toEqual([]);
    expect(rules({ text: `${'🚀'.repeat(1500)}a` })).toEqual(['linkedin.text.max_length']);
  });

  it('counts a link that joins the text when media is attached', () => {
    const issues = validate({ text: 'x'.repeat(2990), link: 'https://example.com/long', media: [image()] });
    expect(issues).toEqual([expect.objectContaining({ rule: 'linkedin.text.max_length', field: 'text' })]);
  });

  it('requires some content', () => {
    expect(rules({ text: '   ' })).toEqual(['linkedin.text.required']);
  });

  it('refuses threads and replies', () => {
    expect(rules({ text: 'a', thread: [{ text: 'b' }], replyTo: 'urn:li:share:1' })).toEqual([
      'linkedin.thread.unsupported',
      'linkedin.reply.unsupported',
    ]);
  });

  it('enforces the media combinations', () => {
    expect(rules({ text: 'a', media: [video(), image()] })).toEqual(['linkedin.media.mixed']);
    expect(rules({ text: 'a', media: [video(), video()] })).toEqual(['linkedin.media.max_videos']);
    expect(rules({ text: 'a', media: Array.from({ length: 21 }, () => image()) })).toEqual(['linkedin.media.max_items', 'linkedin.media.max_images']);
  });

  it('checks types, alt text, video size and duration, image pixels with field paths', () => {
    const issues = validate({
      text: 'a',
      media: [image({ mimeType: 'image/webp' }), image({ altText: 'x'.repeat(4087) }), image({ width: 8000, height: 6000 })],
    });
    expect(issues.map((issue) => [issue.rule, issue.field])).toEqual([
      ['linkedin.media.mime_type', 'media.0.mimeType'],
      ['linkedin.media.alt_text', 'media.1.altText'],
      ['linkedin.media.image_pixels', 'media.2.width'],
    ]);
    expect(rules({ text: 'a', media: [video(1000)] })).toEqual(['linkedin.media.min_bytes']);
    expect(rules({ text: 'a', media: [{ stream: (async function* empty() {})(), size: 500_000_001, mimeType: 'video/mp4' }] })).toEqual([
      'linkedin.media.max_bytes',
    ]);
    expect(rules({ text: 'a', media: [video(100_000, { durationSeconds: 2 })] })).toEqual(['linkedin.media.video_duration']);
    expect(rules({ text: 'a', media: [video(100_000, { mimeType: 'video/quicktime' })] })).toEqual(['linkedin.media.mime_type']);
  });
});
