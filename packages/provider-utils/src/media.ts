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
    return {
      ...common,
      size: data.byteLength,
      reopenable: true,
      open: () => (async function* bytes() {
        yield data;
      })(),
    };
  }

  if (media.stream !== undefined) {
    const { size } = media;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw fail({ code: 'media_invalid', message: 'A media stream needs its size in bytes (a non-negative integer).', field: 'size' });
    }
    if (maxBytes !== undefined && size > maxBytes) throw tooLarge(size);
    const source = media.stream;
    let opened = false;
    return {
      ...common,
      size,
      reopenable: false,
      open() {
        if (opened) {
          throw fail({ code: 'media_invalid', message: 'This media stream was already read; a stream can be uploaded only once.', field: 'stream' });
        }
        opened = true;
        return exactSize({ source: toAsyncIterable(source), size, fail, what: 'The media stream' });
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
    return {
      ...common,
      size: knownSize,
      reopenable: true,
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
  }

  throw fail({ code: 'media_invalid', message: 'Media needs exactly one of url, data or stream.' });
}

/** Passes a source through, failing as soon as it is longer, or at its end if shorter, than `size`. */
async function* exactSize(fields: {
  source: AsyncIterable<Uint8Array>;
  size: number;
  what: string;
  fail: (fields: { code: 'media_invalid'; message: string; field?: string }) => LetmepostError;
}): AsyncGenerator<Uint8Array, void, undefined> {
  let received = 0;
  for await (const piece of fields.source) {
    received += piece.byteLength;
    if (received > fields.size) {
      throw fields.fail({ code: 'media_invalid', message: `${fields.what} has more bytes than its declared size of ${fields.size}.`, field: 'size' });
    }
    yield piece;
  }
  if (received !== fields.size) {
    throw fields.fail({
      code: 'media_invalid',
      message: `${fields.what} ended after ${received} bytes, short of its declared size of ${fields.size}.`,
      field: 'size',
    });
  }
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
