import { describe, expect, it } from 'vitest';
import { convertToTwitterPost, parseTwitterPostId, toCreatePostRequest, twitterPostUrl } from './convert-to-twitter-post.js';

describe('convertToTwitterPost', () => {
  it('lays out root, thread replies and first comment in publish order', () => {
    const plan = convertToTwitterPost({
      post: { text: 'root', link: 'https://a.example', thread: [{ text: 'two' }, { text: '' , link: 'https://b.example' }], firstComment: 'c', replyTo: 'https://x.com/u/status/5' },
    });
    expect(plan).toEqual({
      replyToPostId: '5',
      items: [
        { index: 0, role: 'root', text: 'root\n\nhttps://a.example', media: [], fieldPrefix: '' },
        { index: 1, role: 'thread', text: 'two', media: [], fieldPrefix: 'thread.0.' },
        { index: 2, role: 'thread', text: 'https://b.example', media: [], fieldPrefix: 'thread.1.' },
        { index: 3, role: 'first-comment', text: 'c', media: [], fieldPrefix: 'firstComment' },
      ],
    });
  });

  it('does not repeat a link the text already contains', () => {
    expect(convertToTwitterPost({ post: { text: 'see https://a.example now', link: 'https://a.example' } }).items[0]!.text).toBe('see https://a.example now');
  });
});

describe('parseTwitterPostId', () => {
  it.each([
    ['1445880548472328192', '1445880548472328192'],
    [' 20 ', '20'],
    ['https://x.com/jack/status/20', '20'],
    ['https://twitter.com/jack/status/20?s=46&t=abc', '20'],
    ['https://mobile.twitter.com/jack/statuses/20', '20'],
    ['https://x.com/i/web/status/1445880548472328192', '1445880548472328192'],
    ['https://x.com/jack', undefined],
    ['https://evil.example/jack/status/20', undefined],
    ['12345678901234567890', undefined],
    ['20/../users', undefined],
  ])('%s → %s', (input, expected) => {
    expect(parseTwitterPostId(input)).toBe(expected);
  });
});

describe('twitterPostUrl', () => {
  it('uses the handle when known and X’s handle-free form otherwise', () => {
    expect(twitterPostUrl({ postId: '20', username: 'jack' })).toBe('https://x.com/jack/status/20');
    expect(twitterPostUrl({ postId: '20' })).toBe('https://x.com/i/web/status/20');
  });
});

describe('toCreatePostRequest', () => {
  it('sends only the fields in use', () => {
    expect(toCreatePostRequest({ text: 'hi', mediaIds: [] })).toEqual({ text: 'hi' });
    expect(
      toCreatePostRequest({ text: '', mediaIds: ['1', '2'], inReplyToPostId: '9', publishOptions: { replySettings: 'verified' } }),
    ).toEqual({ text: '', media: { media_ids: ['1', '2'] }, reply: { in_reply_to_tweet_id: '9' }, reply_settings: 'verified' });
  });
});
