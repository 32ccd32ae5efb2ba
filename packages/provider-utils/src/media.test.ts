import type { Media } from '@letmepost/core';
import { afterEach, describe, expect, test } from 'vitest';
import { startLocalServer, type LocalServer } from './test-support/local-server.js';
import { resolveMedia } from './media.js';
import { createSafeFetcher } from './safe-fetch.js';
import { failure } from './test-support/letmepost-failure.js';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const localFetcher = () => createSafeFetcher({ allowPrivateNetwork: true });

async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of source) pieces.push(piece);
  return Buffer.concat(pieces);
}

async function* generate(sizes: number[]): AsyncGenerator<Uint8Array> {
  for (const size of sizes) yield new Uint8Array(size).fill(7);
}

describe('data sources', () => {
  test('size known, re-openable', async () => {
    const media = await resolveMedia({ media: { data: new Uint8Array([1, 2, 3]), mimeType: 'image/png', fileName: 'a.png' }, fetcher: localFetcher() });
    expect(media).toMatchObject({ size: 3, mimeType: 'image/png', fileName: 'a.png', reopenable: true });
    expect([...(await readAll(media.open()))]).toEqual([1, 2, 3]);
    expect([...(await readAll(media.open()))]).toEqual([1, 2, 3]);
  });

  test('over maxBytes → media_invalid', async () => {
    const error = await failure(resolveMedia({ media: { data: new Uint8Array(11), mimeType: 'image/png' }, fetcher: localFetcher(), maxBytes: 10, platform: 'bluesky' }));
    expect(error).toMatchObject({ code: 'media_invalid', platform: 'bluesky', retryable: false });
  });
});

describe('stream sources', () => {
  test('exact size passes through; single use', async () => {
    const media = await resolveMedia({ media: { stream: generate([4, 4, 2]), size: 10, mimeType: 'video/mp4' }, fetcher: localFetcher() });
    expect(media).toMatchObject({ size: 10, reopenable: false });
    expect((await readAll(media.open())).byteLength).toBe(10);
    expect(() => media.open()).toThrowError(expect.objectContaining({ code: 'media_invalid' }));
  });

  test('fewer bytes than declared → media_invalid at the end', async () => {
    const media = await resolveMedia({ media: { stream: generate([4, 4]), size: 10, mimeType: 'video/mp4' }, fetcher: localFetcher() });
    const error = await failure(readAll(media.open()));
    expect(error.code).toBe('media_invalid');
    expect(error.message).toContain('ended after 8 bytes, short of its declared size of 10');
  });

  test('more bytes than declared → media_invalid as soon as it overflows', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled += 1;
        yield new Uint8Array(4);
      }
    }
    const media = await resolveMedia({ media: { stream: endless(), size: 10, mimeType: 'video/mp4' }, fetcher: localFetcher() });
    const error = await failure(readAll(media.open()));
    expect(error.code).toBe('media_invalid');
    expect(error.message).toContain('more bytes than its declared size of 10');
    expect(pulled).toBe(3);
  });

  test('a web ReadableStream works too', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2]));
        controller.enqueue(new Uint8Array([3]));
        controller.close();
      },
    });
    const media = await resolveMedia({ media: { stream, size: 3, mimeType: 'image/gif' }, fetcher: localFetcher() });
    expect([...(await readAll(media.open()))]).toEqual([1, 2, 3]);
  });

  test('declared size over maxBytes → media_invalid before reading anything', async () => {
    let pulled = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      pulled = true;
      yield new Uint8Array(1);
    }
    const error = await failure(resolveMedia({ media: { stream: source(), size: 100, mimeType: 'video/mp4' }, fetcher: localFetcher(), maxBytes: 50 }));
    expect(error.code).toBe('media_invalid');
    expect(pulled).toBe(false);
  });

  test('a missing or invalid size → media_invalid naming size', async () => {
    const error = await failure(
      resolveMedia({ media: { stream: generate([1]), size: -1, mimeType: 'video/mp4' } as Media, fetcher: localFetcher() }),
    );
    expect(error).toMatchObject({ code: 'media_invalid', field: 'size' });
  });
});

describe('url sources', () => {
  test('Content-Length gives the size; the first open streams the probe, later ones re-fetch', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': '6' }).end('jpeg!!');
    });
    const media = await resolveMedia({ media: { url: `${server.origin}/a.jpg`, mimeType: 'image/jpeg' }, fetcher: localFetcher() });
    expect(media).toMatchObject({ size: 6, reopenable: true, mimeType: 'image/jpeg' });
    expect(server.requests).toHaveLength(1);
    expect((await readAll(media.open())).toString()).toBe('jpeg!!');
    expect(server.requests).toHaveLength(1);
    expect((await readAll(media.open())).toString()).toBe('jpeg!!');
    expect(server.requests).toHaveLength(2);
  });

  test('without Content-Length: a counting pass (nothing kept), then a fresh download per open', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'video/mp4' });
      response.write(Buffer.alloc(1000, 1));
      response.end(Buffer.alloc(234, 2));
    });
    const media = await resolveMedia({ media: { url: `${server.origin}/v.mp4`, mimeType: 'video/mp4' }, fetcher: localFetcher() });
    expect(media.size).toBe(1234);
    expect(server.requests).toHaveLength(1);
    expect((await readAll(media.open())).byteLength).toBe(1234);
    expect(server.requests).toHaveLength(2);
  });

  test('content that changed size between downloads → media_invalid', async () => {
    server = await startLocalServer((_request, response) => {
      const body = server!.requests.length === 1 ? 'short' : 'much longer now';
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(body.length) }).end(body);
    });
    const media = await resolveMedia({ media: { url: `${server.origin}/p.png`, mimeType: 'image/png' }, fetcher: localFetcher() });
    await readAll(media.open());
    const error = await failure(readAll(media.open()));
    expect(error.code).toBe('media_invalid');
  });

  test('an HTML page instead of media → media_invalid', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>login</html>'));
    const error = await failure(resolveMedia({ media: { url: `${server.origin}/p.png`, mimeType: 'image/png' }, fetcher: localFetcher() }));
    expect(error).toMatchObject({ code: 'media_invalid', field: 'url' });
  });

  test('a URL the fetcher refuses → media_unreachable, nothing fetched', async () => {
    server = await startLocalServer((_request, response) => response.end('x'));
    const error = await failure(resolveMedia({ media: { url: `${server.origin}/p.png`, mimeType: 'image/png' }, fetcher: createSafeFetcher() }));
    expect(error.code).toBe('media_unreachable');
    expect(server.requests).toHaveLength(0);
  });

  test('larger than maxBytes by Content-Length → media_invalid', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(200, { 'content-length': '2048' }).end(Buffer.alloc(2048)));
    const error = await failure(resolveMedia({ media: { url: `${server.origin}/p.png`, mimeType: 'image/png' }, fetcher: localFetcher(), maxBytes: 1024 }));
    expect(error.code).toBe('media_invalid');
  });
});
