import { validatePost } from '@letmepost/core/internal';
import { describe, expect, it } from 'vitest';
import { createThreads } from './threads-provider.js';
import { renderThreadsText, threadsTextLength } from './threads-validate.js';

describe('threadsTextLength', () => {
  it('counts characters once and emojis as their UTF-8 bytes', () => {
    expect(threadsTextLength({ text: 'héllo' })).toBe(5);
    expect(threadsTextLength({ text: '😀' })).toBe(4);
    // A flag is two regional indicators (8 bytes); a family is one grapheme of 18 bytes.
    expect(threadsTextLength({ text: '🇫🇷' })).toBe(8);
    expect(threadsTextLength({ text: 'a👨‍👩‍👧b' })).toBe(2 + 18);
  });
});

describe('Threads preflight', () => {
  const threads = createThreads();
  const rules = (post: Parameters<typeof validatePost>[0]['post'], options: unknown = {}) =>
    validatePost({ provider: threads, post, options }).map((issue) => `${issue.rule}@${issue.field ?? ''}`);

  it('500 characters pass; 125 emojis (500 bytes) pass; 126 do not', () => {
    expect(rules({ text: 'a'.repeat(500) })).toEqual([]);
    expect(rules({ text: '😀'.repeat(125) })).toEqual([]);
    expect(rules({ text: '😀'.repeat(126) })).toEqual(['threads.text.max_length@text']);
  });

  it('measures a media post with its link appended, and each thread item and the first comment', () => {
    const media = [{ url: 'https://cdn.example/a.png', mimeType: 'image/png' }];
    expect(rules({ text: 'a'.repeat(490), link: 'https://letmepost.dev/a', media })).toEqual(['threads.text.max_length@text']);
    expect(rules({ text: 'a'.repeat(490), link: 'https://letmepost.dev/a' })).toEqual([]);
    expect(rules({ text: 'a', thread: [{ text: '😀'.repeat(126) }], firstComment: '😀'.repeat(126) })).toEqual([
      'threads.text.max_length@thread.0.text',
      'threads.text.max_length@firstComment',
    ]);
  });

  it('renders a text-only link as the attachment and a media post link into the text', () => {
    expect(renderThreadsText({ item: { text: 'Read', link: 'https://a.example' } })).toBe('Read');
    expect(renderThreadsText({ item: { text: 'Read', link: 'https://a.example', media: [{ url: 'https://cdn.example/a.png', mimeType: 'image/png' }] } })).toBe('Read\n\nhttps://a.example');
  });

  it('declares 20 media, JPEG/PNG and MP4/MOV, and counts identical links once', () => {
    const image = { url: 'https://cdn.example/a.png', mimeType: 'image/png' };
    expect(rules({ text: 'a', media: Array.from({ length: 21 }, () => image) })).toContain('threads.media.max_items@media');
    expect(rules({ text: 'a', media: [{ url: 'https://cdn.example/a.gif', mimeType: 'image/gif' }] })).toContain('threads.media.mime_type@media.0.mimeType');
    expect(rules({ text: 'https://a.example https://a.example https://b.example https://c.example https://d.example', link: 'https://e.example' })).toEqual([]);
  });

  it('checks topicTag and replyControl', () => {
    expect(rules({ text: 'a' }, { topicTag: 'a.b' })).toEqual(['threads.options.invalid@options.topicTag']);
    expect(rules({ text: 'a' }, { replyControl: 'followers_only', topicTag: 'letmepost' })).toEqual([]);
  });
});
