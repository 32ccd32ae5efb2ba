import { LetmepostError, type Media } from '@letmepost/core';
import { chunkReader, pollUntil, resolveMedia, trackProgress, type MediaBytes } from '@letmepost/provider-utils';
import {
  linkedInInitializeImageUploadSchema,
  linkedInInitializeVideoUploadSchema,
  linkedInVideoSchema,
  type LinkedInInitializeVideoUpload,
  type LinkedInVideo,
} from './linkedin-api.js';
import { isTrustedUploadUrl, restHeaders, restUrl, type LinkedInClient } from './linkedin-client.js';
import { LINKEDIN_VIDEO_MAX_BYTES } from './linkedin-options.js';

export interface UploadProgress {
  (event: { bytesSent: number; totalBytes: number }): void;
}

interface UploadCommon {
  client: LinkedInClient;
  accessToken: string;
  /** The author URN; LinkedIn only lets that author use the media. */
  owner: string;
  media: Media;
  onProgress?: UploadProgress;
  signal?: AbortSignal;
}

function uploadAuth(options: { client: LinkedInClient; url: string; accessToken: string }) {
  return isTrustedUploadUrl({ client: options.client, url: options.url }) ? { bearer: options.accessToken } : undefined;
}

async function resolve(options: UploadCommon & { maxBytes?: number }): Promise<MediaBytes> {
  return resolveMedia({
    media: options.media,
    fetcher: options.client.mediaFetcher(),
    platform: 'linkedin',
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
}

/**
 * Images API: `initializeUpload` for the owner, then the bytes streamed with one PUT to the
 * returned upload URL. Returns the `urn:li:image:…` to reference in the post.
 */
export async function uploadLinkedInImage(options: UploadCommon): Promise<string> {
  const { client, accessToken, owner, signal } = options;
  const bytes = await resolve(options);
  const { value: initialized } = await client.mediaHttp.json({
    method: 'POST',
    url: restUrl({ client, path: '/rest/images' }),
    query: { action: 'initializeUpload' },
    headers: restHeaders(client),
    auth: { bearer: accessToken },
    body: { json: { initializeUploadRequest: { owner } } },
    // Registering an upload creates nothing visible; repeating it only wastes a slot.
    retry: 'idempotent',
    schema: linkedInInitializeImageUploadSchema(),
    secrets: [accessToken],
    ...(signal !== undefined ? { signal } : {}),
  });
  const { uploadUrl, image } = initialized.value;
  const auth = uploadAuth({ client, url: uploadUrl, accessToken });
  await client.mediaHttp.request({
    method: 'PUT',
    url: uploadUrl,
    body: {
      stream: trackProgress({
        source: bytes.open(),
        totalBytes: bytes.size,
        ...(options.onProgress !== undefined
          ? { onProgress: (bytesSent: number, totalBytes: number) => options.onProgress?.({ bytesSent, totalBytes }) }
          : {}),
      }),
      contentType: bytes.mimeType,
      length: bytes.size,
    },
    ...(auth !== undefined ? { auth } : {}),
    // A stream cannot be replayed, so this PUT is sent once; the upload URL carries a signature.
    retry: 'create',
    secrets: [accessToken, uploadUrl],
    ...(signal !== undefined ? { signal } : {}),
  }).catch((error: unknown) => {
    throw asUploadFailure({ error, what: 'image' });
  });
  return image;
}

/** A failed upload is never "outcome unknown": no post exists yet, so it is simply a failure. */
function asUploadFailure(options: { error: unknown; what: string }): unknown {
  const { error } = options;
  if (LetmepostError.isInstance(error) && error.code === 'publish_outcome_unknown') {
    return new LetmepostError({
      code: 'platform_unavailable',
      message: `The ${options.what} upload to LinkedIn was interrupted; nothing was posted.`,
      platform: 'linkedin',
      ...(error.status !== undefined ? { status: error.status } : {}),
      cause: error,
    });
  }
  return error;
}

/** Checks the part plan: contiguous from 0 to the last byte, equal parts but the last. */
function partPlan(options: {
  instructions: LinkedInInitializeVideoUpload['value']['uploadInstructions'];
  size: number;
}): { partSize: number; parts: Array<{ uploadUrl: string; length: number }> } {
  const sorted = [...options.instructions].sort((left, right) => left.firstByte - right.firstByte);
  const partSize = (sorted[0] as (typeof sorted)[number]).lastByte - (sorted[0] as (typeof sorted)[number]).firstByte + 1;
  let expectedFirst = 0;
  const parts = sorted.map((instruction, index) => {
    const length = instruction.lastByte - instruction.firstByte + 1;
    const isLast = index === sorted.length - 1;
    if (instruction.firstByte !== expectedFirst || length <= 0 || (!isLast && length !== partSize) || (isLast && length > partSize)) {
      throw new LetmepostError({
        code: 'platform_rejected',
        message: `LinkedIn returned upload instructions this uploader cannot follow (part ${index} covers bytes ${instruction.firstByte}-${instruction.lastByte}).`,
        platform: 'linkedin',
      });
    }
    expectedFirst = instruction.lastByte + 1;
    return { uploadUrl: instruction.uploadUrl, length };
  });
  if (expectedFirst !== options.size) {
    throw new LetmepostError({
      code: 'platform_rejected',
      message: `LinkedIn's upload instructions cover ${expectedFirst} bytes but the video has ${options.size}.`,
      platform: 'linkedin',
    });
  }
  return { partSize, parts };
}

/**
 * Videos API: `initializeUpload` with the size, each part PUT to its own URL in order (bounded
 * memory: one part at a time), the parts' ETags collected, then `finalizeUpload`.
 * Returns the `urn:li:video:…`; LinkedIn then processes it asynchronously.
 */
export async function uploadLinkedInVideo(options: UploadCommon): Promise<string> {
  const { client, accessToken, owner, signal } = options;
  const bytes = await resolve({ ...options, maxBytes: LINKEDIN_VIDEO_MAX_BYTES });
  const { value: initialized } = await client.mediaHttp.json({
    method: 'POST',
    url: restUrl({ client, path: '/rest/videos' }),
    query: { action: 'initializeUpload' },
    headers: restHeaders(client),
    auth: { bearer: accessToken },
    body: {
      json: {
        initializeUploadRequest: { owner, fileSizeBytes: bytes.size, uploadCaptions: false, uploadThumbnail: false },
      },
    },
    retry: 'idempotent',
    schema: linkedInInitializeVideoUploadSchema(),
    secrets: [accessToken],
    ...(signal !== undefined ? { signal } : {}),
  });
  const { video, uploadToken, uploadInstructions } = initialized.value;
  const { partSize, parts } = partPlan({ instructions: uploadInstructions, size: bytes.size });

  const etags: string[] = [];
  let bytesSent = 0;
  let index = 0;
  // One part buffer for the whole video: each PUT (with its retries) is awaited before the next
  // part is read into it, which is what `reuseBuffer` requires. A file stream is read straight
  // into it.
  for await (const chunk of chunkReader({ reader: bytes.openReader(), chunkSize: partSize, reuseBuffer: true })) {
    const part = parts[index];
    if (part === undefined || chunk.byteLength !== part.length) {
      throw new LetmepostError({
        code: 'media_invalid',
        message: `The video stream did not match its declared size (${bytes.size} bytes).`,
        platform: 'linkedin',
      });
    }
    const auth = uploadAuth({ client, url: part.uploadUrl, accessToken });
    const response = await client.mediaHttp
      .request({
        method: 'PUT',
        url: part.uploadUrl,
        // A part is held in memory, so re-sending it after a dropped connection is safe.
        body: { bytes: chunk, contentType: 'application/octet-stream' },
        ...(auth !== undefined ? { auth } : {}),
        retry: 'idempotent',
        secrets: [accessToken, part.uploadUrl],
        ...(signal !== undefined ? { signal } : {}),
      })
      .catch((error: unknown) => {
        throw asUploadFailure({ error, what: 'video' });
      });
    const etag = response.headers.etag;
    if (etag === undefined || etag.length === 0) {
      throw new LetmepostError({
        code: 'platform_rejected',
        message: `LinkedIn accepted video part ${index} without an ETag, so the upload cannot be finalized.`,
        platform: 'linkedin',
        status: response.status,
      });
    }
    etags.push(etag);
    bytesSent += chunk.byteLength;
    options.onProgress?.({ bytesSent, totalBytes: bytes.size });
    index += 1;
  }
  if (index !== parts.length) {
    throw new LetmepostError({
      code: 'media_invalid',
      message: `The video stream ended after ${bytesSent} of ${bytes.size} bytes.`,
      platform: 'linkedin',
    });
  }

  await client.mediaHttp.request({
    method: 'POST',
    url: restUrl({ client, path: '/rest/videos' }),
    query: { action: 'finalizeUpload' },
    headers: restHeaders(client),
    auth: { bearer: accessToken },
    body: { json: { finalizeUploadRequest: { video, uploadToken: uploadToken ?? '', uploadedPartIds: etags } } },
    retry: 'idempotent',
    secrets: [accessToken],
    ...(signal !== undefined ? { signal } : {}),
  });
  return video;
}

export type LinkedInVideoState =
  | { state: 'available' }
  | { state: 'processing'; status: string }
  | { state: 'failed'; reason?: string }
  /** The token may not read the video (member tokens often cannot); LinkedIn holds the post. */
  | { state: 'unreadable' };

export async function getLinkedInVideoState(options: {
  client: LinkedInClient;
  accessToken: string;
  video: string;
  signal?: AbortSignal;
}): Promise<LinkedInVideoState> {
  const { client, accessToken, video, signal } = options;
  let value: LinkedInVideo;
  try {
    ({ value } = await client.http.json({
      method: 'GET',
      url: restUrl({ client, path: `/rest/videos/${encodeURIComponent(video)}` }),
      headers: restHeaders(client),
      auth: { bearer: accessToken },
      schema: linkedInVideoSchema(),
      secrets: [accessToken],
      ...(signal !== undefined ? { signal } : {}),
    }));
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'permission_denied') return { state: 'unreadable' };
    throw error;
  }
  if (value.status === 'AVAILABLE') return { state: 'available' };
  if (value.status === 'PROCESSING_FAILED') {
    return value.processingFailureReason !== undefined
      ? { state: 'failed', reason: value.processingFailureReason }
      : { state: 'failed' };
  }
  return { state: 'processing', status: value.status };
}

/**
 * Looks at a video until it is usable or `maxWaitMs` has passed (then it is still processing),
 * through the shared `pollUntil`.
 */
export async function waitForLinkedInVideo(options: {
  client: LinkedInClient;
  accessToken: string;
  video: string;
  signal?: AbortSignal;
}): Promise<LinkedInVideoState> {
  const { pollIntervalMs, maxWaitMs } = options.client.videoProcessing;
  const { value } = await pollUntil({
    check: () => getLinkedInVideoState(options),
    isDone: (state) => state.state !== 'processing',
    intervalMs: pollIntervalMs,
    maxWaitMs,
    sleep: options.client.sleep,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  // Never undefined: the first look is not delayed, so there is always one.
  return value as LinkedInVideoState;
}
