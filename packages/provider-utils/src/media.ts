import type { ReadStream } from 'node:fs';
import { LetmepostError, type Media, type PlatformId } from '@letmepost/core';
import type { SafeFetcher } from './safe-fetch.js';

/** Media ready to upload: size known up front, bytes streamed on demand. */
export interface MediaBytes {
  mimeType: string;
  size: number;
  fileName?: string;
  /** False for caller streams: `open()` works once. URL and in-memory sources re-open. */
  reopenable: boolean;
  /** Streams the bytes; yields exactly `size` bytes or throws `media_invalid`. */
  open(): AsyncIterable<Uint8Array>;
  /**
   * Like `open()`, but the caller supplies the memory: each `read` fills the caller's buffer.
   * For part-by-part uploads that send every part from one reused buffer. A Node file stream
   * (`fs.createReadStream`) that nobody has read yet is then read straight from its file into
   * that buffer, so a 1 GiB upload allocates nothing per read, where the stream itself would
   * allocate a fresh 64 KiB buffer per read (1 GiB of garbage for V8 to collect, which it does
   * late: peak memory grows by tens of MiB). Other sources are copied in from `open()`.
   * Counts toward the same single use as `open()` for caller streams.
   */
  openReader(): MediaReader;
}

/** Reads media into buffers the caller owns. */
export interface MediaReader {
  /**
   * Fills `target` from its start with the next bytes and resolves with how many were written:
   * `target.byteLength` until the last read, which may be shorter, then 0 once all `size` bytes
   * have been read. Throws `media_invalid` when the source holds more or fewer bytes than `size`.
   */
  read(target: Uint8Array): Promise<number>;
  /** Releases the source (closes the file, stops the stream). Safe to call more than once. */
  close(): Promise<void>;
}

export interface ResolveMediaOptions {
  media: Media;
  fetcher: SafeFetcher;
  /** Refuse media larger than this (`media_invalid`) before reading it when the size is known. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Set on errors. */
  platform?: PlatformId;
}

/**
 * Turns a post's media source into bytes with a known size, without holding whole files in
 * memory:
 * - `{ data }`: the bytes as given; re-openable.
 * - `{ stream, size }`: single use; `size` is enforced — fewer or more bytes than declared is
 *   `media_invalid` (detected while streaming, so an upload in progress fails rather than
 *   sending a short or long file).
 * - `{ url }`: fetched through the SSRF-safe fetcher. The size comes from Content-Length, or,
 *   when the server does not send one, from a counting pass over the body (bytes are discarded,
 *   not kept). Each `open()` after the first downloads again and must yield the same size.
 */
export async function resolveMedia(options: ResolveMediaOptions): Promise<MediaBytes> {
  const { media, fetcher, maxBytes, signal } = options;
  const fail = (fields: { code: 'media_invalid' | 'media_unreachable'; message: string; field?: string; cause?: unknown }) =>
    new LetmepostError({ retryable: false, ...fields, ...(options.platform === undefined ? {} : { platform: options.platform }) });
  const common = { mimeType: media.mimeType, ...(media.fileName === undefined ? {} : { fileName: media.fileName }) };
  const tooLarge = (size: number) =>
    fail({ code: 'media_invalid', message: `The media is ${size} bytes, more than the ${maxBytes}-byte limit.`, field: 'size' });

  if (media.data !== undefined) {
    const data = media.data;
    if (!(data instanceof Uint8Array)) throw fail({ code: 'media_invalid', message: 'media.data must be a Uint8Array.', field: 'data' });
    if (maxBytes !== undefined && data.byteLength > maxBytes) throw tooLarge(data.byteLength);
    const open = () =>
      (async function* bytes() {
        yield data;
      })();
    return { ...common, size: data.byteLength, reopenable: true, open, openReader: () => iterableReader(open()) };
  }

  if (media.stream !== undefined) {
    const { size } = media;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw fail({ code: 'media_invalid', message: 'A media stream needs its size in bytes (a non-negative integer).', field: 'size' });
    }
    if (maxBytes !== undefined && size > maxBytes) throw tooLarge(size);
    const source = media.stream;
    let opened = false;
    const claim = () => {
      if (opened) {
        throw fail({ code: 'media_invalid', message: 'This media stream was already read; a stream can be uploaded only once.', field: 'stream' });
      }
      opened = true;
    };
    const streamed = () => exactSize({ source: toAsyncIterable(source), size, fail, what: 'The media stream' });
    return {
      ...common,
      size,
      reopenable: false,
      open() {
        claim();
        return streamed();
      },
      openReader() {
        claim();
        return isUnreadFileStream(source) ? fileStreamReader({ stream: source, size, fail, fallback: streamed }) : iterableReader(streamed());
      },
    };
  }

  if (typeof media.url === 'string') {
    const url = media.url;
    const first = await fetcher.fetch({ url, ...(signal === undefined ? {} : { signal }), ...(maxBytes === undefined ? {} : { maxBytes }) });
    if (first.contentType === 'text/html') {
      await drain(first.body, { limit: 0 });
      throw fail({ code: 'media_invalid', message: 'The media URL returned an HTML page, not the media itself.', field: 'url' });
    }
    let size = first.contentLength;
    let pending: AsyncIterable<Uint8Array> | undefined = first.body;
    if (size === undefined) {
      // No Content-Length: count the bytes once (discarding them), then download again to upload.
      size = await drain(first.body, {});
      pending = undefined;
    }
    const knownSize = size;
    const resolved: MediaBytes = {
      ...common,
      size: knownSize,
      reopenable: true,
      openReader: () => iterableReader(resolved.open()),
      open() {
        if (pending) {
          const body = pending;
          pending = undefined;
          return exactSize({ source: body, size: knownSize, fail, what: 'The media URL' });
        }
        return (async function* refetch() {
          const again = await fetcher.fetch({ url, ...(signal === undefined ? {} : { signal }), ...(maxBytes === undefined ? {} : { maxBytes }) });
          yield* exactSize({ source: again.body, size: knownSize, fail, what: 'The media URL' });
        })();
      },
    };
    return resolved;
  }

  throw fail({ code: 'media_invalid', message: 'Media needs exactly one of url, data or stream.' });
}

type FailMediaInvalid = (fields: { code: 'media_invalid'; message: string; field?: string }) => LetmepostError;

/** The `media_invalid` for a source that holds more (`received` unset) or fewer bytes than declared. */
function sizeMismatch(fields: { fail: FailMediaInvalid; what: string; size: number; received?: number }): LetmepostError {
  const { what, size, received } = fields;
  return fields.fail({
    code: 'media_invalid',
    message:
      received === undefined
        ? `${what} has more bytes than its declared size of ${size}.`
        : `${what} ended after ${received} bytes, short of its declared size of ${size}.`,
    field: 'size',
  });
}

/** Passes a source through, failing as soon as it is longer, or at its end if shorter, than `size`. */
async function* exactSize(fields: {
  source: AsyncIterable<Uint8Array>;
  size: number;
  what: string;
  fail: FailMediaInvalid;
}): AsyncGenerator<Uint8Array, void, undefined> {
  let received = 0;
  for await (const piece of fields.source) {
    received += piece.byteLength;
    if (received > fields.size) throw sizeMismatch(fields);
    yield piece;
  }
  if (received !== fields.size) throw sizeMismatch({ ...fields, received });
}

function toAsyncIterable(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<Uint8Array>;
  const stream = source as ReadableStream<Uint8Array>;
  return (async function* readAll() {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  })();
}

async function drain(source: AsyncIterable<Uint8Array>, options: { limit?: number }): Promise<number> {
  let total = 0;
  for await (const piece of source) {
    total += piece.byteLength;
    if (options.limit !== undefined && total > options.limit) break;
  }
  return total;
}

/** Copies an iterable's pieces into the caller's buffers; the source's own checks still apply. */
function iterableReader(source: AsyncIterable<Uint8Array>): MediaReader {
  const iterator = source[Symbol.asyncIterator]();
  let pending: Uint8Array | undefined;
  let finished = false;
  return {
    async read(target) {
      let written = 0;
      while (written < target.byteLength && !finished) {
        if (pending === undefined || pending.byteLength === 0) {
          const next = await iterator.next();
          if (next.done === true) finished = true;
          else pending = next.value;
          continue;
        }
        const take = Math.min(pending.byteLength, target.byteLength - written);
        target.set(take === pending.byteLength ? pending : pending.subarray(0, take), written);
        pending = take === pending.byteLength ? undefined : pending.subarray(take);
        written += take;
      }
      return written;
    },
    async close() {
      if (finished) return;
      finished = true;
      pending = undefined;
      await iterator.return?.();
    },
  };
}

// Built-ins are reached when a file stream is uploaded, not on import: an ES module import of
// `node:fs` or `node:util` builds its whole namespace, which costs every cold start.
const fs = () => process.getBuiltinModule('node:fs');
let readAt: ((descriptor: number, target: Uint8Array, offset: number, length: number, position: number) => Promise<{ bytesRead: number }>) | undefined;
let fstat: ((descriptor: number) => Promise<import('node:fs').Stats>) | undefined;

/**
 * A Node file stream nobody has started reading, that reads the real file system (a stream
 * given its own `fs` implementation keeps going through it). Its file descriptor can then be
 * read at known positions without the stream, giving the same bytes the stream would give.
 */
function isUnreadFileStream(source: unknown): source is ReadStream {
  if (!(source instanceof fs().ReadStream)) return false;
  // The implementation a stream reads through sits under a module-private symbol.
  const implementation = Object.getOwnPropertySymbols(source).find((symbol) => symbol.description === 'kFs');
  return (
    implementation !== undefined &&
    (source as unknown as Record<symbol, unknown>)[implementation] === fs() &&
    source.bytesRead === 0 &&
    source.readableLength === 0 &&
    source.readableFlowing !== true &&
    source.readableEncoding === null &&
    !source.destroyed
  );
}

/**
 * Reads a file stream's bytes from its descriptor at explicit positions into the caller's
 * buffer. The stream opens (and finally closes) the descriptor as it would have; it just never
 * reads. A source that turns out not to be a regular file (a pipe, a device: no positions) is
 * read through the stream after all.
 */
function fileStreamReader(fields: {
  stream: ReadStream;
  size: number;
  fail: FailMediaInvalid;
  fallback: () => AsyncIterable<Uint8Array>;
}): MediaReader {
  const { stream, size, fail } = fields;
  // Set by createReadStream, though not in its type declarations.
  const state = stream as ReadStream & { fd: number | null; start?: number; end?: number };
  // createReadStream's `start` / `end` (inclusive) bound what the stream would have read.
  const start = typeof state.start === 'number' ? state.start : 0;
  const end = typeof state.end === 'number' ? state.end : Number.POSITIVE_INFINITY;
  let mode: { kind: 'file'; descriptor: number } | { kind: 'stream'; reader: MediaReader } | undefined;
  let consumed = 0;
  let closed = false;

  const prepare = async (): Promise<NonNullable<typeof mode>> => {
    if (stream.pending) await process.getBuiltinModule('node:events').once(stream, 'ready');
    const descriptor = state.fd;
    const stats = typeof descriptor === 'number' ? await (fstat ??= process.getBuiltinModule('node:util').promisify(fs().fstat))(descriptor) : undefined;
    if (typeof descriptor !== 'number' || stats === undefined || !stats.isFile()) {
      return { kind: 'stream', reader: iterableReader(fields.fallback()) };
    }
    const available = Math.max(0, Math.min(stats.size, end + 1) - start);
    if (available > size) throw sizeMismatch({ fail, what: 'The media stream', size });
    return { kind: 'file', descriptor };
  };

  return {
    async read(target) {
      if (closed) return 0;
      mode ??= await prepare();
      if (mode.kind === 'stream') return mode.reader.read(target);
      let written = 0;
      while (written < target.byteLength && consumed < size) {
        const length = Math.min(target.byteLength - written, size - consumed);
        const { bytesRead } = await (readAt ??= process.getBuiltinModule('node:util').promisify(fs().read))(mode.descriptor, target, written, length, start + consumed);
        if (bytesRead === 0) throw sizeMismatch({ fail, what: 'The media stream', size, received: consumed });
        written += bytesRead;
        consumed += bytesRead;
      }
      return written;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (mode?.kind === 'stream') await mode.reader.close();
      // Closes the descriptor, as reading the stream to its end would have (unless the caller
      // opened it with autoClose: false, and so closes it itself).
      if (!stream.destroyed) {
        // A stream still opening may yet fail to open; nobody wants its bytes any more, so that
        // error must not surface as an unhandled 'error' event.
        stream.on('error', () => undefined);
        stream.destroy();
      }
    },
  };
}
