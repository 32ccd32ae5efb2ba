import { once } from 'node:events';
import fs, { createReadStream, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { chunkReader } from './chunk.js';
import { resolveMedia, type MediaBytes } from './media.js';
import { createSafeFetcher } from './safe-fetch.js';
import { failure } from './test-support/letmepost-failure.js';
import { patternPieces } from './test-support/pattern-pieces.js';

const directory = mkdtempSync(join(tmpdir(), 'letmepost-media-reader-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

let fileCount = 0;
/** A file whose byte i is i % 251, so any misplaced or repeated range shows. */
function patternFile(size: number): { path: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index += 1) bytes[index] = index % 251;
  const path = join(directory, `file-${(fileCount += 1)}.bin`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

const resolve = (media: Parameters<typeof resolveMedia>[0]['media']) => resolveMedia({ media, fetcher: createSafeFetcher({ allowPrivateNetwork: true }) });

/** Reads through chunkReader, copying each chunk (the buffer is reused), and reports the chunk sizes. */
async function readChunks(media: MediaBytes, chunkSize: number): Promise<{ bytes: Uint8Array; sizes: number[]; buffers: Set<ArrayBufferLike> }> {
  const pieces: Uint8Array[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize, reuseBuffer: true })) {
    buffers.add(chunk.buffer);
    pieces.push(Uint8Array.from(chunk));
  }
  return { bytes: Buffer.concat(pieces), sizes: pieces.map((piece) => piece.byteLength), buffers };
}

describe('openReader on an unread fs.createReadStream', () => {
  test('reads the file into the one chunk buffer, never through the stream, then closes the stream', async () => {
    const { path, bytes } = patternFile(1024 * 1024 + 123);
    const stream = createReadStream(path);
    const media = await resolve({ stream, size: bytes.byteLength, mimeType: 'video/mp4' });
    const result = await readChunks(media, 256 * 1024);
    expect(Buffer.compare(result.bytes, bytes)).toBe(0);
    expect(result.sizes).toEqual([262144, 262144, 262144, 262144, 123]);
    expect(result.buffers.size).toBe(1);
    // Read through the stream, these would count the file's bytes.
    expect(stream.bytesRead).toBe(0);
    expect(stream.destroyed).toBe(true);
    await once(stream, 'close');
  });

  test('start and end (inclusive) select the same bytes the stream would have', async () => {
    const { path, bytes } = patternFile(5000);
    const media = await resolve({ stream: createReadStream(path, { start: 10, end: 1009 }), size: 1000, mimeType: 'video/mp4' });
    const result = await readChunks(media, 300);
    expect(Buffer.compare(result.bytes, bytes.subarray(10, 1010))).toBe(0);
    expect(result.sizes).toEqual([300, 300, 300, 100]);
  });

  test('a file larger than the declared size → media_invalid before any byte is handed out', async () => {
    const { path } = patternFile(100);
    const stream = createReadStream(path);
    const media = await resolve({ stream, size: 99, mimeType: 'video/mp4' });
    const handedOut: number[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize: 10 })) handedOut.push(chunk.byteLength);
      })(),
    );
    expect(error).toMatchObject({ code: 'media_invalid', field: 'size' });
    expect(error.message).toBe('The media stream has more bytes than its declared size of 99.');
    expect(handedOut).toEqual([]);
    expect(stream.destroyed).toBe(true);
  });

  test('a file shorter than the declared size → media_invalid once it runs out', async () => {
    const { path } = patternFile(100);
    const media = await resolve({ stream: createReadStream(path), size: 150, mimeType: 'video/mp4' });
    const handedOut: number[] = [];
    const error = await failure(
      (async () => {
        for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize: 40 })) handedOut.push(chunk.byteLength);
      })(),
    );
    expect(error.message).toBe('The media stream ended after 100 bytes, short of its declared size of 150.');
    expect(handedOut).toEqual([40, 40]);
  });

  test('reads through the stream\'s open descriptor, so a file unlinked after opening still uploads', async () => {
    const { path, bytes } = patternFile(70_000);
    const stream = createReadStream(path);
    await once(stream, 'ready');
    unlinkSync(path);
    const media = await resolve({ stream, size: bytes.byteLength, mimeType: 'video/mp4' });
    expect(Buffer.compare((await readChunks(media, 65_536)).bytes, bytes)).toBe(0);
    expect(stream.bytesRead).toBe(0);
  });

  test('a stream already started (bytes buffered) is read through the stream, buffered bytes included', async () => {
    const { path, bytes } = patternFile(200_000);
    const stream = createReadStream(path);
    await once(stream, 'readable');
    expect(stream.readableLength).toBeGreaterThan(0);
    const media = await resolve({ stream, size: bytes.byteLength, mimeType: 'video/mp4' });
    expect(Buffer.compare((await readChunks(media, 50_000)).bytes, bytes)).toBe(0);
    expect(stream.bytesRead).toBe(bytes.byteLength);
  });

  test('a stream given its own fs implementation keeps reading through it', async () => {
    const { path, bytes } = patternFile(10_000);
    let reads = 0;
    const countingFs = {
      open: fs.open,
      close: fs.close,
      read: (...parameters: Parameters<typeof fs.read>) => {
        reads += 1;
        return (fs.read as (...args: unknown[]) => void)(...parameters);
      },
    };
    const stream = createReadStream(path, { fs: countingFs });
    const media = await resolve({ stream, size: bytes.byteLength, mimeType: 'video/mp4' });
    expect(Buffer.compare((await readChunks(media, 4096)).bytes, bytes)).toBe(0);
    expect(reads).toBeGreaterThan(0);
  });

  test('a device (no positions to read at) is read through the stream', async () => {
    const stream = createReadStream('/dev/zero', { end: 99_999 });
    const media = await resolve({ stream, size: 100_000, mimeType: 'video/mp4' });
    const result = await readChunks(media, 30_000);
    expect(result.sizes).toEqual([30_000, 30_000, 30_000, 10_000]);
    expect(result.bytes.every((byte) => byte === 0)).toBe(true);
    expect(stream.bytesRead).toBe(100_000);
  });

  test('a file that cannot be opened fails with the error the stream would have raised', async () => {
    const media = await resolve({ stream: createReadStream(join(directory, 'missing.bin')), size: 10, mimeType: 'video/mp4' });
    const error = await (async () => {
      try {
        await readChunks(media, 4);
      } catch (caught) {
        return caught as NodeJS.ErrnoException;
      }
      throw new Error('expected the read to fail');
    })();
    expect(error.code).toBe('ENOENT');
  });

  test('a stream abandoned while it is still opening does not raise an unhandled error', async () => {
    const stream = createReadStream(join(directory, 'never-there.bin'));
    const media = await resolve({ stream, size: 10, mimeType: 'video/mp4' });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await media.openReader().close();
    // The open fails after the close; with no listener of its own that 'error' would be uncaught.
    await closed;
    expect(stream.destroyed).toBe(true);
  });

  test('an upload abandoned part way closes the stream', async () => {
    const { path, bytes } = patternFile(100_000);
    const stream = createReadStream(path);
    const media = await resolve({ stream, size: bytes.byteLength, mimeType: 'video/mp4' });
    for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize: 10_000 })) {
      expect(chunk.byteLength).toBe(10_000);
      break;
    }
    expect(stream.destroyed).toBe(true);
  });

  test('the stream is single use across open() and openReader()', async () => {
    const { path } = patternFile(10);
    const stream = createReadStream(path);
    const media = await resolve({ stream, size: 10, mimeType: 'video/mp4' });
    await media.openReader().close();
    await once(stream, 'close');
    expect(() => media.open()).toThrowError(expect.objectContaining({ code: 'media_invalid', field: 'stream' }));
    expect(() => media.openReader()).toThrowError(expect.objectContaining({ code: 'media_invalid', field: 'stream' }));
  });
});

describe('openReader on other sources', () => {
  const pieces = patternPieces;

  test.each([
    { name: 'small pieces', sizes: [3, 3, 3, 3, 3, 3, 3] },
    { name: 'pieces spanning several chunks', sizes: [25, 1, 9] },
    { name: 'exact multiples', sizes: [10, 10] },
    { name: 'empty pieces', sizes: [0, 7, 0, 13, 0] },
  ])('a stream ($name) gives its bytes in 10-byte chunks, the last shorter', async ({ sizes }) => {
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const bytes: number[] = [];
    for await (const piece of pieces(sizes)) bytes.push(...piece);
    const expected: number[][] = [];
    for (let offset = 0; offset < total; offset += 10) expected.push(bytes.slice(offset, offset + 10));
    const media = await resolve({ stream: pieces(sizes), size: total, mimeType: 'video/mp4' });
    const actual: number[][] = [];
    for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize: 10, reuseBuffer: true })) actual.push([...chunk]);
    expect(actual).toEqual(expected);
  });

  test('a stream keeps its declared-size check', async () => {
    const media = await resolve({ stream: pieces([4, 4]), size: 10, mimeType: 'video/mp4' });
    const error = await failure(readChunks(media, 3));
    expect(error.message).toBe('The media stream ended after 8 bytes, short of its declared size of 10.');
  });

  test('in-memory data is re-readable', async () => {
    const data = Uint8Array.from({ length: 25 }, (_, index) => index);
    const media = await resolve({ data, mimeType: 'image/png' });
    for (let round = 0; round < 2; round += 1) {
      const result = await readChunks(media, 10);
      expect([...result.bytes]).toEqual([...data]);
      expect(result.sizes).toEqual([10, 10, 5]);
    }
  });

  test('without reuseBuffer every chunk has its own buffer', async () => {
    const media = await resolve({ data: new Uint8Array(25), mimeType: 'image/png' });
    const buffers = new Set<ArrayBufferLike>();
    for await (const chunk of chunkReader({ reader: media.openReader(), chunkSize: 10 })) buffers.add(chunk.buffer);
    expect(buffers.size).toBe(3);
  });

  test('chunkSize must be a positive integer', async () => {
    const media = await resolve({ data: new Uint8Array(1), mimeType: 'image/png' });
    await expect(chunkReader({ reader: media.openReader(), chunkSize: 0 }).next()).rejects.toThrow(RangeError);
  });
});
