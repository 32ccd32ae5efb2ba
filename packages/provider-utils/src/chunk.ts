import type { MediaReader } from './media.js';

export interface ChunkReaderOptions {
  reader: MediaReader;
  /** Bytes per chunk; every chunk but the last has exactly this size. */
  chunkSize: number;
  /**
   * Read every chunk into one buffer, reused, instead of a fresh one per chunk. A chunk is then
   * valid only until the consumer asks for the next one: by then it must be completely done with
   * it — sent, answered, any retry finished. A sequential upload loop (`for await` over the
   * chunks, awaiting each part's request before the next iteration) meets this; a consumer that
   * keeps chunks, or sends several at once, must not set it. Default false.
   *
   * Without it a long upload allocates a new chunk-sized buffer per part, and the garbage piles
   * up outside the JavaScript heap faster than V8 collects it.
   */
  reuseBuffer?: boolean;
}

/**
 * Fixed-size chunks for part-by-part uploads (X APPEND segments, LinkedIn/YouTube parts), read
 * from a `MediaReader` into buffers this function owns, so a file source is read straight into
 * the chunk (no per-read allocation). Holds one chunk, plus at most one source piece for other
 * sources, whatever the total size. Closes the reader when done, failed or abandoned.
 */
export async function* chunkReader(options: ChunkReaderOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { reader, chunkSize } = options;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) {
    throw new RangeError(`chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  let buffer: Uint8Array | undefined;
  try {
    for (;;) {
      if (buffer === undefined || options.reuseBuffer !== true) buffer = new Uint8Array(chunkSize);
      let filled = 0;
      while (filled < chunkSize) {
        const read = await reader.read(filled === 0 ? buffer : buffer.subarray(filled));
        if (read === 0) break;
        filled += read;
      }
      if (filled === 0) return;
      yield filled === chunkSize ? buffer : buffer.subarray(0, filled);
      if (filled < chunkSize) return;
    }
  } finally {
    await reader.close();
  }
}

export interface TrackProgressOptions {
  source: AsyncIterable<Uint8Array>;
  totalBytes: number;
  /** Called after each piece has been handed on, with the running total. */
  onProgress?: (bytesSent: number, totalBytes: number) => void;
}

/** Passes bytes through unchanged and reports how many have gone by. */
export async function* trackProgress(options: TrackProgressOptions): AsyncGenerator<Uint8Array, void, undefined> {
  let bytesSent = 0;
  for await (const piece of options.source) {
    yield piece;
    bytesSent += piece.byteLength;
    options.onProgress?.(bytesSent, options.totalBytes);
  }
}
