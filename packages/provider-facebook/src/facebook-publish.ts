import { LetmepostError, type Post, type ProviderPublishResult, type PublishAuth, type PublishWarning } from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { assertGraphSuccess, graphSuccessSchema } from '@letmepost/meta-graph';
import { z } from 'zod';
import {
  facebookCommentAnswerSchema,
  facebookFeedAnswerSchema,
  facebookPhotoAnswerSchema,
  facebookReelStartSchema,
  facebookVideoAnswerSchema,
} from './facebook-api.js';
import type { FacebookContext } from './facebook-context.js';
import { APPSECRET_PROOF_SECRET, type FacebookCredentials } from './facebook-credentials.js';
import type { FacebookOptions } from './facebook-options.js';
import { facebookMediaSource, streamedMultipart } from './facebook-upload.js';

/** Who a call is made as: a Page, with its token and (when known) the proof made at connect. */
export interface FacebookPageAuth {
  pageId: string;
  accessToken: string;
  appSecretProof?: string;
}

export function facebookPageAuth(auth: PublishAuth<FacebookCredentials>): FacebookPageAuth {
  if (auth.type === 'credentials') return { pageId: auth.credentials.pageId, accessToken: auth.credentials.pageAccessToken };
  const data = auth.account.data as { pageId?: unknown } | undefined;
  const pageId = typeof data?.pageId === 'string' ? data.pageId : auth.account.platformAccountId;
  const proof = auth.tokens.secrets?.[APPSECRET_PROOF_SECRET];
  return { pageId, accessToken: auth.tokens.accessToken, ...(proof !== undefined && { appSecretProof: proof }) };
}

interface PublishStep {
  context: FacebookContext;
  page: FacebookPageAuth;
  signal: AbortSignal | undefined;
}

function asPage(step: PublishStep) {
  return {
    accessToken: step.page.accessToken,
    ...(step.page.appSecretProof !== undefined && { appSecretProof: step.page.appSecretProof }),
    ...(step.signal !== undefined && { signal: step.signal }),
  };
}

function pagePath(step: PublishStep, edge: string): string {
  return `${encodeURIComponent(step.page.pageId)}/${edge}`;
}

/** Photos and videos have no link card: the link goes at the end of the caption. */
function captionOf(post: Post): string {
  if (post.link === undefined || post.text.includes(post.link)) return post.text;
  return `${post.text}\n\n${post.link}`.trim();
}

/** Text and link posts: `POST /{page-id}/feed` (the link becomes a preview card). */
async function publishFeed(step: PublishStep & { post: Post }): Promise<{ postId: string; url: string }> {
  const { post } = step;
  const { value } = await step.context.graph.json({
    method: 'POST',
    path: pagePath(step, 'feed'),
    query: { fields: 'id,permalink_url' },
    body: { form: { message: post.text, ...(post.link !== undefined && { link: post.link }) } },
    retry: 'create',
    schema: facebookFeedAnswerSchema(),
    ...asPage(step),
  });
  return { postId: value.id, url: value.permalink_url ?? `https://www.facebook.com/${value.id}` };
}

/** One photo: `POST /{page-id}/photos` with `url` or a streamed `source`. Unpublished photos are parts of a multi-photo post. */
async function uploadPhoto(step: PublishStep & { media: NonNullable<Post['media']>[number]; caption?: string; published: boolean }): Promise<{ id: string; postId?: string }> {
  const source = await facebookMediaSource({ context: step.context, media: step.media, ...(step.signal !== undefined && { signal: step.signal }) });
  const fields: Record<string, string> = {
    published: String(step.published),
    ...(step.caption !== undefined && step.caption !== '' && { message: step.caption }),
    ...(step.media.altText !== undefined && { alt_text_custom: step.media.altText }),
  };
  const { value } = await step.context.graph.json({
    method: 'POST',
    path: pagePath(step, 'photos'),
    body: source.kind === 'url' ? { form: { ...fields, url: source.url } } : streamedMultipart({ fields, fileField: 'source', bytes: source.bytes }),
    // An unpublished photo is not a post: sending it again makes a spare, never a second post.
    // A streamed body cannot be sent twice, so bytes keep the create rule.
    retry: !step.published && source.kind === 'url' ? 'idempotent' : 'create',
    schema: facebookPhotoAnswerSchema(),
    ...asPage(step),
  });
  return { id: value.id, ...(value.post_id !== undefined && { postId: value.post_id }) };
}

/** Several photos in one post: each uploaded unpublished, then one feed post attaching them (`attached_media`). */
async function publishPhotos(step: PublishStep & { post: Post }): Promise<{ postId: string; url: string }> {
  const media = step.post.media ?? [];
  const caption = captionOf(step.post);
  if (media.length === 1 && media[0] !== undefined) {
    const photo = await uploadPhoto({ ...step, media: media[0], caption, published: true });
    const postId = photo.postId ?? photo.id;
    return { postId, url: `https://www.facebook.com/${postId}` };
  }
  const photoIds: string[] = [];
  for (const item of media) photoIds.push((await uploadPhoto({ ...step, media: item, published: false })).id);
  const { value } = await step.context.graph.json({
    method: 'POST',
    path: pagePath(step, 'feed'),
    query: { fields: 'id,permalink_url' },
    body: { form: { ...(caption !== '' && { message: caption }), attached_media: JSON.stringify(photoIds.map((id) => ({ media_fbid: id }))) } },
    retry: 'create',
    schema: facebookFeedAnswerSchema(),
    ...asPage(step),
  });
  return { postId: value.id, url: value.permalink_url ?? `https://www.facebook.com/${value.id}` };
}

/** A Page video: `POST graph-video.facebook.com/<v>/{page-id}/videos` with `file_url` or a streamed multipart `source`. */
async function publishVideo(step: PublishStep & { post: Post; media: NonNullable<Post['media']>[number] }): Promise<{ postId: string; url: string }> {
  const source = await facebookMediaSource({ context: step.context, media: step.media, ...(step.signal !== undefined && { signal: step.signal }) });
  const caption = captionOf(step.post);
  const fields: Record<string, string> = { ...(caption !== '' && { description: caption }) };
  const { value } = await step.context.graph.json({
    method: 'POST',
    path: `${step.context.videoBaseUrl}/${step.context.graphVersion}/${pagePath(step, 'videos')}`,
    body: source.kind === 'url' ? { form: { ...fields, file_url: source.url } } : streamedMultipart({ fields, fileField: 'source', bytes: source.bytes }),
    retry: 'create',
    schema: facebookVideoAnswerSchema(),
    // A large upload may take long between bytes on a slow link; the answer comes after it all arrived.
    timeouts: { bodyMs: 120_000, headersMs: 300_000 },
    ...asPage(step),
  });
  return { postId: value.id, url: `https://www.facebook.com/${encodeURIComponent(step.page.pageId)}/videos/${value.id}` };
}

/**
 * A Reel (Reels Publishing API): start → upload the bytes to `rupload.facebook.com` (streamed,
 * `Authorization: OAuth`, `offset`/`file_size` headers; a hosted file as the `file_url` header)
 * → finish with `video_state=PUBLISHED`.
 */
async function publishReel(step: PublishStep & { post: Post; media: NonNullable<Post['media']>[number] }): Promise<{ postId: string; url: string }> {
  const source = await facebookMediaSource({ context: step.context, media: step.media, ...(step.signal !== undefined && { signal: step.signal }) });
  const { value: started } = await step.context.graph.json({
    method: 'POST',
    path: pagePath(step, 'video_reels'),
    body: { form: { upload_phase: 'start' } },
    // Starting creates only an empty upload session; a repeat makes another unused one.
    retry: 'idempotent',
    schema: facebookReelStartSchema(),
    ...asPage(step),
  });
  const { value: uploaded } = await step.context.graph.json({
    method: 'POST',
    path: started.upload_url,
    tokenPlacement: 'oauth-header',
    headers: source.kind === 'url' ? { file_url: source.url } : { offset: '0', file_size: String(source.bytes.size) },
    ...(source.kind === 'bytes' && { body: { stream: source.bytes.open(), contentType: 'application/octet-stream', length: source.bytes.size } }),
    retry: 'create',
    schema: graphSuccessSchema(),
    timeouts: { bodyMs: 120_000, headersMs: 300_000 },
    ...asPage(step),
  });
  assertGraphSuccess({ platform: 'facebook', answer: uploaded, action: 'the Reel upload' });
  const caption = captionOf(step.post);
  const { value: finished } = await step.context.graph.json({
    method: 'POST',
    path: pagePath(step, 'video_reels'),
    body: { form: { upload_phase: 'finish', video_id: started.video_id, video_state: 'PUBLISHED', ...(caption !== '' && { description: caption }) } },
    retry: 'create',
    schema: graphSuccessSchema(),
    ...asPage(step),
  });
  assertGraphSuccess({ platform: 'facebook', answer: finished, action: 'the Reel finish' });
  return { postId: started.video_id, url: `https://www.facebook.com/reel/${started.video_id}` };
}

/** `POST /{object-id}/comments`; the post stands either way, so a failure is a warning. */
async function addFirstComment(step: PublishStep & { objectId: string; text: string }): Promise<PublishWarning | undefined> {
  try {
    await step.context.graph.json({
      method: 'POST',
      path: `${encodeURIComponent(step.objectId)}/comments`,
      body: { form: { message: step.text } },
      retry: 'create',
      schema: facebookCommentAnswerSchema(),
      ...asPage(step),
    });
    return undefined;
  } catch (error) {
    const code = LetmepostError.isInstance(error) ? error.code : 'platform_unavailable';
    return { code: 'facebook.first_comment.failed', message: `The post was published but its first comment was not (${code}).` };
  }
}

/**
 * Publishes one post to a Page, by shape: text/link → feed; photos → photos (+ feed for several);
 * one video → Page video, or a Reel with `videoFormat: 'reel'`; then the first comment. Throws
 * only when nothing was posted.
 */
export async function publishFacebookPost(options: {
  context: FacebookContext;
  post: Post;
  auth: PublishAuth<FacebookCredentials>;
  options: FacebookOptions;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, post } = options;
  const step: PublishStep = { context, page: facebookPageAuth(options.auth), signal: options.signal };
  const media = post.media ?? [];
  const video = media.find((item) => item.mimeType.startsWith('video/'));
  const created =
    video !== undefined
      ? options.options.videoFormat === 'reel'
        ? await publishReel({ ...step, post, media: video })
        : await publishVideo({ ...step, post, media: video })
      : media.length > 0
        ? await publishPhotos({ ...step, post })
        : await publishFeed({ ...step, post });
  const warnings: PublishWarning[] = [];
  if (post.firstComment !== undefined) {
    const warning = await addFirstComment({ ...step, objectId: created.postId, text: post.firstComment });
    if (warning !== undefined) warnings.push(warning);
  }
  return { status: 'published', postId: created.postId, url: created.url, warnings };
}

/** Page post ids are `<page-id>_<post-id>`; photos and videos have plain numeric ids. */
const postIdSchema = lazySchema(() => z.string().regex(/^\d{1,32}(_\d{1,32})?$/, 'must be a Facebook post, photo or video id'));

export async function deleteFacebookPost(options: { context: FacebookContext; auth: PublishAuth<FacebookCredentials>; postId: string; signal?: AbortSignal }): Promise<void> {
  const parsed = postIdSchema().safeParse(options.postId);
  if (!parsed.success) {
    throw new LetmepostError({ code: 'validation_failed', platform: 'facebook', field: 'postId', message: `postId ${parsed.error.issues[0]?.message ?? 'is invalid'}.` });
  }
  const page = facebookPageAuth(options.auth);
  const { value } = await options.context.graph.json({
    method: 'DELETE',
    path: parsed.data,
    accessToken: page.accessToken,
    ...(page.appSecretProof !== undefined && { appSecretProof: page.appSecretProof }),
    // Deleting twice ends in the same state: safe to repeat after a lost answer.
    retry: 'idempotent',
    schema: graphSuccessSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  assertGraphSuccess({ platform: 'facebook', answer: value, action: `DELETE ${parsed.data}` });
}
