import type { Media } from '@letmepost/core';
import { encodeMultipart, resolveMedia, type HttpBody, type MediaBytes } from '@letmepost/provider-utils';
import type { FacebookContext } from './facebook-context.js';
import { FACEBOOK_MAX_IMAGE_BYTES, FACEBOOK_MAX_VIDEO_BYTES } from './facebook-options.js';

/** A media item as a Graph call carries it: a URL Meta fetches, or our bytes, streamed. */
export type FacebookMediaSource = { kind: 'url'; url: string } | { kind: 'bytes'; bytes: MediaBytes };

export async function facebookMediaSource(options: { context: FacebookContext; media: Media; signal?: AbortSignal }): Promise<FacebookMediaSource> {
  const { media } = options;
  if (media.url !== undefined) return { kind: 'url', url: media.url };
  const bytes = await resolveMedia({
    media,
    fetcher: options.context.mediaFetcher(),
    maxBytes: media.mimeType.startsWith('video/') ? FACEBOOK_MAX_VIDEO_BYTES : FACEBOOK_MAX_IMAGE_BYTES,
    platform: 'facebook',
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return { kind: 'bytes', bytes };
}

/**
 * A `multipart/form-data` body whose file part is streamed from the media as it is sent, never
 * held whole: provider-utils' encoder lays out the text fields and the file part's headers (the
 * file part last, with no bytes), the file's bytes are read in before the closing boundary, and
 * the exact length goes out as Content-Length (Graph's upload hosts want one).
 */
export function streamedMultipart(options: { fields: Record<string, string>; fileField: string; bytes: MediaBytes }): HttpBody {
  const { fields, fileField, bytes } = options;
  const encoded = encodeMultipart({
    parts: [
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      { name: fileField, data: new Uint8Array(0), fileName: bytes.fileName ?? defaultFileName(bytes.mimeType), contentType: bytes.mimeType },
    ],
  });
  // The encoder ends with one chunk holding the file part's line break and the closing boundary.
  const head = encoded.chunks.slice(0, -1);
  const tail = encoded.chunks.slice(-1);
  async function* body(): AsyncIterable<Uint8Array> {
    yield* head;
    yield* bytes.open();
    yield* tail;
  }
  return { stream: body(), contentType: encoded.contentType, length: encoded.contentLength + bytes.size };
}

function defaultFileName(mimeType: string): string {
  const extension = { 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif' }[mimeType] ?? 'bin';
  return `upload.${extension}`;
}
