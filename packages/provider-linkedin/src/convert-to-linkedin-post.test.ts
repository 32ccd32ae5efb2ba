import { describe, expect, it } from 'vitest';
import { convertToLinkedInContent, convertToLinkedInPost, escapeLittleText, planLinkedInPost } from './convert-to-linkedin-post.js';

describe('escapeLittleText', () => {
  it('backslash-escapes every reserved character so nothing is parsed or truncated', () => {
    expect(escapeLittleText('a \\ | { } @ [ ] ( ) < > * _ ~ z')).toBe(
      'a \\\\ \\| \\{ \\} \\@ \\[ \\] \\( \\) \\< \\> \\* \\_ \\~ z',
    );
  });

  it('leaves plain text, emoji and non-Latin scripts untouched', () => {
    expect(escapeLittleText('Grüße → 你好 🚀 done.')).toBe('Grüße → 你好 🚀 done.');
  });

  it('keeps hashtags clickable but escapes # that does not start one', () => {
    expect(escapeLittleText('#launch day, C# and F#, issue #42, a#b, # alone, ##x')).toBe(
      '#launch day, C\\# and F\\#, issue #42, a\\#b, \\# alone, \\#\\#x',
    );
    expect(escapeLittleText('#café #日本')).toBe('#café #日本');
  });

  it('escapes a would-be mention so it stays literal text', () => {
    expect(escapeLittleText('ping @[Acme](urn:li:organization:1)')).toBe('ping \\@\\[Acme\\]\\(urn:li:organization:1\\)');
  });

  it('escapes reserved characters inside URLs too (the parser does not exempt them)', () => {
    expect(escapeLittleText('see https://en.wikipedia.org/wiki/Rust_(language)')).toBe(
      'see https://en.wikipedia.org/wiki/Rust\\_\\(language\\)',
    );
  });
});

describe('planLinkedInPost', () => {
  it('makes a text post', () => {
    expect(planLinkedInPost({ post: { text: 'hi' } })).toEqual({ shape: 'text', commentary: 'hi', linkInlined: false, warnings: [] });
  });

  it('makes an article card for a link without media', () => {
    expect(planLinkedInPost({ post: { text: 'read', link: 'https://example.com/a' } })).toMatchObject({
      shape: 'article',
      commentary: 'read',
      linkInlined: false,
    });
  });

  it('moves the link into the text when media takes the content slot, with a warning', () => {
    const plan = planLinkedInPost({
      post: { text: 'read', link: 'https://example.com/a', media: [{ data: new Uint8Array(1), mimeType: 'image/png' }] },
    });
    expect(plan).toMatchObject({ shape: 'image', commentary: 'read\n\nhttps://example.com/a', linkInlined: true });
    expect(plan.warnings.map((warning) => warning.code)).toEqual(['linkedin.link.inlined']);
  });

  it('does not repeat a link already in the text', () => {
    const plan = planLinkedInPost({
      post: { text: 'read https://example.com/a', link: 'https://example.com/a', media: [{ data: new Uint8Array(1), mimeType: 'image/png' }] },
    });
    expect(plan.commentary).toBe('read https://example.com/a');
  });

  it('tells single image, multi-image and video apart', () => {
    const image = { data: new Uint8Array(1), mimeType: 'image/jpeg' };
    expect(planLinkedInPost({ post: { text: '', media: [image, image] } }).shape).toBe('multi-image');
    expect(planLinkedInPost({ post: { text: '', media: [{ data: new Uint8Array(1), mimeType: 'video/mp4' }] } }).shape).toBe('video');
  });
});

describe('convertToLinkedInPost / convertToLinkedInContent', () => {
  it('builds the Posts API body with escaped commentary and defaults', () => {
    expect(convertToLinkedInPost({ author: 'urn:li:person:abc', commentary: 'v1 (beta)', publishOptions: {} })).toEqual({
      author: 'urn:li:person:abc',
      commentary: 'v1 \\(beta\\)',
      visibility: 'PUBLIC',
      distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
    });
  });

  it('titles an article from the options, or from the host with a warning', () => {
    const plan = planLinkedInPost({ post: { text: '', link: 'https://blog.example.com/post?id=1' } });
    expect(
      convertToLinkedInContent({ plan, link: 'https://blog.example.com/post?id=1', uploaded: [], publishOptions: { linkTitle: 'Post', linkDescription: 'About' } }),
    ).toEqual({ content: { article: { source: 'https://blog.example.com/post?id=1', title: 'Post', description: 'About' } }, warnings: [] });
    const defaulted = convertToLinkedInContent({ plan, link: 'https://blog.example.com/post?id=1', uploaded: [], publishOptions: {} });
    expect(defaulted.content).toEqual({ article: { source: 'https://blog.example.com/post?id=1', title: 'blog.example.com' } });
    expect(defaulted.warnings.map((warning) => warning.code)).toEqual(['linkedin.link.title_defaulted']);
  });

  it('puts alt text on each image of a multi-image', () => {
    const plan = planLinkedInPost({
      post: { text: '', media: [{ data: new Uint8Array(1), mimeType: 'image/png' }, { data: new Uint8Array(1), mimeType: 'image/png' }] },
    });
    const { content } = convertToLinkedInContent({
      plan,
      uploaded: [
        { kind: 'image', urn: 'urn:li:image:1', altText: 'first' },
        { kind: 'image', urn: 'urn:li:image:2' },
      ],
      publishOptions: {},
    });
    expect(content).toEqual({ multiImage: { images: [{ id: 'urn:li:image:1', altText: 'first' }, { id: 'urn:li:image:2' }] } });
  });
});
