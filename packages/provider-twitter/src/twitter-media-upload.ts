import type { Media } from '@letmepost/core';
import { chunkReader, resolveMedia, type MediaBytes } from '@letmepost/provider-utils';
import {
  twitterMediaResponseSchema,
  type TwitterInitializeUploadRequest,
  type TwitterMediaCategory,
  type TwitterMediaData,
  type TwitterMediaMetadataRequest,
  type TwitterProcessingInfo,
} from './twitter-api.js';
import type { TwitterContext } from './twitter-context.js';
import { mediaProcessingError } from './twitter-error.js';
import type { TwitterRequestAuth } from './twitter-credentials.js';
import { maxBytesFor, twitterMediaKind, type TwitterMediaKind } from './twitter-validate.js';

/** 4 MiB APPEND segments: under the 5 MB per-segment ceiling X inherited from v1.1. */
export const TWITTER_CHUNK_SIZE = 4 * 1024 * 1024;
const MAX_SEGMENTS = 1000;

export interface UploadedTwitterMedia {
  mediaId: string;
  kind: TwitterMediaKind;
  /** Present while X is still transcoding (videos, GIFs): the post must wait for `succeeded`. */
  processingInfo?: TwitterProcessingInfo;
}

/**
 * Uploads one file to X: images in one multipart request (`POST /2/media/upload`), GIFs and
 * videos through the chunked endpoints (initialize, append, finalize), streaming the bytes in
 * fixed-size segments so a 500 MB video never sits in memory.
 */
export async function uploadTwitterMedia(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  media: Media;
  signal?: AbortSignal;
  onProgress?: (progress: { bytesSent: number; totalBytes: number }) => void;
}): Promise<UploadedTwitterMedia> {
  const { context, media } = options;
  // Validation ran before any I/O, so the type is one X takes.
  const kind = twitterMediaKind(media.mimeType)!;
  const bytes = await resolveMedia({
    media,
    fetcher: context.mediaFetcher,
    maxBytes: maxBytesFor(kind, context.maxVideoBytes),
    platform: 'twitter',
    signal: options.signal,
  });
  const uploaded =
    kind === 'image'
      ? await uploadImage({ ...options, bytes })
      : await uploadChunked({ ...options, bytes, category: kind === 'gif' ? 'tweet_gif' : 'tweet_video' });
  const processingInfo = uploaded.processing_info;
  if (processingInfo?.state === 'failed') throw mediaProcessingError({ mediaId: uploaded.id, processingInfo });
  const done = processingInfo === undefined || processingInfo.state === 'succeeded';
  return { mediaId: uploaded.id, kind, ...(done ? {} : { processingInfo }) };
}

async function uploadImage(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  bytes: MediaBytes;
  signal?: AbortSignal;
  onProgress?: (progress: { bytesSent: number; totalBytes: number }) => void;
}): Promise<TwitterMediaData> {
  const { context, bytes } = options;
  // Images are at most 5 MB, so one multipart request with the whole file is the cheap path.
  const content = await collect(bytes.open());
  const { value } = await context.http.json({
    method: 'POST',
    url: `${context.apiBaseUrl}/2/media/upload`,
    body: {
      multipart: [
        { name: 'media', data: content, fileName: bytes.fileName ?? 'media', contentType: bytes.mimeType.toLowerCase() },
        { name: 'media_category', value: 'tweet_image' },
      ],
    },
    auth: options.auth.http,
    secrets: options.auth.secrets,
    // An upload that is repeated only leaves an unused media id behind.
    retry: 'idempotent',
    schema: twitterMediaResponseSchema(),
    signal: options.signal,
  });
  options.onProgress?.({ bytesSent: content.byteLength, totalBytes: content.byteLength });
  return value.data;
}

async function uploadChunked(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  bytes: MediaBytes;
  category: TwitterMediaCategory;
  signal?: AbortSignal;
  onProgress?: (progress: { bytesSent: number; totalBytes: number }) => void;
}): Promise<TwitterMediaData> {
  const { context, bytes, auth } = options;
  const initializeRequest: TwitterInitializeUploadRequest = {
    media_type: bytes.mimeType.toLowerCase(),
    total_bytes: bytes.size,
    media_category: options.category,
  };
  const initialized = await context.http.json({
    method: 'POST',
    url: `${context.apiBaseUrl}/2/media/upload/initialize`,
    body: { json: initializeRequest },
    auth: auth.http,
    secrets: auth.secrets,
    retry: 'idempotent',
    schema: twitterMediaResponseSchema(),
    signal: options.signal,
  });
  const mediaId = initialized.value.data.id;

  // X takes at most 1000 segments; files over ~4 GB get proportionally larger ones.
  const chunkSize = Math.max(TWITTER_CHUNK_SIZE, Math.ceil(bytes.size / MAX_SEGMENTS));
  let segmentIndex = 0;
  let bytesSent = 0;
  // One segment buffer for the whole file: each APPEND (with its retries) is awaited before the
  // next segment is read into the same buffer, which is what `reuseBuffer` requires. A file
  // stream is read straight into it, and the segment goes into the multipart body by reference,
  // so a 4 MiB segment costs no other copy and a 1 GiB file no per-read garbage.
  for await (const chunk of chunkReader({ reader: bytes.openReader(), chunkSize, reuseBuffer: true })) {
    await context.http.request({
      method: 'POST',
      url: `${context.apiBaseUrl}/2/media/upload/${mediaId}/append`,
      body: {
        multipart: [
          { name: 'segment_index', value: String(segmentIndex) },
          { name: 'media', data: chunk, fileName: 'segment', contentType: 'application/octet-stream' },
        ],
      },
      auth: auth.http,
      secrets: auth.secrets,
      // Re-sending a segment with the same index replaces it.
      retry: 'idempotent',
      signal: options.signal,
    });
    segmentIndex += 1;
    bytesSent += chunk.byteLength;
    options.onProgress?.({ bytesSent, totalBytes: bytes.size });
  }

  const finalized = await context.http.json({
    method: 'POST',
    url: `${context.apiBaseUrl}/2/media/upload/${mediaId}/finalize`,
    auth: auth.http,
    secrets: auth.secrets,
    retry: 'idempotent',
    schema: twitterMediaResponseSchema(),
    signal: options.signal,
  });
  return finalized.value.data;
}

/** `GET /2/media/upload?command=STATUS&media_id=...`: where X's processing of a file stands. */
export async function getTwitterMediaStatus(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  mediaId: string;
  signal?: AbortSignal;
}): Promise<TwitterMediaData> {
  const { context, auth } = options;
  const { value } = await context.http.json({
    method: 'GET',
    url: `${context.apiBaseUrl}/2/media/upload`,
    query: { command: 'STATUS', media_id: options.mediaId },
    auth: auth.http,
    secrets: auth.secrets,
    schema: twitterMediaResponseSchema(),
    signal: options.signal,
  });
  return value.data;
}

/** `POST /2/media/metadata`: alt text for an uploaded file (up to 1000 characters). */
export async function setTwitterAltText(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  mediaId: string;
  altText: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { context, auth } = options;
  const body: TwitterMediaMetadataRequest = { id: options.mediaId, metadata: { alt_text: { text: options.altText } } };
  await context.http.request({
    method: 'POST',
    url: `${context.apiBaseUrl}/2/media/metadata`,
    body: { json: body },
    auth: auth.http,
    secrets: auth.secrets,
    // Setting the same metadata twice leaves the same metadata.
    retry: 'idempotent',
    signal: options.signal,
  });
}

/** The whole file in one array; in-memory media (one piece) is used as it is, not copied. */
async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const pieces: Uint8Array[] = [];
  let total = 0;
  for await (const piece of source) {
    pieces.push(piece);
    total += piece.byteLength;
  }
  if (pieces.length === 1) return pieces[0]!;
  const content = new Uint8Array(total);
  let offset = 0;
  for (const piece of pieces) {
    content.set(piece, offset);
    offset += piece.byteLength;
  }
  return content;
}
