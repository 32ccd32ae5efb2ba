import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { LEXICON_ROOT, createLexiconValidator } from './test-support/lexicon-validator.js';

// The validator that the publish tests run every recorded createRecord record through; these
// cases prove it rejects what the official lexicons reject (a validator that cannot fail proves
// nothing). Records produced by the provider are checked at the end of bluesky-publish.test.ts.

const blob = (mimeType: string, size: number) => ({
  $type: 'blob',
  ref: { $link: 'bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa' },
  mimeType,
  size,
});
const base = { $type: 'app.bsky.feed.post', text: 'hello', createdAt: '2026-03-01T12:00:00.000Z' };
const image = (overrides: Record<string, unknown> = {}) => ({ image: blob('image/png', 1000), alt: '', ...overrides });
// One grapheme, 25 UTF-8 bytes.
const family = '👨‍👩‍👧‍👦';

describe('lexicon contract validator', () => {
  const validator = createLexiconValidator();
  const check = (record: unknown) => validator.validateRecord({ nsid: 'app.bsky.feed.post', record });

  test('the official lexicons are present', () => {
    expect(existsSync(`${LEXICON_ROOT}app/bsky/feed/post.json`), LEXICON_ROOT).toBe(true);
  });

  test('accepts a full, valid post', () => {
    expect(
      check({
        ...base,
        langs: ['en', 'pt-BR'],
        facets: [{ index: { byteStart: 0, byteEnd: 5 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'hello' }] }],
        reply: {
          root: { uri: 'at://did:plc:abc/app.bsky.feed.post/3ljxq6mckzs2c', cid: 'bafyreig2fjxi3rptqdgylg7e5h' },
          parent: { uri: 'at://did:plc:abc/app.bsky.feed.post/3ljxq6mckzs2d', cid: 'bafyreig2fjxi3rptqdgylg7e5i' },
        },
        embed: { $type: 'app.bsky.embed.images', images: [image({ aspectRatio: { width: 4, height: 3 } })] },
        labels: { $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'nudity' }] },
      }),
    ).toEqual([]);
  });

  test.each<[string, Record<string, unknown>]>([
    ['301 graphemes', { ...base, text: 'a'.repeat(301) }],
    ['3001+ bytes within 300 graphemes', { ...base, text: family.repeat(121) }],
    ['a missing createdAt', { $type: 'app.bsky.feed.post', text: 'hi' }],
    ['a datetime without timezone', { ...base, createdAt: '2026-03-01T12:00:00' }],
    ['a misspelt field', { ...base, lang: ['en'] }],
    ['four languages', { ...base, langs: ['en', 'de', 'fr', 'es'] }],
    ['a facet without byteEnd', { ...base, facets: [{ index: { byteStart: 0 }, features: [] }] }],
    ['a mention facet with a handle instead of a DID', { ...base, facets: [{ index: { byteStart: 0, byteEnd: 3 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'bob.test' }] }] }],
    ['an unknown facet feature type', { ...base, facets: [{ index: { byteStart: 0, byteEnd: 3 }, features: [{ $type: 'app.bsky.richtext.facet#bold' }] }] }],
    ['five images', { ...base, embed: { $type: 'app.bsky.embed.images', images: [image(), image(), image(), image(), image()] } }],
    ['an image without alt', { ...base, embed: { $type: 'app.bsky.embed.images', images: [{ image: blob('image/png', 10) }] } }],
    ['a video blob in an images embed', { ...base, embed: { $type: 'app.bsky.embed.images', images: [image({ image: blob('video/mp4', 10) })] } }],
    ['an image over 2 MB', { ...base, embed: { $type: 'app.bsky.embed.images', images: [image({ image: blob('image/jpeg', 2_000_001) })] } }],
    ['an aspect ratio of zero', { ...base, embed: { $type: 'app.bsky.embed.images', images: [image({ aspectRatio: { width: 0, height: 3 } })] } }],
    ['an external embed without title', { ...base, embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://x.test', description: '' } } }],
    ['a link thumb over 1 MB', { ...base, embed: { $type: 'app.bsky.embed.external', external: { uri: 'https://x.test', title: '', description: '', thumb: blob('image/png', 1_000_001) } } }],
    ['a video embed without its blob', { ...base, embed: { $type: 'app.bsky.embed.video', alt: 'x' } }],
    ['a video over 300 MB', { ...base, embed: { $type: 'app.bsky.embed.video', video: blob('video/mp4', 300_000_001) } }],
    ['a reply without root', { ...base, reply: { parent: { uri: 'at://did:plc:abc/app.bsky.feed.post/3ljxq6mckzs2c', cid: 'bafyreig2fjxi3rptqdgylg7e5h' } } }],
    ['a strong ref to an https URL', { ...base, reply: { root: { uri: 'https://bsky.app/x', cid: 'bafyreig2fjxi3rptqdgylg7e5h' }, parent: { uri: 'https://bsky.app/x', cid: 'bafyreig2fjxi3rptqdgylg7e5h' } } }],
    ['an embed with an unknown $type', { ...base, embed: { $type: 'app.bsky.embed.poll', options: [] } }],
  ])('rejects %s', (_name, record) => {
    expect(check(record)).not.toEqual([]);
  });

  test('300 graphemes of 25-byte clusters is over the byte limit, 120 is not', () => {
    expect(check({ ...base, text: family.repeat(120) })).toEqual([]);
    expect(check({ ...base, text: family.repeat(121) }).join()).toMatch(/lexMaxBytes/);
  });
});
