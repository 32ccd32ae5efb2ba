import {
  LetmepostError,
  type MediaProgressEvent,
  type Post,
  type ProviderPublishResult,
  type ProviderStatusResult,
  type PublishAuth,
  type PublishWarning,
} from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { toJsonValue } from '@letmepost/provider-utils';
import { z } from 'zod';
import {
  convertToLinkedInContent,
  convertToLinkedInPost,
  isVideo,
  planLinkedInPost,
  type LinkedInUploadedMedia,
} from './convert-to-linkedin-post.js';
import type { LinkedInPostBody } from './linkedin-api.js';
import { restHeaders, restUrl, type LinkedInClient } from './linkedin-client.js';
import {
  linkedInAccountDataSchema,
  organizationUrn,
  personUrn,
  type LinkedInCredentials,
} from './linkedin-credentials.js';
import {
  getLinkedInVideoState,
  uploadLinkedInImage,
  uploadLinkedInVideo,
  waitForLinkedInVideo,
  type LinkedInVideoState,
} from './linkedin-media-upload.js';
import type { LinkedInPublishOptions } from './linkedin-options.js';

/** The public page of a post; works for both `urn:li:share:` and `urn:li:ugcPost:` ids. */
export function linkedInPostUrl(postUrn: string): string {
  return `https://www.linkedin.com/feed/update/${postUrn}/`;
}

const postUrnSchema = lazySchema(() =>
  z.string().regex(/^urn:li:(share|ugcPost|activity):\d+$/, 'must be a LinkedIn post URN such as urn:li:share:123'),
);

/** Who the request acts for: the bearer token and the author URN. */
export function resolveLinkedInAuthor(options: {
  auth: PublishAuth<LinkedInCredentials>;
  organizationId?: string;
}): { accessToken: string; author: string } {
  const { auth, organizationId } = options;
  if (auth.type === 'credentials') {
    const { credentials } = auth;
    const author =
      organizationId !== undefined
        ? organizationUrn(organizationId)
        : credentials.personId !== undefined
          ? personUrn(credentials.personId)
          : organizationUrn(credentials.organizationId as string);
    return { accessToken: credentials.accessToken, author };
  }
  if (organizationId !== undefined) return { accessToken: auth.tokens.accessToken, author: organizationUrn(organizationId) };
  const data = linkedInAccountDataSchema.safeParse(auth.account.data ?? {});
  if (data.success) return { accessToken: auth.tokens.accessToken, author: data.data.urn };
  if (/^urn:li:(person|organization):[A-Za-z0-9_-]+$/.test(auth.account.platformAccountId)) {
    return { accessToken: auth.tokens.accessToken, author: auth.account.platformAccountId };
  }
  throw new LetmepostError({
    code: 'validation_failed',
    message: 'The stored LinkedIn account has no author URN.',
    platform: 'linkedin',
    field: 'account.data.urn',
    remediation: 'Reconnect the LinkedIn account.',
  });
}

async function createPost(options: {
  client: LinkedInClient;
  accessToken: string;
  body: LinkedInPostBody;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { client, accessToken, body, signal } = options;
  let response;
  try {
    response = await client.http.request({
      method: 'POST',
      url: restUrl({ client, path: '/rest/posts' }),
      headers: restHeaders(client),
      auth: { bearer: accessToken },
      body: { json: body },
      retry: 'create',
      secrets: [accessToken],
      ...(signal !== undefined ? { signal } : {}),
    });
  } catch (error) {
    // The post may exist: report it as such rather than inviting a blind retry.
    if (LetmepostError.isInstance(error) && error.code === 'publish_outcome_unknown') {
      return { status: 'unknown', warnings: [], error };
    }
    throw error;
  }
  const postUrn = response.headers['x-restli-id'];
  if (postUrn === undefined || postUrn.length === 0) {
    return {
      status: 'unknown',
      warnings: [],
      error: new LetmepostError({
        code: 'publish_outcome_unknown',
        message: `LinkedIn answered ${response.status} to the post without its id (x-restli-id); the post may exist.`,
        platform: 'linkedin',
        status: response.status,
        remediation: 'Check the author’s feed before publishing again.',
      }),
    };
  }
  return { status: 'published', postId: postUrn, url: linkedInPostUrl(postUrn), warnings: [] };
}

/** Comments API; a comment is the closest LinkedIn has to a thread reply. */
async function addFirstComment(options: {
  client: LinkedInClient;
  accessToken: string;
  author: string;
  postUrn: string;
  text: string;
  signal?: AbortSignal;
}): Promise<PublishWarning | undefined> {
  const { client, accessToken, author, postUrn, text, signal } = options;
  try {
    await client.http.request({
      method: 'POST',
      url: restUrl({ client, path: `/rest/socialActions/${encodeURIComponent(postUrn)}/comments` }),
      headers: restHeaders(client),
      auth: { bearer: accessToken },
      // Comments are plain text, not `little`: no escaping here.
      body: { json: { actor: author, object: postUrn, message: { text } } },
      retry: 'create',
      secrets: [accessToken],
      ...(signal !== undefined ? { signal } : {}),
    });
    return undefined;
  } catch (error) {
    const code = LetmepostError.isInstance(error) ? error.code : 'platform_unavailable';
    return {
      code: 'linkedin.first_comment.failed',
      message: `The post was published but its first comment was not (${code}).`,
    };
  }
}

async function finishPost(options: {
  client: LinkedInClient;
  accessToken: string;
  body: LinkedInPostBody;
  firstComment?: string;
  warnings: PublishWarning[];
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const result = await createPost(options);
  result.warnings.push(...options.warnings);
  if (result.status === 'published' && options.firstComment !== undefined && result.postId !== undefined) {
    const warning = await addFirstComment({
      client: options.client,
      accessToken: options.accessToken,
      author: options.body.author,
      postUrn: result.postId,
      text: options.firstComment,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    if (warning !== undefined) result.warnings.push(warning);
  }
  return result;
}

/**
 * What a `pending` video publish needs to finish later: the post body as it will be sent and the
 * video it waits for. No secret: the token comes back through `auth`. Core seals it.
 */
const resumeStateSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    video: z.string().startsWith('urn:li:video:'),
    body: z.custom<LinkedInPostBody>(
      (value) => typeof value === 'object' && value !== null && typeof (value as LinkedInPostBody).author === 'string',
    ),
    firstComment: z.string().optional(),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  }),
);
type ResumeState = z.infer<ReturnType<typeof resumeStateSchema>>;

function parseResumeState(resume: unknown): ResumeState {
  const parsed = resumeStateSchema().safeParse(resume);
  if (!parsed.success) {
    throw new LetmepostError({
      code: 'validation_failed',
      message: 'This is not the state of a pending LinkedIn publish.',
      platform: 'linkedin',
      field: 'resume',
    });
  }
  return parsed.data;
}

function videoFailed(options: { state: Extract<LinkedInVideoState, { state: 'failed' }>; warnings: PublishWarning[] }): ProviderPublishResult {
  return {
    status: 'failed',
    warnings: options.warnings,
    error: new LetmepostError({
      code: 'media_invalid',
      message: `LinkedIn could not process the video${options.state.reason !== undefined ? ` (${options.state.reason})` : ''}; nothing was posted.`,
      platform: 'linkedin',
    }),
  };
}

const videoStatusUnreadable: PublishWarning = {
  code: 'linkedin.video.status_unreadable',
  message: 'The token cannot read the video’s processing state; the post was created and LinkedIn shows it once the video is ready.',
};

function finishFromState(options: {
  client: LinkedInClient;
  accessToken: string;
  state: ResumeState;
  warnings: PublishWarning[];
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { state } = options;
  return finishPost({
    client: options.client,
    accessToken: options.accessToken,
    body: state.body,
    warnings: options.warnings,
    ...(state.firstComment !== undefined ? { firstComment: state.firstComment } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
}

/**
 * Publishes one LinkedIn post: uploads its media (Images API / Videos API) as the author, then
 * `POST /rest/posts`. Throws only when nothing was posted.
 */
export async function publishToLinkedIn(options: {
  client: LinkedInClient;
  post: Post;
  auth: PublishAuth<LinkedInCredentials>;
  publishOptions: LinkedInPublishOptions;
  signal?: AbortSignal;
  onProgress?: (event: MediaProgressEvent) => void;
}): Promise<ProviderPublishResult> {
  const { client, post, publishOptions, signal } = options;
  const { accessToken, author } = resolveLinkedInAuthor({
    auth: options.auth,
    ...(publishOptions.organizationId !== undefined ? { organizationId: publishOptions.organizationId } : {}),
  });
  const plan = planLinkedInPost({ post });
  const warnings: PublishWarning[] = [...plan.warnings];
  const media = post.media ?? [];

  const uploaded: LinkedInUploadedMedia[] = [];
  for (const [mediaIndex, item] of media.entries()) {
    const common = {
      client,
      accessToken,
      owner: author,
      media: item,
      ...(signal !== undefined ? { signal } : {}),
      ...(options.onProgress !== undefined
        ? {
            onProgress: (event: { bytesSent: number; totalBytes: number }) =>
              options.onProgress?.({ itemIndex: 0, mediaIndex, ...event }),
          }
        : {}),
    };
    if (isVideo(item)) {
      if (item.altText !== undefined) {
        warnings.push({ code: 'linkedin.video.alt_text_ignored', message: 'LinkedIn posts take no alt text for a video.' });
      }
      const urn = await uploadLinkedInVideo(common);
      uploaded.push({
        kind: 'video',
        urn,
        ...(publishOptions.videoTitle !== undefined ? { title: publishOptions.videoTitle } : {}),
      });
    } else {
      const urn = await uploadLinkedInImage(common);
      uploaded.push({ kind: 'image', urn, ...(item.altText !== undefined ? { altText: item.altText } : {}) });
    }
  }

  const { content, warnings: contentWarnings } = convertToLinkedInContent({
    plan,
    ...(post.link !== undefined ? { link: post.link } : {}),
    uploaded,
    publishOptions,
  });
  warnings.push(...contentWarnings);
  const body = convertToLinkedInPost({
    author,
    commentary: plan.commentary,
    ...(content !== undefined ? { content } : {}),
    publishOptions,
  });

  const video = uploaded.find((item) => item.kind === 'video');
  if (video !== undefined) {
    const processing = await waitForLinkedInVideo({ client, accessToken, video: video.urn, ...(signal !== undefined ? { signal } : {}) });
    const state: ResumeState = {
      v: 1,
      video: video.urn,
      body,
      warnings,
      ...(post.firstComment !== undefined ? { firstComment: post.firstComment } : {}),
    };
    switch (processing.state) {
      case 'failed':
        return videoFailed({ state: processing, warnings });
      case 'processing':
        return {
          status: 'pending',
          warnings,
          resume: toJsonValue(state),
          checkAfterMs: client.videoProcessing.pollIntervalMs,
        };
      case 'unreadable':
        return finishFromState({ client, accessToken, state, warnings: [...warnings, videoStatusUnreadable], ...(signal !== undefined ? { signal } : {}) });
      case 'available':
        return finishFromState({ client, accessToken, state, warnings, ...(signal !== undefined ? { signal } : {}) });
    }
  }

  return finishPost({
    client,
    accessToken,
    body,
    warnings,
    ...(post.firstComment !== undefined ? { firstComment: post.firstComment } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
}

function accessTokenOf(auth: PublishAuth<LinkedInCredentials>): string {
  return auth.type === 'credentials' ? auth.credentials.accessToken : auth.tokens.accessToken;
}

/** Where the video of a `pending` publish stands. Read-only: one `GET /rest/videos/{urn}`. */
export async function checkLinkedInStatus(options: {
  client: LinkedInClient;
  auth: PublishAuth<LinkedInCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderStatusResult> {
  const state = parseResumeState(options.resume);
  const { client, signal } = options;
  const processing = await getLinkedInVideoState({
    client,
    accessToken: accessTokenOf(options.auth),
    video: state.video,
    ...(signal !== undefined ? { signal } : {}),
  });
  switch (processing.state) {
    case 'failed':
      return videoFailed({ state: processing, warnings: [] });
    case 'processing':
      return { status: 'pending', warnings: [], checkAfterMs: client.videoProcessing.pollIntervalMs };
    case 'unreadable':
      return { status: 'ready', warnings: [videoStatusUnreadable] };
    case 'available':
      return { status: 'ready' };
  }
}

/** Creates the post of a `pending` video publish once its video is ready (`POST /rest/posts`). */
export async function finalizeLinkedInPost(options: {
  client: LinkedInClient;
  auth: PublishAuth<LinkedInCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const state = parseResumeState(options.resume);
  return finishFromState({
    client: options.client,
    accessToken: accessTokenOf(options.auth),
    state,
    warnings: [...state.warnings],
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
}

/** `DELETE /rest/posts/{urn}`. */
export async function deleteLinkedInPost(options: {
  client: LinkedInClient;
  auth: PublishAuth<LinkedInCredentials>;
  postId: string;
  signal?: AbortSignal;
}): Promise<void> {
  const parsed = postUrnSchema().safeParse(options.postId);
  if (!parsed.success) {
    throw new LetmepostError({
      code: 'validation_failed',
      message: `postId ${parsed.error.issues[0]?.message ?? 'is invalid'}.`,
      platform: 'linkedin',
      field: 'postId',
    });
  }
  const accessToken = options.auth.type === 'credentials' ? options.auth.credentials.accessToken : options.auth.tokens.accessToken;
  const { client, signal } = options;
  await client.http.request({
    method: 'DELETE',
    url: restUrl({ client, path: `/rest/posts/${encodeURIComponent(parsed.data)}` }),
    headers: { ...restHeaders(client), 'X-RestLi-Method': 'DELETE' },
    auth: { bearer: accessToken },
    // Deleting twice leaves the same state, so a lost answer may be retried.
    retry: 'idempotent',
    secrets: [accessToken],
    ...(signal !== undefined ? { signal } : {}),
  });
}
