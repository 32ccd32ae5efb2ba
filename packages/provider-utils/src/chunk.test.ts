import { describe, expect, test } from 'vitest';
import { chunkReader, trackProgress } from './chunk.js';
import { resolveMedia } from './media.js';
import { createSafeFetcher } from './safe-fetch.js';
import { patternPieces } from './test-support/pattern-pieces.js';

const pieces = patternPieces;

/** Chunks of a streamed source of `size` bytes, read the way the uploaders read them. */
async function* chunksOf(options: { source: AsyncIterable<Uint8Array>; size: number; chunkSize: number; reuseBuffer?: boolean }) {
  const media = await resolveMedia({ media: { stream: options.source, size: options.size, mimeType: 'video/mp4' }, fetcher: createSafeFetcher() });
  yield* chunkReader({ reader: media.openReader(), chunkSize: options.chunkSize, ...(options.reuseBuffer === undefined ? {} : { reuseBuffer: options.reuseBuffer }) });
}

const total = (sizes: number[]) => sizes.reduce((sum, size) => sum + size, 0);

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of source) out.push(Uint8Array.from(chunk));
  return out;
}

function concat(chunks: Uint8Array[]): number[] {
  return chunks.flatMap((chunk) => [...chunk]);
}

describe('chunkReader over a stream', () => {
  test.each([
    { name: 'small pieces', sizes: [3, 3, 3, 3, 3, 3, 3] },
    { name: 'one large piece', sizes: [23] },
    { name: 'mixed, with empty pieces', sizes: [0, 1, 9, 0, 15, 2, 4] },
    { name: 'exact multiple', sizes: [5, 5, 5, 5] },
  ])('$name: exact-size chunks, last shorter, bytes unchanged', async ({ sizes }) => {
    const size = total(sizes);
    const chunks = await collect(chunksOf({ source: pieces(sizes), size, chunkSize: 5 }));
    expect(chunks.slice(0, -1).every((chunk) => chunk.byteLength === 5)).toBe(true);
    expect(chunks.at(-1)!.byteLength).toBe(size % 5 === 0 ? 5 : size % 5);
    expect(concat(chunks)).toEqual(concat(await collect(pieces(sizes))));
  });

  test('empty source yields nothing', async () => {
    expect(await collect(chunksOf({ source: pieces([]), size: 0, chunkSize: 4 }))).toEqual([]);
  });

  test('bounded memory: never reads more than one chunk plus one source piece ahead', async () => {
    const pieceSize = 64 * 1024 + 7;
    const chunkSize = 1024 * 1024;
    let pulled = 0;
    async function* large(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 1024; index += 1) {
        pulled += pieceSize;
        yield new Uint8Array(pieceSize);
      }
    }
    let consumed = 0;
    let maxAhead = 0;
    for await (const chunk of chunksOf({ source: large(), size: 1024 * pieceSize, chunkSize })) {
      consumed += chunk.byteLength;
      maxAhead = Math.max(maxAhead, pulled - consumed);
    }
    expect(consumed).toBe(1024 * pieceSize);
    expect(maxAhead).toBeLessThanOrEqual(pieceSize);
  });

  test('without reuseBuffer every assembled chunk is its own buffer (a consumer may keep it)', async () => {
    const kept: Uint8Array[] = [];
    for await (const chunk of chunksOf({ source: pieces([3, 3, 3, 3]), size: 12, chunkSize: 4 })) kept.push(chunk);
    expect(new Set(kept.map((chunk) => chunk.buffer)).size).toBe(kept.length);
    expect(concat(kept)).toEqual(concat(await collect(pieces([3, 3, 3, 3]))));
  });

  test('reuseBuffer: one buffer for every chunk, refilled only once the consumer asks for the next', async () => {
    const expected = concat(await collect(pieces([3, 3, 3, 3, 3])));
    let pulledPieces = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const piece of pieces([3, 3, 3, 3, 3])) {
        pulledPieces += 1;
        yield piece;
      }
    }
    const buffers = new Set<ArrayBufferLike>();
    const seen: number[][] = [];
    let previous: { chunk: Uint8Array; bytes: number[] } | undefined;
    let offset = 0;
    const chunks = chunksOf({ source: counted(), size: 15, chunkSize: 4, reuseBuffer: true });
    for (;;) {
      const next = await chunks.next();
      if (previous && next.done !== true && next.value.buffer === previous.chunk.buffer) {
        // The contract made visible: a kept chunk changes under the consumer once it moves on.
        expect([...previous.chunk]).not.toEqual(previous.bytes);
      }
      if (next.done === true) break;
      const chunk = next.value;
      // While the consumer holds a chunk, nothing more is read from the source into the buffer.
      const pulledWhileHeld = pulledPieces;
      await new Promise((resolve) => setImmediate(resolve));
      expect(pulledPieces).toBe(pulledWhileHeld);
      expect([...chunk]).toEqual(expected.slice(offset, offset + chunk.byteLength));
      offset += chunk.byteLength;
      buffers.add(chunk.buffer);
      seen.push([...chunk]);
      previous = { chunk, bytes: [...chunk] };
    }
    expect(seen.map((chunk) => chunk.length)).toEqual([4, 4, 4, 3]);
    expect(seen.flat()).toEqual(expected);
    expect(buffers.size).toBe(1);
  });

  test('rejects a non-positive chunk size', async () => {
    await expect(collect(chunksOf({ source: pieces([1]), size: 1, chunkSize: 0 }))).rejects.toThrow(RangeError);
  });
});

test('trackProgress reports the running total after each piece', async () => {
  const seen: Array<[number, number]> = [];
  const chunks = await collect(trackProgress({ source: pieces([4, 0, 6]), totalBytes: 10, onProgress: (sent, total) => seen.push([sent, total]) }));
  expect(chunks.map((chunk) => chunk.byteLength)).toEqual([4, 0, 6]);
  expect(seen).toEqual([[4, 10], [4, 10], [10, 10]]);
});
