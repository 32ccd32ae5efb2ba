import { LetmepostError, type Media, type PublishWarning } from '@letmepost/core';
import { knownMediaSize, pollUntil, resolveMedia, trackProgress, type HttpBody, type MediaBytes } from '@letmepost/provider-utils';
import {
  describeServerResponseSchema,
  getJobStatusResponseSchema,
  serviceAuthResponseSchema,
  uploadBlobResponseSchema,
  uploadLimitsResponseSchema,
  uploadVideoResponseSchema,
  type BlobRef,
  type JobStatus,
} from './bluesky-api.js';
import type { BlueskyContext } from './bluesky-context.js';
import { mapBlueskyError } from './bluesky-error.js';
import type { SessionHandle } from './bluesky-session.js';
import { BLUESKY_LIMITS } from './bluesky-validate.js';

/** How often the PDS's advertised blob limit is re-read. */
const BLOB_LIMIT_TTL_MS = 60 * 60 * 1000;
/** Uploads can take minutes; the answer only comes once the last byte is in. */
const UPLOAD_TIMEOUTS = { headersMs: 10 * 60 * 1000 };
/** Service-auth tokens for the video upload; the docs recommend 30 minutes. */
const VIDEO_UPLOAD_TOKEN_SECONDS = 30 * 60;

function tooLarge(options: { field: string; size: number | undefined; limit: number; rule: string; what: string }): LetmepostError {
  const size = options.size === undefined ? 'larger than' : `${options.size} bytes; over`;
  return new LetmepostError({
    code: 'media_invalid',
    platform: 'bluesky',
    message: `The ${options.what} at ${options.field} is ${size} the ${options.limit}-byte limit of this Bluesky PDS.`,
    rule: options.rule,
    field: options.field,
    remediation: 'Compress or downscale the file before publishing.',
  });
}

/**
 * The PDS's own `blobUploadLimit` (`com.atproto.server.describeServer`). Bluesky's PDS takes far
 * larger blobs than a self-hosted default (5 MB), so the effective image limit is the smaller of
 * this and the lexicon's. Unknown when the PDS does not say or cannot be asked.
 */
export async function pdsBlobLimit(options: { context: BlueskyContext; pdsUrl: string; signal?: AbortSignal }): Promise<number | undefined> {
  const { context, pdsUrl, signal } = options;
  const cached = context.blobLimits.get(pdsUrl);
  if (cached && context.clock.now() - cached.readAt < BLOB_LIMIT_TTL_MS) return cached.limit;
  let limit: number | undefined;
  try {
    const { value } = await context.http.json({
      method: 'GET',
      url: `${pdsUrl}/xrpc/com.atproto.server.describeServer`,
      schema: describeServerResponseSchema(),
      signal,
    });
    limit = value.blobUploadLimit;
  } catch (error) {
    // Not knowing the limit only loses the early check; the upload itself still enforces it.
    if (!LetmepostError.isInstance(error)) throw error;
    limit = undefined;
  }
  context.blobLimits.set(pdsUrl, { limit, readAt: context.clock.now() });
  return limit;
}

async function resolveWithin(options: {
  context: BlueskyContext;
  media: Media;
  limit: number;
  field: string;
  rule: string;
  what: string;
  signal?: AbortSignal;
}): Promise<MediaBytes> {
  const { context, media, limit, field, rule, what, signal } = options;
  const size = knownMediaSize(media);
  if (size !== undefined && size > limit) throw tooLarge({ field, size, limit, rule, what });
  let resolved: MediaBytes;
  try {
    resolved = await resolveMedia({ media, fetcher: context.fetcher, maxBytes: limit, signal, platform: 'bluesky' });
  } catch (error) {
    // A URL whose size only shows once fetched: keep the caller-facing rule stable.
    if (LetmepostError.isInstance(error) && error.code === 'media_invalid' && 'url' in media && media.url !== undefined) {
      throw new LetmepostError({
        code: 'media_invalid',
        platform: 'bluesky',
        message: `${error.message} (${field})`,
        rule: error.rule ?? rule,
        field,
        cause: error,
      });
    }
    throw error;
  }
  if (resolved.size > limit) throw tooLarge({ field, size: resolved.size, limit, rule, what });
  return resolved;
}

/** A request body plus what its source threw, if it failed while being sent. */
interface UploadBody {
  body: HttpBody;
  sourceError(): LetmepostError | undefined;
}

/**
 * In-memory bytes go out as they are; anything else is streamed with its Content-Length. A
 * source that fails mid-upload (a stream shorter than its declared size) surfaces from the HTTP
 * layer as a network failure; the source's own `media_invalid` is kept so it can be reported.
 */
function uploadBody(options: {
  media: Media;
  resolved: MediaBytes;
  contentType: string;
  onProgress?: (bytesSent: number) => void;
}): UploadBody {
  const { media, resolved, contentType, onProgress } = options;
  if (media.data !== undefined) return { body: { bytes: media.data, contentType }, sourceError: () => undefined };
  let failure: LetmepostError | undefined;
  const source = trackProgress({ source: resolved.open(), totalBytes: resolved.size, onProgress: (sent) => onProgress?.(sent) });
  async function* guarded(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      yield* source;
    } catch (error) {
      if (LetmepostError.isInstance(error)) failure = error;
      throw error;
    }
  }
  return { body: { stream: guarded(), contentType, length: resolved.size }, sourceError: () => failure };
}

/** Sends an upload; when the body's own source failed, that error is the one reported. */
async function sendUpload<T>(options: { upload: UploadBody; send: (body: HttpBody) => Promise<T> }): Promise<T> {
  try {
    return await options.send(options.upload.body);
  } catch (error) {
    throw options.upload.sourceError() ?? error;
  }
}

async function uploadBlobBody(options: {
  context: BlueskyContext;
  session: SessionHandle;
  body: () => UploadBody;
  signal?: AbortSignal;
}): Promise<BlobRef> {
  const { context, session, signal } = options;
  const { value } = await session.call((accessJwt) =>
    sendUpload({
      upload: options.body(),
      send: (body) =>
        context.http.json({
          method: 'POST',
          url: `${session.pdsUrl}/xrpc/com.atproto.repo.uploadBlob`,
          auth: { bearer: accessJwt },
          body,
          schema: uploadBlobResponseSchema(),
          // An unreferenced blob is garbage-collected, so sending one twice publishes nothing twice.
          retry: 'idempotent',
          timeouts: UPLOAD_TIMEOUTS,
          signal,
        }),
    }),
  );
  return value.blob;
}

/** Uploads one image as a blob after checking it against the PDS's and the lexicon's limits. */
export async function uploadImage(options: {
  context: BlueskyContext;
  session: SessionHandle;
  media: Media;
  field: string;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number, totalBytes: number) => void;
}): Promise<BlobRef> {
  const { context, session, media, field, signal, onProgress } = options;
  const pdsLimit = await pdsBlobLimit({ context, pdsUrl: session.pdsUrl, signal });
  const limit = Math.min(BLUESKY_LIMITS.imageBytes, pdsLimit ?? Number.POSITIVE_INFINITY);
  const resolved = await resolveWithin({ context, media, limit, field, rule: 'bluesky.media.max_blob_bytes', what: 'image', signal });
  const contentType = media.mimeType.toLowerCase();
  const blob = await uploadBlobBody({
    context,
    session,
    body: () => uploadBody({ media, resolved, contentType, onProgress: (sent) => onProgress?.(sent, resolved.size) }),
    signal,
  });
  // In-memory bytes go out in one piece; report them once they are sent.
  if (media.data !== undefined) onProgress?.(resolved.size, resolved.size);
  return blob;
}

/**
 * The link card image: fetched from a public URL (SSRF-safe) and uploaded as a blob. A card
 * without its image is still a card, so failures to fetch become a warning, not an error.
 */
export async function uploadLinkThumb(options: {
  context: BlueskyContext;
  session: SessionHandle;
  thumbUrl: string;
  signal?: AbortSignal;
}): Promise<{ blob?: BlobRef; warning?: PublishWarning }> {
  const { context, session, thumbUrl, signal } = options;
  const skipped = (reason: string): { warning: PublishWarning } => ({
    warning: { code: 'bluesky.link_card.thumb_skipped', message: `The link card was posted without its image: ${reason}.` },
  });
  let bytes: Uint8Array;
  let contentType: string;
  try {
    const response = await context.fetcher.fetch({ url: thumbUrl, maxBytes: BLUESKY_LIMITS.linkThumbBytes, signal });
    contentType = (response.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!contentType.startsWith('image/')) return skipped(`linkCard.thumbUrl is ${contentType || 'not an image'}`);
    const pieces: Uint8Array[] = [];
    for await (const piece of response.body) pieces.push(piece);
    bytes = Buffer.concat(pieces);
  } catch (error) {
    if (!LetmepostError.isInstance(error)) throw error;
    return skipped(`linkCard.thumbUrl could not be fetched (${error.code})`);
  }
  if (bytes.byteLength > BLUESKY_LIMITS.linkThumbBytes) return skipped(`the image is over ${BLUESKY_LIMITS.linkThumbBytes} bytes`);
  try {
    const blob = await uploadBlobBody({
      context,
      session,
      body: () => ({ body: { bytes, contentType }, sourceError: () => undefined }),
      signal,
    });
    return { blob };
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'media_invalid') return skipped('the PDS refused the image');
    throw error;
  }
}

async function serviceAuthToken(options: {
  context: BlueskyContext;
  session: SessionHandle;
  audience: string;
  lexiconMethod: string;
  expiresInSeconds?: number;
  signal?: AbortSignal;
}): Promise<string> {
  const { context, session, signal } = options;
  const exp =
    options.expiresInSeconds === undefined ? undefined : Math.floor(context.clock.now() / 1000) + options.expiresInSeconds;
  const { value } = await session.call((accessJwt) =>
    context.http.json({
      method: 'GET',
      url: `${session.pdsUrl}/xrpc/com.atproto.server.getServiceAuth`,
      query: { aud: options.audience, lxm: options.lexiconMethod, exp },
      auth: { bearer: accessJwt },
      schema: serviceAuthResponseSchema(),
      signal,
    }),
  );
  return value.token;
}

/** `did:web:` of a host; a port is percent-encoded as the did:web method requires. */
export function didWebOf(url: string): string {
  const { hostname, port } = new URL(url);
  return `did:web:${hostname}${port ? `%3A${port}` : ''}`;
}

/**
 * Sends a video to the video service, which transcodes it and writes the result into the
 * account's PDS itself (https://docs.bsky.app/docs/tutorials/video). Returns the job to poll.
 */
export async function startVideoJob(options: {
  context: BlueskyContext;
  session: SessionHandle;
  media: Media;
  field: string;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number, totalBytes: number) => void;
}): Promise<JobStatus> {
  const { context, session, media, field, signal, onProgress } = options;
  const resolved = await resolveWithin({
    context,
    media,
    limit: BLUESKY_LIMITS.videoBytes,
    field,
    rule: 'bluesky.media.max_video_bytes',
    what: 'video',
    signal,
  });

  // Daily quotas and the confirmed-email requirement surface here, before any upload.
  const limitsToken = await serviceAuthToken({
    context,
    session,
    audience: context.videoServiceDid,
    lexiconMethod: 'app.bsky.video.getUploadLimits',
    signal,
  });
  const { value: limits } = await context.http.json({
    method: 'GET',
    url: `${context.videoServiceUrl}/xrpc/app.bsky.video.getUploadLimits`,
    auth: { bearer: limitsToken },
    schema: uploadLimitsResponseSchema(),
    signal,
  });
  if (!limits.canUpload || (limits.remainingDailyBytes !== undefined && limits.remainingDailyBytes < resolved.size)) {
    throw new LetmepostError({
      code: 'quota_exceeded',
      platform: 'bluesky',
      message: `The Bluesky video service refuses more uploads for this account now${limits.message ? `: ${limits.message}` : ''}.`,
      field,
      platformResponse: limits,
      remediation: 'Bluesky caps videos per day per account (and needs a confirmed email); try again tomorrow.',
    });
  }

  // The service writes the processed blob into the PDS with this token, so its audience is the
  // PDS and it is bound to uploadBlob, valid long enough for a large upload plus processing.
  const uploadToken = await serviceAuthToken({
    context,
    session,
    audience: didWebOf(session.pdsUrl),
    lexiconMethod: 'com.atproto.repo.uploadBlob',
    expiresInSeconds: VIDEO_UPLOAD_TOKEN_SECONDS,
    signal,
  });
  const response = await sendUpload({
    upload: uploadBody({ media, resolved, contentType: 'video/mp4', onProgress: (sent) => onProgress?.(sent, resolved.size) }),
    send: (body) =>
      context.http.request({
        method: 'POST',
        url: `${context.videoServiceUrl}/xrpc/app.bsky.video.uploadVideo`,
        query: { did: session.did, name: media.fileName ?? 'video.mp4' },
        auth: { bearer: uploadToken },
        headers: { accept: 'application/json' },
        body,
        // The service deduplicates identical files (answering with the earlier job), so a repeat
        // is harmless; a consumed stream is never re-sent anyway.
        retry: 'idempotent',
        timeouts: UPLOAD_TIMEOUTS,
        // Re-uploading a video the service already processed answers 409 with that job's status.
        acceptStatus: (status) => status === 409,
        signal,
      }),
  });
  // In-memory bytes go out in one piece; report them once they are sent.
  if (media.data !== undefined) onProgress?.(resolved.size, resolved.size);
  let body: unknown;
  try {
    body = JSON.parse(response.text());
  } catch {
    body = response.text();
  }
  const parsed = uploadVideoResponseSchema().safeParse(body);
  if (parsed.success) return parsed.data;
  if (response.status === 409) {
    throw mapBlueskyError({
      response: {
        status: response.status,
        headers: response.headers,
        body,
        rateLimit: response.rateLimit,
        request: { method: 'POST', url: `${context.videoServiceUrl}/xrpc/app.bsky.video.uploadVideo`, retry: 'idempotent' },
      },
      clock: context.clock,
    });
  }
  throw new LetmepostError({
    code: 'platform_unavailable',
    platform: 'bluesky',
    message: 'The Bluesky video service answered uploadVideo without a job status.',
    status: response.status,
    platformResponse: body,
  });
}

export async function getJobStatus(options: { context: BlueskyContext; jobId: string; signal?: AbortSignal }): Promise<JobStatus> {
  const { value } = await options.context.http.json({
    method: 'GET',
    url: `${options.context.videoServiceUrl}/xrpc/app.bsky.video.getJobStatus`,
    query: { jobId: options.jobId },
    schema: getJobStatusResponseSchema(),
    signal: options.signal,
  });
  return value.jobStatus;
}

export type JobOutcome = { state: 'done'; blob: BlobRef } | { state: 'processing'; jobId: string } | { state: 'failed'; error: LetmepostError };

/**
 * A job is done once it carries a blob, even with an error set: re-uploading a processed video
 * reports `already_exists` together with the earlier blob. Unknown states mean "still running".
 */
export function jobOutcome(options: { job: JobStatus; field?: string }): JobOutcome {
  const { job, field } = options;
  if (job.blob) return { state: 'done', blob: job.blob };
  if (job.state === 'JOB_STATE_FAILED') {
    const tooBig = job.failureCode === 'pds_upload_unsupported_blob_size';
    return {
      state: 'failed',
      error: new LetmepostError({
        code: 'media_invalid',
        platform: 'bluesky',
        message: `The Bluesky video service could not process the video${job.failureCode ? ` (${job.failureCode})` : ''}${job.message ? `: ${job.message}` : job.error ? `: ${job.error}` : ''}.`,
        rule: tooBig ? 'bluesky.media.max_blob_bytes' : 'bluesky.media.video_processing',
        field,
        platformResponse: job,
      }),
    };
  }
  return { state: 'processing', jobId: job.jobId };
}

/**
 * Looks at a job until it ends or the wait budget runs out (then it is still `processing`), or
 * once right away (`once`, for `checkStatus`). Polling goes through the shared `pollUntil`.
 */
export async function waitForJob(options: {
  context: BlueskyContext;
  jobId: string;
  field?: string;
  /** Look once, right away (checkStatus), instead of polling within the wait budget. */
  once?: boolean;
  signal?: AbortSignal;
}): Promise<JobOutcome> {
  const { context, jobId, field, signal } = options;
  const look = async (): Promise<JobOutcome> => jobOutcome({ job: await getJobStatus({ context, jobId, signal }), field });
  if (options.once) return look();
  const { pollIntervalMs, maxWaitMs, sleep } = context.video;
  const { value } = await pollUntil({
    check: look,
    isDone: (outcome) => outcome.state !== 'processing',
    intervalMs: pollIntervalMs,
    maxWaitMs,
    // Processing takes seconds at best, so the first look comes after one interval.
    delayFirstCheck: true,
    sleep,
    ...(signal !== undefined ? { signal } : {}),
  });
  return value ?? { state: 'processing', jobId };
}
