import type { Post } from '@letmepost/core';
import { validatePost } from '@letmepost/core/internal';
import { describe, expect, it } from 'vitest';
import type { InstagramOptions } from './instagram-options.js';
import { createInstagram } from './instagram-provider.js';
import { isPrivateMediaHost } from './instagram-validate.js';

const provider = createInstagram();
const rules = (post: Post, options: InstagramOptions = {}) => validatePost({ provider, post, options }).map((issue) => issue.rule);
const image = (extra: object = {}) => ({ url: 'https://cdn.example.com/a.jpg', mimeType: 'image/jpeg', ...extra });
const video = (extra: object = {}) => ({ url: 'https://cdn.example.com/a.mp4', mimeType: 'video/mp4', ...extra });

describe('Instagram preflight', () => {
  it('accepts an image, a Reel, a mixed carousel of 10 and a Story as they are', () => {
    expect(rules({ text: 'a', media: [image({ width: 1080, height: 1350 })] })).toEqual([]);
    expect(rules({ text: 'a', media: [video({ durationSeconds: 30 })] })).toEqual([]);
    expect(rules({ text: 'a', media: [...Array.from({ length: 9 }, () => image()), video()] })).toEqual([]);
    expect(rules({ text: '', media: [video({ durationSeconds: 15 })] }, { placement: 'story' })).toEqual([]);
  });

  it('refuses a carousel over 10 items, a PNG and an image over 8 MiB under the canonical ids', () => {
    expect(rules({ text: 'a', media: Array.from({ length: 11 }, () => image()) })).toContain('instagram.media.max_items');
    expect(rules({ text: 'a', media: [{ url: 'https://cdn.example.com/a.png', mimeType: 'image/png' }] })).toContain('instagram.media.mime_type');
    expect(rules({ text: 'a', media: [{ data: new Uint8Array(8 * 1024 * 1024 + 1), mimeType: 'image/jpeg' }] })).toContain('instagram.media.max_bytes');
  });

  it('takes feed images from 4:5 to 1.91:1 only', () => {
    expect(rules({ text: 'a', media: [image({ width: 800, height: 1000 })] })).toEqual([]);
    expect(rules({ text: 'a', media: [image({ width: 1910, height: 1000 })] })).toEqual([]);
    expect(rules({ text: 'a', media: [image({ width: 780, height: 1000 })] })).toContain('instagram.media.aspect_ratio');
    expect(rules({ text: 'a', media: [image({ width: 2000, height: 1000 })] })).toContain('instagram.media.aspect_ratio');
    // Stories are full-screen: 9:16 is what they take.
    expect(rules({ text: '', media: [image({ width: 1080, height: 1920 })] }, { placement: 'story' })).toEqual([]);
  });

  it('checks video durations: Reels 3 s to 15 min, Story videos up to 60 s', () => {
    expect(rules({ text: 'a', media: [video({ durationSeconds: 2 })] })).toContain('instagram.media.video_duration');
    expect(rules({ text: 'a', media: [video({ durationSeconds: 901 })] })).toContain('instagram.media.video_duration');
    expect(rules({ text: '', media: [video({ durationSeconds: 61 })] }, { placement: 'story' })).toContain('instagram.media.video_duration');
  });

  it('keeps Stories to one medium without caption, comment or alt text', () => {
    expect(rules({ text: '', media: [image(), image()] }, { placement: 'story' })).toContain('instagram.media.max_items');
    expect(rules({ text: '', media: [image()], firstComment: 'hi' }, { placement: 'story' })).toContain('instagram.first_comment.unsupported');
    expect(rules({ text: '', media: [image({ altText: 'x' })] }, { placement: 'story' })).toContain('instagram.media.alt_text');
  });

  it('refuses text-only posts, links, alt text on video, Reel options elsewhere and collaborators on carousels', () => {
    expect(rules({ text: 'just words' })).toContain('instagram.media.required');
    expect(rules({ text: 'a', link: 'https://letmepost.dev', media: [image()] })).toContain('instagram.link.unsupported');
    expect(rules({ text: 'a', media: [video({ altText: 'x' })] })).toContain('instagram.media.alt_text');
    expect(rules({ text: 'a', media: [image()] }, { shareToFeed: true })).toContain('instagram.options.reel_only');
    expect(rules({ text: 'a', media: [image(), image()] }, { collaborators: ['letmepost.cafe'] })).toContain('instagram.options.collaborators');
  });

  it('refuses media URLs Instagram cannot fetch: loopback, private, link-local, local names, plain http', () => {
    for (const url of ['https://127.0.0.1/a.jpg', 'https://10.1.2.3/a.jpg', 'https://169.254.169.254/a.jpg', 'https://[::1]/a.jpg', 'https://localhost/a.jpg', 'https://nas.local/a.jpg', 'https://intranet/a.jpg', 'http://cdn.example.com/a.jpg']) {
      expect(rules({ text: 'a', media: [{ url, mimeType: 'image/jpeg' }] }), url).toContain('instagram.media.url_not_public');
    }
    expect(isPrivateMediaHost('cdn.example.com')).toBe(false);
    expect(isPrivateMediaHost('151.101.1.1')).toBe(false);
    // allowPrivateNetwork (the sandbox) lets loopback media through.
    expect(validatePost({ provider: createInstagram({ allowPrivateNetwork: true }), post: { text: 'a', media: [image({ url: 'http://127.0.0.1:4000/a.jpg' })] }, options: {} })).toEqual([]);
  });
});
