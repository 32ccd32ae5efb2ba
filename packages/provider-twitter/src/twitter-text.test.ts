import { describe, expect, it } from 'vitest';
import { extractTwitterUrls, parseTwitterText, twitterWeightedLength } from './twitter-text.js';

// Expected values are twitter-text's own conformance vectors (conformance/validate.yml, the
// `lengths` and `WeightedTweetsWithDiscountedEmojiCounterTest` sections, config v3).
describe('twitterWeightedLength', () => {
  it.each([
    ['plain ASCII', 'This is a test.', 15],
    ['a URL with http://', 'http://test.com', 23],
    ['a URL with https://', 'https://test.com', 23],
    ['a URL without protocol', 'test.com', 23],
    ['several URLs', 'Test https://test.com test https://test.com test.com test', 86],
    ['code points outside the BMP', '\u{10000}\u{10FFFF}', 4],
    ['Hangul (weight 2)', '저찀쯿쿿', 8],
    ['emoji, one weight per sequence', '😷👾😡🔥💩', 10],
    ['skin tone and ZWJ sequences', '🙋🏽👨‍🎤', 4],
    ['a family ZWJ sequence', 'H🐱☺👨‍👩‍👧‍👦', 7],
    ['Unicode 9 emoji', 'Unicode 9.0 emoji: 🤠; 💃; 💃🏾', 29],
    ['Unicode 10 emoji and a tag-sequence flag', 'Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴󠁧󠁢󠁥󠁮󠁧󠁿', 34],
    ['NFC: A + combining acute is one character', 'A\u0301B', 2],
    ['CJK punctuation and ideographs', '故人西辞黄鹤楼，', 16],
    ['General Punctuation spaces weigh 1', '\u2000\u2001\u200A\u2010\u2014\u2032', 6],
    ['a 64-character label is not a domain', 'randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com', 68],
    // Not from the conformance file: the ASCII-only fast path must still see emoji built on ASCII.
    ['keycap bases alone are plain ASCII', '#*0123456789', 12],
    ['keycap sequences are one emoji each', '#\uFE0F\u20E3 1\uFE0F\u20E3', 5],
    ['a URL followed by an emoji', 'https://test.com 🔥', 26],
    ['directional isolates around a URL with an Arabic TLD', '\u2066\u202Ahttp://foobar.پاکستان/\u202C\u2069', 31],
  ])('counts %s', (_name, text, expected) => {
    expect(twitterWeightedLength(text)).toBe(expected);
  });

  it('counts 140 family emoji as exactly the limit', () => {
    const parsed = parseTwitterText({ text: '👨‍👩‍👧‍👦'.repeat(140) });
    expect(parsed.weightedLength).toBe(280);
    expect(parsed.valid).toBe(true);
  });

  it('counts 160 CJK characters as 320, over the limit', () => {
    const text = '故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。'.repeat(5);
    expect(text.length).toBe(160);
    const parsed = parseTwitterText({ text });
    expect(parsed.weightedLength).toBe(320);
    expect(parsed.valid).toBe(false);
  });

  it('accepts 280 ASCII characters and rejects 281', () => {
    expect(parseTwitterText({ text: 'x'.repeat(280) }).valid).toBe(true);
    expect(parseTwitterText({ text: 'x'.repeat(281) }).valid).toBe(false);
  });

  it('counts a long URL as 23 so the post fits', () => {
    const text = `${'x'.repeat(256)} https://example.com/${'a'.repeat(500)}`;
    expect(parseTwitterText({ text }).weightedLength).toBe(256 + 1 + 23);
  });

  it('counts a URL whose host label exceeds 63 characters character by character', () => {
    const long = `https://${'somesuperlongurl'.repeat(5)}.com/foo`;
    const text = `${long} https://validurl.com`;
    expect(parseTwitterText({ text }).weightedLength).toBe(long.length + 1 + 23);
  });

  it('rejects the code points X refuses', () => {
    const parsed = parseTwitterText({ text: 'ABC\uFFFFABC\uFFFE' });
    expect(parsed.hasInvalidCharacters).toBe(true);
    expect(parsed.valid).toBe(false);
  });

  it('treats empty text as invalid', () => {
    expect(parseTwitterText({ text: '' }).valid).toBe(false);
  });
});

describe('extractTwitterUrls', () => {
  const urlsIn = (text: string): string[] => extractTwitterUrls({ text }).map((entity) => entity.url);

  it.each([
    ['http://example.com', ['http://example.com']],
    ['https://example.com/path/to/resource?search=foo&lang=en', ['https://example.com/path/to/resource?search=foo&lang=en']],
    ['HTTPS://www.ExaMPLE.COM/index.html', ['HTTPS://www.ExaMPLE.COM/index.html']],
    ['http://test_underscore.twitter.com', ['http://test_underscore.twitter.com']],
    ['http://☃.net/', ['http://☃.net/']],
    ['http://example.com/Русские_слова', ['http://example.com/Русские_слова']],
    ['https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-', ['https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-']],
    ['see https://en.wikipedia.org/wiki/Foo_(bar) now', ['https://en.wikipedia.org/wiki/Foo_(bar)']],
    ['(see https://example.com/page)', ['https://example.com/page']],
    ['Read example.com/a.', ['example.com/a']],
    ['www.example.com and foo.co.jp', ['www.example.com', 'foo.co.jp']],
    ['t.co and twitch.tv', ['t.co', 'twitch.tv']],
    ['a bare ccTLD name like example.de is text', []],
    ['but example.de/page is a link', ['example.de/page']],
    ['ftp://www.example.com/', []],
    ['http://domain-dash_2314352345_dfasd.foo-cow_4352.com', []],
    ['http://www.-domain4352.com/', []],
    ['http://www.domain4352-.com/', []],
    ['mail me at someone@example.com', []],
    ['#example.com and $example.com', []],
    ['a file named readme.txt', []],
    ['http://en.wikipedia.org/wiki/"#Punctuation', ['http://en.wikipedia.org/wiki/']],
    ['https://example.com日本語です', ['https://example.com']],
  ])('finds the links in %j', (text, expected) => {
    expect(urlsIn(text)).toEqual(expected);
  });

  it('stays linear on long runs of domain characters', () => {
    const text = `${'é'.repeat(200_000)} ${'a.'.repeat(50_000)}`;
    const started = performance.now();
    extractTwitterUrls({ text });
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
