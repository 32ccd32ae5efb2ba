import { createHmac } from 'node:crypto';
import type { PublishAuth } from '@letmepost/core';
import { describe, expect, it } from 'vitest';
import error190 from './__fixtures__/error-190-expired.json' with { type: 'json' };
import error200 from './__fixtures__/error-200-permission.json' with { type: 'json' };
import error506 from './__fixtures__/error-506-duplicate.json' with { type: 'json' };
import errorThrottled from './__fixtures__/error-throttled-32.json' with { type: 'json' };
import type { FacebookCredentials } from './facebook-credentials.js';
import { createFacebook } from './facebook-provider.js';
import { useFakeGraph } from './test-support/fake-graph.js';

const APP_SECRET = 'facebook-app-secret-c4n4ry-77';
const PAGE_TOKEN = 'EAAPage101-c4n4ry-token';
const STORED_PROOF = 'stored-proof-for-page-101';
const NOW = 1_780_000_000_000;

const fakeGraph = useFakeGraph();

function provider() {
  return createFacebook({
    clientId: '1234567890',
    clientSecret: APP_SECRET,
    apiBaseUrl: fakeGraph().url,
    clock: { now: () => NOW },
    http: { retry: { maxAttempts: 1 } },
  });
}

const accountAuth: PublishAuth<FacebookCredentials> = {
  type: 'account',
  account: { platformAccountId: '101', kind: 'page', data: { pageId: '101' } },
  tokens: { accessToken: PAGE_TOKEN, secrets: { appsecretProof: STORED_PROOF } },
};

/** The recorded calls as `METHOD path` (version prefix and query left out). */
function calls(): string[] {
  return fakeGraph().server.requests.map((request) => `${request.method} ${fakeGraph().pathOf(request)}`);
}

/** Media bytes delivered lazily in `chunks` pieces, so a buffered upload could not pass as streamed. */
function lazyStream(options: { chunkBytes: number; chunks: number }): { stream: AsyncIterable<Uint8Array>; size: number } {
  return {
    size: options.chunkBytes * options.chunks,
    stream: (async function* () {
      for (let index = 0; index < options.chunks; index += 1) {
        await new Promise((resolve) => setImmediate(resolve));
        yield new Uint8Array(options.chunkBytes).fill(index % 251);
      }
    })(),
  };
}

describe('publishing to a Page at the wire', () => {
  it('text: POST /{page-id}/feed with the Page token and the proof stored at connect', async () => {
    const result = await provider().publish({ post: { text: 'Fresh bread at 7' }, auth: accountAuth, options: {} });
    expect(result).toMatchObject({ status: 'published', postId: '101_1001', url: 'https://www.facebook.com/101/posts/1001', warnings: [] });
    expect(calls()).toEqual(['POST 101/feed']);
    const [request] = fakeGraph().server.requests;
    expect(request!.url.startsWith('/v26.0/101/feed?')).toBe(true);
    expect(fakeGraph().paramsOf(request!)).toEqual({ fields: 'id,permalink_url', access_token: PAGE_TOKEN, appsecret_proof: STORED_PROOF, message: 'Fresh bread at 7' });
  });

  it('link: the link goes as `link` (Facebook renders the preview card)', async () => {
    await provider().publish({ post: { text: 'Read this', link: 'https://letmepost.dev/blog/pages' }, auth: accountAuth, options: {} });
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toMatchObject({ message: 'Read this', link: 'https://letmepost.dev/blog/pages' });
  });

  it('per-request credentials: page_id + page_access_token, the proof made with the instance app secret', async () => {
    await provider().publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { pageId: '555', pageAccessToken: 'EAAOther-c4n4ry' } }, options: {} });
    expect(calls()).toEqual(['POST 555/feed']);
    const proof = createHmac('sha256', APP_SECRET).update('EAAOther-c4n4ry').digest('hex');
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toMatchObject({ access_token: 'EAAOther-c4n4ry', appsecret_proof: proof });
  });

  it('one photo by URL: POST /{page-id}/photos with url, caption, alt text, published', async () => {
    const result = await provider().publish({
      post: { text: 'Our sourdough', media: [{ url: 'https://media.example/bread.jpg', mimeType: 'image/jpeg', altText: 'A loaf on a board' }] },
      auth: accountAuth,
      options: {},
    });
    expect(result).toMatchObject({ status: 'published', postId: '101_1002', url: 'https://www.facebook.com/101_1002' });
    expect(calls()).toEqual(['POST 101/photos']);
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toMatchObject({ url: 'https://media.example/bread.jpg', message: 'Our sourdough', alt_text_custom: 'A loaf on a board', published: 'true' });
  });

  it('one photo as bytes: a multipart `source` part, sent with an exact Content-Length', async () => {
    const data = new Uint8Array(70_000).fill(7);
    await provider().publish({ post: { text: 'bytes', media: [{ data, mimeType: 'image/png', fileName: 'bread.png' }] }, auth: accountAuth, options: {} });
    const [request] = fakeGraph().server.requests;
    expect(request!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(request!.headers['content-length'])).toBe(request!.body.length);
    expect(fakeGraph().paramsOf(request!)).toMatchObject({ source: '<file 70000 bytes>', message: 'bytes', published: 'true' });
    expect(request!.body.toString('latin1')).toContain('filename="bread.png"\r\nContent-Type: image/png');
  });

  it('several photos: each uploaded unpublished, then one feed post with attached_media', async () => {
    const result = await provider().publish({
      post: {
        text: 'Three loaves',
        link: 'https://letmepost.dev/menu',
        media: [
          { url: 'https://media.example/1.jpg', mimeType: 'image/jpeg' },
          { url: 'https://media.example/2.jpg', mimeType: 'image/jpeg', altText: 'Rye' },
          { url: 'https://media.example/3.jpg', mimeType: 'image/jpeg' },
        ],
      },
      auth: accountAuth,
      options: {},
    });
    expect(calls()).toEqual(['POST 101/photos', 'POST 101/photos', 'POST 101/photos', 'POST 101/feed']);
    const photos = fakeGraph().server.requests.slice(0, 3).map((request) => fakeGraph().paramsOf(request));
    expect(photos.map((photo) => photo.published)).toEqual(['false', 'false', 'false']);
    expect(photos[1]).toMatchObject({ alt_text_custom: 'Rye' });
    expect(photos.every((photo) => photo.message === undefined)).toBe(true);
    const feed = fakeGraph().paramsOf(fakeGraph().server.requests[3]!);
    const attached = JSON.parse(feed.attached_media ?? '[]') as Array<{ media_fbid: string }>;
    expect(attached).toHaveLength(3);
    expect(attached.every((entry) => /^\d+$/.test(entry.media_fbid))).toBe(true);
    // No card with attached photos: the link ends the message.
    expect(feed.message).toBe('Three loaves\n\nhttps://letmepost.dev/menu');
    expect(feed.link).toBeUndefined();
    expect(result).toMatchObject({ status: 'published', postId: '101_1001' });
  });

  it('a photo refused midway: nothing is posted (no feed call) and the error is typed', async () => {
    fakeGraph().failNext({ method: 'POST', path: '101/photos', status: 400, body: { error: { message: 'photo too large', code: 100, error_subcode: 1_366_046 } } });
    const error = await provider()
      .publish({ post: { text: 'x', media: [{ url: 'https://media.example/1.jpg', mimeType: 'image/jpeg' }, { url: 'https://media.example/2.jpg', mimeType: 'image/jpeg' }] }, auth: accountAuth, options: {} })
      .then(() => expect.unreachable('the publish should fail'), (caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', platform: 'facebook' });
    expect(calls()).toEqual(['POST 101/photos']);
  });

  it('video as a stream: one multipart upload to the video host, streamed in many chunks, never buffered', async () => {
    const source = lazyStream({ chunkBytes: 256 * 1024, chunks: 12 });
    const result = await provider().publish({
      post: { text: 'Behind the counter', media: [{ stream: source.stream, size: source.size, mimeType: 'video/mp4', fileName: 'counter.mp4' }] },
      auth: accountAuth,
      options: {},
    });
    expect(result).toMatchObject({ status: 'published', postId: '3001', url: 'https://www.facebook.com/101/videos/3001' });
    expect(calls()).toEqual(['POST 101/videos']);
    const [request] = fakeGraph().server.requests;
    expect(fakeGraph().paramsOf(request!)).toMatchObject({ description: 'Behind the counter', source: `<file ${source.size} bytes>`, access_token: PAGE_TOKEN, appsecret_proof: STORED_PROOF });
    expect(Number(request!.headers['content-length'])).toBe(request!.body.length);
    expect(request!.chunkCount).toBeGreaterThan(1);
  });

  it('video by URL: file_url, Meta fetches it', async () => {
    await provider().publish({ post: { text: 'v', media: [{ url: 'https://media.example/v.mp4', mimeType: 'video/mp4' }] }, auth: accountAuth, options: {} });
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[0]!)).toMatchObject({ file_url: 'https://media.example/v.mp4', description: 'v' });
  });

  it('a stream shorter than its declared size aborts the upload: the platform never receives a whole body', async () => {
    const short = (async function* () {
      yield new Uint8Array(1000);
    })();
    const error = await provider()
      .publish({ post: { text: 'v', media: [{ stream: short, size: 5000, mimeType: 'video/mp4' }] }, auth: accountAuth, options: {} })
      .then(() => expect.unreachable('the publish should fail'), (caught: unknown) => caught);
    // The bytes were already going out, so the HTTP client cannot rule out a create (its rule for
    // every write sent); the cause it names is the short source.
    expect(error).toMatchObject({ platform: 'facebook', code: 'publish_outcome_unknown' });
    expect((error as Error).message).toContain('(media_invalid)');
    expect(fakeGraph().server.requests).toHaveLength(0);
  });

  it('Reel from bytes: start, streamed upload with OAuth header, offset and file_size, then finish PUBLISHED', async () => {
    const source = lazyStream({ chunkBytes: 128 * 1024, chunks: 6 });
    const result = await provider().publish({
      post: { text: 'Sixty seconds of dough', media: [{ stream: source.stream, size: source.size, mimeType: 'video/mp4', durationSeconds: 60, width: 1080, height: 1920 }] },
      auth: accountAuth,
      options: { videoFormat: 'reel' },
    });
    expect(result).toMatchObject({ status: 'published', postId: '4001', url: 'https://www.facebook.com/reel/4001' });
    expect(calls()).toEqual(['POST 101/video_reels', 'POST video-upload/v26.0/4001', 'POST 101/video_reels']);
    const [start, upload, finish] = fakeGraph().server.requests;
    expect(fakeGraph().paramsOf(start!)).toMatchObject({ upload_phase: 'start' });
    expect(upload!.headers.authorization).toBe(`OAuth ${PAGE_TOKEN}`);
    expect(upload!.headers.offset).toBe('0');
    expect(upload!.headers.file_size).toBe(String(source.size));
    expect(upload!.body.length).toBe(source.size);
    expect(upload!.chunkCount).toBeGreaterThan(1);
    expect(upload!.url).not.toContain('access_token');
    expect(fakeGraph().paramsOf(finish!)).toMatchObject({ upload_phase: 'finish', video_id: '4001', video_state: 'PUBLISHED', description: 'Sixty seconds of dough' });
  });

  it('a Reel whose finish answers success: false is refused, not reported published', async () => {
    // Answers queue per edge in order: the start as usual, then a finish that refuses.
    fakeGraph().failNext({ method: 'POST', path: '101/video_reels', status: 200, body: { video_id: '4001', upload_url: `${fakeGraph().url}/video-upload/v26.0/4001` } });
    fakeGraph().failNext({ method: 'POST', path: '101/video_reels', status: 200, body: { success: false } });
    const publish = provider().publish({ post: { text: 'r', media: [{ url: 'https://media.example/r.mp4', mimeType: 'video/mp4' }] }, auth: accountAuth, options: { videoFormat: 'reel' } });
    await expect(publish).rejects.toMatchObject({ code: 'platform_rejected' });
  });

  it('Reel from a URL: the file_url header, no body', async () => {
    await provider().publish({ post: { text: 'r', media: [{ url: 'https://media.example/r.mp4', mimeType: 'video/mp4' }] }, auth: accountAuth, options: { videoFormat: 'reel' } });
    const upload = fakeGraph().server.requests[1]!;
    expect(upload.headers.file_url).toBe('https://media.example/r.mp4');
    expect(upload.body.length).toBe(0);
  });

  it('first comment: POST /{post-id}/comments after the post', async () => {
    const result = await provider().publish({ post: { text: 'Menu below', firstComment: 'Full menu: https://letmepost.dev/menu' }, auth: accountAuth, options: {} });
    expect(calls()).toEqual(['POST 101/feed', 'POST 101_1001/comments']);
    expect(fakeGraph().paramsOf(fakeGraph().server.requests[1]!)).toMatchObject({ message: 'Full menu: https://letmepost.dev/menu', access_token: PAGE_TOKEN });
    expect(result.warnings).toEqual([]);
  });

  it('a refused first comment leaves the post published with a warning', async () => {
    fakeGraph().failNext({ method: 'POST', path: '101_1001/comments', status: 403, body: error200 });
    const result = await provider().publish({ post: { text: 'Menu below', firstComment: 'menu' }, auth: accountAuth, options: {} });
    expect(result).toMatchObject({ status: 'published', postId: '101_1001' });
    expect(result.warnings).toEqual([{ code: 'facebook.first_comment.failed', message: 'The post was published but its first comment was not (permission_denied).' }]);
  });

  it('delete: DELETE /{post-id}; a malformed id is refused before anything is sent', async () => {
    await provider().deletePost!({ auth: accountAuth, postId: '101_1001' });
    expect(calls()).toEqual(['DELETE 101_1001']);
    await expect(provider().deletePost!({ auth: accountAuth, postId: '../me' })).rejects.toMatchObject({ code: 'validation_failed', field: 'postId' });
    expect(calls()).toHaveLength(1);
    fakeGraph().failNext({ method: 'DELETE', path: '101_1002', status: 200, body: { success: false } });
    await expect(provider().deletePost!({ auth: accountAuth, postId: '101_1002' })).rejects.toMatchObject({ code: 'platform_rejected' });
  });
});

describe('Graph errors of a publish', () => {
  const cases = [
    { name: 'expired Page token (190/463)', status: 400, body: error190, code: 'auth_expired' },
    { name: 'missing permission (200)', status: 403, body: error200, code: 'permission_denied' },
    { name: 'duplicate (506)', status: 400, body: error506, code: 'duplicate_content' },
    { name: 'duplicate refused in a 200', status: 200, body: error506, code: 'duplicate_content' },
    { name: 'Page throttled (32)', status: 400, body: errorThrottled, code: 'rate_limited' },
    { name: 'policy block (368)', status: 400, body: { error: { message: 'blocked', code: 368 } }, code: 'platform_rejected' },
  ] as const;
  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.code}, no secret in the error`, async () => {
      fakeGraph().failNext({ method: 'POST', path: '101/feed', status: testCase.status, body: testCase.body });
      const error = await provider()
        .publish({ post: { text: 'x' }, auth: accountAuth, options: {} })
        .then(() => expect.unreachable('the publish should fail'), (caught: unknown) => caught as Error & { code: string });
      expect(error.code).toBe(testCase.code);
      const serialised = JSON.stringify({ error, message: error.message });
      expect(serialised).not.toContain(PAGE_TOKEN);
      expect(serialised).not.toContain(STORED_PROOF);
    });
  }
});
