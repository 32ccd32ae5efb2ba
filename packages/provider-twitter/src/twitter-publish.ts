import {
  LetmepostError,
  type MediaProgressEvent,
  type Post,
  type ProviderPublishResult,
  type ProviderStatusResult,
  type PublishAuth,
  type PublishItemResult,
  type PublishWarning,
} from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { toJsonValue } from '@letmepost/provider-utils';
import { z } from 'zod';
import {
  convertToTwitterPost,
  parseTwitterPostId,
  toCreatePostRequest,
  twitterPostUrl,
  type TwitterItemRole,
  type TwitterPostPlan,
  type TwitterPublishOptions,
} from './convert-to-twitter-post.js';
import { quickTwitterCreatePostResponse, twitterCreatePostResponseSchema, twitterDeletePostResponseSchema } from './twitter-api.js';
import type { TwitterContext } from './twitter-context.js';
import { resolveTwitterAuth, type TwitterCredentials, type TwitterRequestAuth } from './twitter-credentials.js';
import { asReplyRestricted, mediaProcessingError } from './twitter-error.js';
import { getTwitterMediaStatus, setTwitterAltText, uploadTwitterMedia } from './twitter-media-upload.js';
import { twitterOptionsSchema } from './twitter-validate.js';

/** One post ready to create: its media already uploaded. */
interface PreparedItem {
  index: number;
  role: TwitterItemRole;
  text: string;
  mediaIds: string[];
}

/**
 * Publishes a post to X: uploads every file of every item first (so nothing is posted while a
 * video may still fail), then creates the root post and chains the thread as replies.
 *
 * - A video or GIF X is still transcoding makes the result `pending` with resume state;
 *   `checkTwitterStatus` reads where processing stands and `finalizeTwitterPost` creates the
 *   posts once it succeeded.
 * - Throws only while nothing is posted. Once the root exists, a failing reply (X's 2026 reply
 *   restrictions, a rate limit) is reported in `items` with its own error, the items after it
 *   are reported as not sent, and the result stays `published` with a warning.
 */
export function publishTwitterPost(options: {
  context: TwitterContext;
  post: Post;
  auth: PublishAuth<TwitterCredentials>;
  /** Parsed by core or by the provider's boundary. */
  options: TwitterPublishOptions;
  signal?: AbortSignal;
  onProgress?: (event: MediaProgressEvent) => void;
}): Promise<ProviderPublishResult> {
  // Not an async function: a post without media (most) goes straight to creating, and each async
  // layer costs a publish two promises. Nothing here may throw: a refusal is a rejection.
  // The post was validated before this runs (`validate`: core's preflight, or the provider's
  // boundary for a direct call, see `defineProvider`), so it is only laid out here.
  const { context, signal } = options;
  let auth: TwitterRequestAuth;
  let plan: TwitterPostPlan;
  try {
    plan = convertToTwitterPost({ post: options.post });
    auth = resolveTwitterAuth(options.auth);
  } catch (error) {
    return Promise.reject(error);
  }
  const publishOptions = options.options;
  const create = ({ prepared, pending }: UploadedMedia): Promise<ProviderPublishResult> => {
    const state: ResumeState = {
      v: 1,
      items: prepared,
      replyToPostId: plan.replyToPostId,
      options: publishOptions,
      pendingMediaIds: pending.map((entry) => entry.mediaId),
      username: auth.username,
    };
    if (pending.length > 0) return Promise.resolve(pendingResult({ state, pending }));
    return createTwitterPosts({ context, auth, state, signal });
  };
  if (plan.items.every((item) => item.media.length === 0)) {
    return create({ prepared: plan.items.map((item) => ({ index: item.index, role: item.role, text: item.text, mediaIds: [] })), pending: [] });
  }
  return uploadTwitterPlanMedia({ context, auth, plan, signal, onProgress: options.onProgress }).then(create);
}

interface UploadedMedia {
  prepared: PreparedItem[];
  pending: PendingMedia[];
}

/** Uploads every file of every item, in order; files X still transcodes are `pending`. */
async function uploadTwitterPlanMedia(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  plan: TwitterPostPlan;
  signal: AbortSignal | undefined;
  onProgress: ((event: MediaProgressEvent) => void) | undefined;
}): Promise<UploadedMedia> {
  const { context, auth, signal } = options;
  const prepared: PreparedItem[] = [];
  const pending: PendingMedia[] = [];
  for (const item of options.plan.items) {
    const mediaIds: string[] = [];
    for (const [mediaIndex, media] of item.media.entries()) {
      const uploaded = await uploadTwitterMedia({
        context,
        auth,
        media,
        signal,
        onProgress: ({ bytesSent, totalBytes }) =>
          options.onProgress?.({ itemIndex: item.index, mediaIndex, bytesSent, totalBytes }),
      });
      mediaIds.push(uploaded.mediaId);
      if (uploaded.processingInfo) {
        pending.push({
          mediaId: uploaded.mediaId,
          progressPercent: uploaded.processingInfo.progress_percent,
          checkAfterSecs: uploaded.processingInfo.check_after_secs,
        });
      }
      const altText = media.altText?.trim();
      if (altText) {
        await setTwitterAltText({ context, auth, mediaId: uploaded.mediaId, altText, signal });
      }
    }
    prepared.push({ index: item.index, role: item.role, text: item.text, mediaIds });
  }
  return { prepared, pending };
}

type PendingMedia = { mediaId: string; progressPercent?: number | undefined; checkAfterSecs?: number | undefined };

/**
 * One status read per file still processing: `ready` with the state once all succeeded, or the
 * answer to give (`pending` with the files still processing, `failed` at the first failure).
 */
async function lookAtProcessing(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  state: ResumeState;
  signal?: AbortSignal;
}): Promise<{ ready: ResumeState } | { answer: ProviderPublishResult }> {
  const { context, auth, state, signal } = options;
  const stillPending: PendingMedia[] = [];
  for (const mediaId of state.pendingMediaIds) {
    const status = await getTwitterMediaStatus({ context, auth, mediaId, signal });
    const processingInfo = status.processing_info;
    if (processingInfo === undefined || processingInfo.state === 'succeeded') continue;
    if (processingInfo.state === 'failed') {
      const error = mediaProcessingError({ mediaId, processingInfo });
      return {
        answer: {
          status: 'failed',
          error,
          items: state.items.map((item) => ({ index: item.index, status: 'failed', error })),
          warnings: [],
        },
      };
    }
    stillPending.push({ mediaId, progressPercent: processingInfo.progress_percent, checkAfterSecs: processingInfo.check_after_secs });
  }
  if (stillPending.length > 0) {
    return { answer: pendingResult({ state: { ...state, pendingMediaIds: stillPending.map((entry) => entry.mediaId) }, pending: stillPending }) };
  }
  return { ready: { ...state, pendingMediaIds: [] } };
}

/**
 * Where X's processing of a `pending` publish's media stands. Read-only: one `STATUS` read per
 * file still processing. `ready` once every file succeeded; `failed` with `media_invalid` when
 * one failed.
 */
export async function checkTwitterStatus(options: {
  context: TwitterContext;
  auth: PublishAuth<TwitterCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderStatusResult> {
  const { context, signal } = options;
  const state = parseResumeState(options.resume);
  const looked = await lookAtProcessing({ context, auth: resolveTwitterAuth(options.auth), state, signal });
  return 'answer' in looked ? looked.answer : { status: 'ready', resume: toJsonValue(looked.ready) };
}

/**
 * Creates the posts of a `pending` publish once X processed its media (looks once more at any
 * file the state still lists, and answers `pending` again if one is not done).
 */
export async function finalizeTwitterPost(options: {
  context: TwitterContext;
  auth: PublishAuth<TwitterCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, signal } = options;
  const state = parseResumeState(options.resume);
  const auth = resolveTwitterAuth(options.auth);
  const looked = await lookAtProcessing({ context, auth, state, signal });
  if ('answer' in looked) return looked.answer;
  const username = auth.username ?? state.username;
  return createTwitterPosts({ context, auth: username === undefined ? auth : { ...auth, username }, state: looked.ready, signal });
}

/** `DELETE /2/tweets/{id}`. */
export async function deleteTwitterPost(options: {
  context: TwitterContext;
  auth: PublishAuth<TwitterCredentials>;
  postId: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { context } = options;
  const postId = parseTwitterPostId(options.postId);
  if (postId === undefined) {
    throw new LetmepostError({
      code: 'validation_failed',
      message: 'postId must be an X post id or post URL.',
      platform: 'twitter',
      field: 'postId',
      rule: 'twitter.post_id.invalid',
    });
  }
  const auth = resolveTwitterAuth(options.auth);
  const { value } = await context.http.json({
    method: 'DELETE',
    url: `${context.apiBaseUrl}/2/tweets/${postId}`,
    auth: auth.http,
    secrets: auth.secrets,
    // Deleting twice leaves the post deleted.
    retry: 'idempotent',
    schema: twitterDeletePostResponseSchema(),
    signal: options.signal,
  });
  if (!value.data.deleted) {
    throw new LetmepostError({
      code: 'platform_rejected',
      message: `X answered that post ${postId} was not deleted.`,
      platform: 'twitter',
      platformResponse: value,
    });
  }
}

// ---- posting ----------------------------------------------------------------------------------

function createTwitterPosts(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  state: ResumeState;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  // Not an async function: a single post (most) is one create and its answer.
  const { state, auth } = options;
  const root = state.items[0];
  if (root === undefined) return Promise.reject(new Error('A post plan always has a root item.'));
  const url = (postId: string) => twitterPostUrl({ postId, username: auth.username });
  return createPost({ ...options, item: root, inReplyToPostId: state.replyToPostId, publishOptions: state.options }).then(
    (rootId) => {
      const items: PublishItemResult[] = [{ index: root.index, status: 'published', postId: rootId, url: url(rootId) }];
      if (state.items.length === 1) return threadResult({ rootId, items, stoppedBy: undefined });
      return createReplies({ ...options, rootId, items, url });
    },
    (error: unknown) => {
      // Nothing is posted yet, so the publish as a whole fails.
      throw state.replyToPostId === undefined ? error : asReplyRestricted(error);
    },
  );
}

/** The thread items and the first comment after the root, one by one; stops at the first failure. */
async function createReplies(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  state: ResumeState;
  signal?: AbortSignal;
  rootId: string;
  items: PublishItemResult[];
  url: (postId: string) => string;
}): Promise<ProviderPublishResult> {
  const { state, rootId, items, url } = options;
  let previousId = rootId;
  let stoppedBy: { index: number; error: LetmepostError } | undefined;
  for (let position = 1; position < state.items.length; position += 1) {
    const item = state.items[position]!;
    if (stoppedBy) {
      items.push({ index: item.index, status: 'failed', error: notSentError({ index: item.index, stoppedBy }) });
      continue;
    }
    try {
      const postId = await createPost({
        context: options.context,
        auth: options.auth,
        signal: options.signal,
        item,
        // The thread chains on the previous item; the first comment answers the root.
        inReplyToPostId: item.role === 'first-comment' ? rootId : previousId,
      });
      items.push({ index: item.index, status: 'published', postId, url: url(postId) });
      if (item.role === 'thread') previousId = postId;
    } catch (caught) {
      const error = toLetmepostError(asReplyRestricted(caught));
      items.push({ index: item.index, status: error.code === 'publish_outcome_unknown' ? 'unknown' : 'failed', error });
      stoppedBy = { index: item.index, error };
    }
  }
  return threadResult({ rootId, items, stoppedBy });
}

function threadResult(options: {
  rootId: string;
  items: PublishItemResult[];
  stoppedBy: { index: number; error: LetmepostError } | undefined;
}): ProviderPublishResult {
  const { rootId, items, stoppedBy } = options;
  const warnings: PublishWarning[] = [];
  if (stoppedBy) {
    const published = items.filter((item) => item.status === 'published').length;
    warnings.push({
      code: 'twitter.thread.partial',
      message: `${published} of ${items.length} posts were published on X; item ${stoppedBy.index} failed (${stoppedBy.error.code}) and the items after it were not sent.`,
    });
  }
  return { status: 'published', postId: rootId, url: items[0]?.url, items, warnings };
}

function createPost(options: {
  context: TwitterContext;
  auth: TwitterRequestAuth;
  item: PreparedItem;
  inReplyToPostId?: string;
  publishOptions?: TwitterPublishOptions;
  signal?: AbortSignal;
}): Promise<string> {
  const { context, auth, item } = options;
  let body: ReturnType<typeof toCreatePostRequest>;
  try {
    body = toCreatePostRequest({
      text: item.text,
      mediaIds: item.mediaIds,
      inReplyToPostId: options.inReplyToPostId,
      publishOptions: options.publishOptions,
    });
  } catch (error) {
    return Promise.reject(error);
  }
  return context.http
    .json({
      method: 'POST',
      url: `${context.apiBaseUrl}/2/tweets`,
      body: { json: body },
      auth: auth.http,
      secrets: auth.secrets,
      retry: 'create',
      schema: twitterCreatePostResponseSchema(),
      quickParse: quickTwitterCreatePostResponse,
      signal: options.signal,
    })
    .then(({ value }) => value.data.id);
}

function notSentError(options: { index: number; stoppedBy: { index: number; error: LetmepostError } }): LetmepostError {
  const { error } = options.stoppedBy;
  return new LetmepostError({
    code: error.code,
    message: `Item ${options.index} was not sent: item ${options.stoppedBy.index} of the thread failed first (${error.code}).`,
    platform: 'twitter',
    rule: 'twitter.thread.not_sent',
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
  });
}

function toLetmepostError(error: unknown): LetmepostError {
  if (LetmepostError.isInstance(error)) return error;
  // Not an answer from X: whether the post was created cannot be known.
  return new LetmepostError({
    code: 'publish_outcome_unknown',
    message: 'Creating the post failed unexpectedly; it may or may not exist on X.',
    platform: 'twitter',
    retryable: false,
    cause: error,
  });
}

// ---- resume state -----------------------------------------------------------------------------

const resumeStateSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    items: z
      .array(
        z.object({
          index: z.number().int().nonnegative(),
          role: z.enum(['root', 'thread', 'first-comment']),
          text: z.string(),
          mediaIds: z.array(z.string().regex(/^[0-9]{1,19}$/)),
        }),
      )
      .min(1),
    replyToPostId: z.string().regex(/^[0-9]{1,19}$/).optional(),
    options: twitterOptionsSchema,
    pendingMediaIds: z.array(z.string().regex(/^[0-9]{1,19}$/)),
    username: z.string().optional(),
  }),
);

type ResumeState = z.infer<ReturnType<typeof resumeStateSchema>>;

/** The state carries what is needed to create the posts later; it holds no secret. */
function parseResumeState(resume: unknown): ResumeState {
  const result = resumeStateSchema().safeParse(resume);
  if (!result.success) {
    throw new LetmepostError({
      code: 'validation_failed',
      message: 'This is not the state of a pending X publish.',
      platform: 'twitter',
      field: 'resume',
      rule: 'twitter.resume.invalid',
    });
  }
  return result.data;
}

function pendingResult(options: {
  state: ResumeState;
  pending: readonly PendingMedia[];
}): ProviderPublishResult {
  const { state, pending } = options;
  const checkAfterSecs = Math.max(1, ...pending.map((entry) => entry.checkAfterSecs ?? 1));
  return {
    status: 'pending',
    resume: toJsonValue(state),
    checkAfterMs: checkAfterSecs * 1000,
    items: state.items.map((item) => ({ index: item.index, status: 'pending' })),
    warnings: pending.map((entry) => ({
      code: 'twitter.media.processing',
      message: `X is still processing media ${entry.mediaId}${entry.progressPercent === undefined ? '' : ` (${entry.progressPercent}%)`}; check again in ${checkAfterSecs} s.`,
    })),
  };
}
