import { describe, expect, test } from 'vitest';
import { detectFacets, resolveFacets } from './bluesky-facets.js';

// Expected offsets were computed independently (Python: text.encode('utf-8').index(substring)).
describe('detectFacets', () => {
  test('counts UTF-8 bytes, not UTF-16 units, after emoji and CJK text', () => {
    const text = '🦋 日本語 hi @alice.bsky.social see https://example.com/a?b=1. #atproto!';
    expect(detectFacets({ text })).toEqual([
      { type: 'mention', handle: 'alice.bsky.social', byteStart: 18, byteEnd: 36 },
      { type: 'link', uri: 'https://example.com/a?b=1', byteStart: 41, byteEnd: 66 },
      { type: 'tag', tag: 'atproto', byteStart: 68, byteEnd: 76 },
    ]);
  });

  test('handles ZWJ emoji sequences, full-width hash signs and links in parentheses', () => {
    const text = '👨‍👩‍👧 café ＃日本 (https://x.test/path) #123 #tag_ok.';
    expect(detectFacets({ text })).toEqual([
      { type: 'tag', tag: '日本', byteStart: 25, byteEnd: 34 },
      { type: 'link', uri: 'https://x.test/path', byteStart: 36, byteEnd: 55 },
      // `#123` is only digits: not a tag, as in the Bluesky app.
      { type: 'tag', tag: 'tag_ok', byteStart: 62, byteEnd: 69 },
    ]);
  });

  test('ignores e-mail addresses, handles without a TLD and a # inside a word', () => {
    expect(detectFacets({ text: 'mail bob@example.com or @localhost or c#sharp' })).toEqual([]);
  });

  test('lower-cases mention handles (handles are case-insensitive)', () => {
    expect(detectFacets({ text: '@Alice.BSKY.social' })).toEqual([
      { type: 'mention', handle: 'alice.bsky.social', byteStart: 0, byteEnd: 18 },
    ]);
  });

  test('a fragment inside a link does not become a tag', () => {
    const facets = detectFacets({ text: 'read https://example.com/page#section now' });
    expect(facets).toEqual([{ type: 'link', uri: 'https://example.com/page#section', byteStart: 5, byteEnd: 37 }]);
  });

  test('a bare domain with a known TLD is a link to https://, covering the text as written', () => {
    const text = 'see example.com/page, or docs.bsky.app. (wiki.example.org) café.fr';
    expect(detectFacets({ text })).toEqual([
      { type: 'link', uri: 'https://example.com/page', byteStart: 4, byteEnd: 20 },
      { type: 'link', uri: 'https://docs.bsky.app', byteStart: 25, byteEnd: 38 },
      { type: 'link', uri: 'https://wiki.example.org', byteStart: 41, byteEnd: 57 },
    ]);
  });

  test('leaves file names, version numbers and upper-case TLDs alone, as the Bluesky app does', () => {
    expect(detectFacets({ text: 'open notes.txt, run v1.2.3 or node.js, visit EXAMPLE.COM' })).toEqual([]);
  });

  test('drops tags longer than 64 graphemes', () => {
    expect(detectFacets({ text: `#${'a'.repeat(65)}` })).toEqual([]);
    expect(detectFacets({ text: `#${'a'.repeat(64)}` })).toHaveLength(1);
  });
});

describe('resolveFacets', () => {
  test('turns mentions into DIDs and leaves unresolvable ones as text with one warning', async () => {
    const asked: string[] = [];
    const result = await resolveFacets({
      text: '@known.example.com and @ghost.example.com twice @ghost.example.com',
      resolveHandle: async ({ handle }) => {
        asked.push(handle);
        return handle === 'known.example.com' ? 'did:plc:knownknownknownknownknown' : undefined;
      },
    });
    expect(asked).toEqual(['known.example.com', 'ghost.example.com']);
    expect(result.facets).toEqual([
      {
        index: { byteStart: 0, byteEnd: 18 },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:knownknownknownknownknown' }],
      },
    ]);
    expect(result.warnings).toEqual([
      {
        code: 'bluesky.mention.unresolved',
        message: '@ghost.example.com does not resolve to a Bluesky account; it was posted as plain text.',
      },
    ]);
  });
});
