import type { Media, PlatformId } from '@letmepost/core';
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

export async function resolveMedia(options: ResolveMediaOptions): Promise<MediaBytes> {
  void options;
  throw new Error('resolveMedia: not implemented yet');
}
