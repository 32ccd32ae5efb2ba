import {
  LetmepostError,
  type Media,
  type Post,
  type ProviderPublishResult,
  type ProviderResumeOptions,
  type ProviderStatusResult,
  type PublishAuth,
  type PublishWarning,
} from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { containerFailure, publishContainerOnce, readContainer, waitForContainer, type GraphContainerState } from '@letmepost/meta-graph';
import { isBlockedAddress, toJsonValue } from '@letmepost/provider-utils';
import { z } from 'zod';
import { instagramIdAnswerSchema, instagramMediaListSchema, instagramPermalinkSchema, instagramPublishingLimitSchema } from './instagram-api.js';
import type { InstagramContext } from './instagram-context.js';
import { instagramAuthOf, type InstagramCredentials } from './instagram-credentials.js';
import { INSTAGRAM_CONTAINER_NOT_READY_RULE } from './instagram-error.js';
import type { InstagramOptions } from './instagram-options.js';
import { instagramShapeOf, isInstagramVideo, isPrivateMediaHost, type InstagramShape } from './instagram-validate.js';

/** How far back a published post may be dated and still be the one a container made (clock skew). */
const PUBLISHED_LOOKUP_SKEW_MS = 5 * 60_000;

/**
 * What a `pending` Instagram publish needs to finish: the container to publish (`stage:
 * 'container'`), or the carousel items still processing (`stage: 'children'`, the carousel
 * container is made once they are ready). No secret: the token comes back through `auth`.
 */
const resumeStateSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    igUserId: z.string().regex(/^\d{1,32}$/),
    shape: z.enum(['image', 'reel', 'carousel', 'story']),
    stage: z.enum(['container', 'children']),
    containerId: z.string().regex(/^\d{1,32}$/).optional(),
    children: z.array(z.string().regex(/^\d{1,32}$/)).optional(),
    caption: z.string().optional(),
    firstComment: z.string().optional(),
    /** Epoch ms the first container was made: published media older than this is not ours. */
    createdAt: z.number().int().nonnegative(),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
  }),
);
type ResumeState = z.infer<ReturnType<typeof resumeStateSchema>>;

function parseResumeState(resume: unknown): ResumeState {
  const parsed = resumeStateSchema().safeParse(resume);
  if (!parsed.success || (parsed.data.stage === 'container' ? parsed.data.containerId === undefined : (parsed.data.children ?? []).length < 2)) {
    throw new LetmepostError({ code: 'validation_failed', platform: 'instagram', field: 'resume', message: 'This is not the state of a pending Instagram publish.' });
  }
  return parsed.data;
}

interface Call {
  context: InstagramContext;
  accessToken: string;
  signal?: AbortSignal;
}

const signalOf = (call: Call) => (call.signal !== undefined ? { signal: call.signal } : {});

/**
 * Instagram fetches media itself, so a host that resolves to a private or loopback address fails
 * late (error 9004) after a container was made. Checked before the first container.
 */
async function assertPublicMediaHosts(options: { context: InstagramContext; media: readonly Media[] }): Promise<void> {
  if (options.context.allowPrivateMediaUrls) return;
  for (const [index, item] of options.media.entries()) {
    if (item.url === undefined) continue;
    const { hostname } = new URL(item.url);
    const addresses = isPrivateMediaHost(hostname) ? ['(private host name)'] : await options.context.lookupHost({ hostname }).catch(() => []);
    if (addresses.length === 0 || addresses.some((address) => address === '(private host name)' || isBlockedAddress(address))) {
      throw new LetmepostError({
        code: 'media_unreachable',
        platform: 'instagram',
        rule: 'instagram.media.url_not_public',
        field: `post.media.${index}.url`,
        message: `Instagram fetches media from a public URL; ${hostname} ${addresses.length === 0 ? 'does not resolve' : 'resolves to a private or loopback address'}, so Instagram could not fetch it.`,
        remediation: 'Serve the media from a public HTTPS URL, or pass bytes and configure createLetmepost({ mediaStaging }).',
      });
    }
  }
}

/** Every medium must be a URL by now: core stages bytes and streams for `ingest: 'pull'`. */
function mediaUrls(media: readonly Media[]): string[] {
  return media.map((item, index) => {
    if (item.url !== undefined) return item.url;
    throw new LetmepostError({
      code: 'validation_failed',
      platform: 'instagram',
      rule: 'media.staging_not_configured',
      field: `post.media.${index}`,
      message: 'Instagram fetches media by URL; bytes and streams need createLetmepost({ mediaStaging }) to be turned into URLs first.',
    });
  });
}

/**
 * The 24-hour content publishing limit, read before a container is made, so a full quota is
 * `quota_exceeded` with nothing created instead of a failure at `media_publish`.
 */
async function assertPublishingQuota(call: Call & { igUserId: string }): Promise<void> {
  const { value } = await call.context.graph.json({
    method: 'GET',
    path: `${call.igUserId}/content_publishing_limit`,
    query: { fields: 'quota_usage,config' },
    accessToken: call.accessToken,
    schema: instagramPublishingLimitSchema(),
    ...signalOf(call),
  });
  const [limit] = value.data;
  const total = limit?.config?.quota_total;
  if (limit === undefined || total === undefined || limit.quota_usage < total) return;
  throw new LetmepostError({
    code: 'quota_exceeded',
    platform: 'instagram',
    rule: 'instagram.publish.limit_reached',
    message: `The Instagram account published ${limit.quota_usage} of its ${total} posts in the last ${Math.round((limit.config?.quota_duration ?? 86_400) / 3600)} hours; nothing was created.`,
    remediation: 'Publish again once the oldest post of the 24-hour window has aged out.',
  });
}

type ContainerParameters = Record<string, string | undefined>;

/**
 * `POST /{ig-user-id}/media`. A container is not a post: one made twice after a lost answer is an
 * unpublished leftover Instagram deletes after 24 hours, so the call may be repeated.
 */
async function createContainer(call: Call & { igUserId: string; parameters: ContainerParameters }): Promise<string> {
  const form = Object.fromEntries(Object.entries(call.parameters).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const { value } = await call.context.graph.json({
    method: 'POST',
    path: `${call.igUserId}/media`,
    body: { form },
    accessToken: call.accessToken,
    retry: 'idempotent',
    schema: instagramIdAnswerSchema(),
    ...signalOf(call),
  });
  return value.id;
}

function containerParameters(options: { post: Post; options: InstagramOptions; shape: InstagramShape; urls: string[] }): ContainerParameters {
  const { post, shape, urls } = options;
  const media = post.media ?? [];
  const first = media[0]!;
  const caption = post.text.trim() === '' ? undefined : post.text;
  const common = {
    collaborators: options.options.collaborators === undefined ? undefined : JSON.stringify(options.options.collaborators),
    location_id: options.options.locationId,
  };
  if (shape === 'story') {
    return isInstagramVideo(first) ? { media_type: 'STORIES', video_url: urls[0] } : { media_type: 'STORIES', image_url: urls[0] };
  }
  if (shape === 'reel') {
    return {
      media_type: 'REELS',
      video_url: urls[0],
      caption,
      share_to_feed: options.options.shareToFeed === undefined ? undefined : String(options.options.shareToFeed),
      cover_url: options.options.coverUrl,
      thumb_offset: options.options.thumbOffsetMs === undefined ? undefined : String(options.options.thumbOffsetMs),
      ...common,
    };
  }
  return { image_url: urls[0], caption, alt_text: first.altText, ...common };
}

function carouselItemParameters(options: { media: Media; url: string }): ContainerParameters {
  return isInstagramVideo(options.media)
    ? { is_carousel_item: 'true', media_type: 'VIDEO', video_url: options.url }
    : { is_carousel_item: 'true', image_url: options.url, alt_text: options.media.altText };
}

function pendingResult({ state, context }: { state: ResumeState; context: InstagramContext }): ProviderPublishResult {
  return { status: 'pending', warnings: state.warnings, resume: toJsonValue(state), checkAfterMs: context.containerWait.checkAfterMs };
}

/** Cosmetic: a post is published whether or not its permalink can be read. */
async function readPermalink(call: Call & { mediaId: string; warnings: PublishWarning[] }): Promise<string | undefined> {
  try {
    const { value } = await call.context.graph.json({
      method: 'GET',
      path: call.mediaId,
      query: { fields: 'permalink,shortcode,media_product_type' },
      accessToken: call.accessToken,
      schema: instagramPermalinkSchema(),
      ...signalOf(call),
    });
    return value.permalink;
  } catch {
    call.warnings.push({ code: 'instagram.permalink.unreadable', message: 'The post was published; its permalink could not be read.' });
    return undefined;
  }
}

/** `POST /{media-id}/comments`; needs `instagram_business_manage_comments`. A failure is a warning. */
async function addFirstComment(call: Call & { mediaId: string; text: string; warnings: PublishWarning[] }): Promise<void> {
  try {
    await call.context.graph.json({
      method: 'POST',
      path: `${call.mediaId}/comments`,
      body: { form: { message: call.text } },
      accessToken: call.accessToken,
      retry: 'create',
      schema: instagramIdAnswerSchema(),
      ...signalOf(call),
    });
  } catch (error) {
    const code = LetmepostError.isInstance(error) ? error.code : 'platform_unavailable';
    call.warnings.push({
      code: 'instagram.first_comment.failed',
      message: `The post was published but its first comment was not (${code}${code === 'permission_denied' ? ': the grant lacks instagram_business_manage_comments' : ''}).`,
    });
  }
}

async function publishedResult(call: Call & { state: ResumeState; mediaId: string; permalink?: string; commented: boolean }): Promise<ProviderPublishResult> {
  const warnings = [...call.state.warnings];
  const url = call.permalink ?? (await readPermalink({ ...call, warnings }));
  if (call.commented && call.state.firstComment !== undefined) await addFirstComment({ ...call, text: call.state.firstComment, warnings });
  return { status: 'published', postId: call.mediaId, ...(url !== undefined && { url }), warnings };
}

/**
 * A container found `PUBLISHED` was published by an earlier attempt whose answer was lost: the
 * media it made is looked up among the account's latest (Instagram's container node does not name
 * it), never published again. Not found for certain: `unknown`.
 */
async function findPublishedMedia(call: Call & { state: ResumeState }): Promise<ProviderPublishResult> {
  const { state } = call;
  const { value } = await call.context.graph.json({
    method: 'GET',
    path: `${state.igUserId}/${state.shape === 'story' ? 'stories' : 'media'}`,
    query: { fields: 'id,caption,timestamp,permalink', limit: 10 },
    accessToken: call.accessToken,
    schema: instagramMediaListSchema(),
    ...signalOf(call),
  });
  const matches = value.data.filter((media) => {
    const at = media.timestamp === undefined ? Number.NaN : Date.parse(media.timestamp);
    return (media.caption ?? '') === (state.caption ?? '') && !(at < state.createdAt - PUBLISHED_LOOKUP_SKEW_MS);
  });
  const [match] = matches;
  if (matches.length === 1 && match !== undefined) {
    // The comment may have been added by the attempt that published; adding it again could double it.
    return { status: 'published', postId: match.id, ...(match.permalink !== undefined && { url: match.permalink }), warnings: state.warnings };
  }
  return {
    status: 'unknown',
    warnings: state.warnings,
    error: new LetmepostError({
      code: 'publish_outcome_unknown',
      platform: 'instagram',
      message: 'The Instagram container was already published, but the post it made could not be told apart among the account’s latest; it was not published again.',
      remediation: 'Check the account’s profile before publishing again.',
    }),
  };
}

/** `POST /{ig-user-id}/media_publish`: the one call that makes the post, sent once and never repeated. */
async function publishContainer(call: Call & { state: ResumeState & { containerId: string } }): Promise<ProviderPublishResult> {
  let mediaId: string;
  try {
    const { value } = await call.context.graph.json({
      method: 'POST',
      path: `${call.state.igUserId}/media_publish`,
      body: { form: { creation_id: call.state.containerId } },
      accessToken: call.accessToken,
      retry: 'create',
      schema: instagramIdAnswerSchema(),
      ...signalOf(call),
    });
    mediaId = value.id;
  } catch (error) {
    // 9007 "Media ID is not available": the container was not ready after all; nothing was posted.
    if (LetmepostError.isInstance(error) && error.rule === INSTAGRAM_CONTAINER_NOT_READY_RULE) return pendingResult({ state: call.state, context: call.context });
    throw error;
  }
  return publishedResult({ ...call, mediaId, commented: true });
}

/** Instagram names a container's state in `status_code` and an `ERROR`'s reason in `status`. */
const CONTAINER_FIELDS = { statusField: 'status_code', detailField: 'status' } as const;

function readInstagramContainer(call: Call & { containerId: string }): Promise<GraphContainerState> {
  return readContainer({ http: call.context.graph, containerId: call.containerId, accessToken: call.accessToken, ...CONTAINER_FIELDS, ...signalOf(call) });
}

async function waitForInstagramContainer(call: Call & { containerId: string }): Promise<GraphContainerState> {
  const { containerWait } = call.context;
  const { state } = await waitForContainer({
    http: call.context.graph,
    containerId: call.containerId,
    accessToken: call.accessToken,
    ...CONTAINER_FIELDS,
    intervalMs: containerWait.intervalMs,
    maxWaitMs: containerWait.maxWaitMs,
    ...(containerWait.sleep !== undefined && { sleep: containerWait.sleep }),
    ...signalOf(call),
  });
  return state;
}

/**
 * A container this publish just made: wait for it within the budget, then `media_publish` once.
 * Still processing: `pending`. It cannot have been published by anyone else yet.
 */
async function completeNewContainer(call: Call & { state: ResumeState & { containerId: string } }): Promise<ProviderPublishResult> {
  const container = await waitForInstagramContainer({ ...call, containerId: call.state.containerId });
  if (container.status === 'IN_PROGRESS') return pendingResult({ state: call.state, context: call.context });
  if (container.status !== 'FINISHED') throw containerFailure({ platform: 'instagram', state: container });
  return publishContainer(call);
}

/**
 * A container an earlier publish made (finalize): its status is read first, so one already
 * `PUBLISHED` (a process killed after `media_publish` answered) is looked up, never published
 * again; one still processing answers `pending`; a failed one ends `failed`.
 */
async function completeKnownContainer(call: Call & { state: ResumeState & { containerId: string } }): Promise<ProviderPublishResult> {
  let published: ProviderPublishResult | undefined;
  let outcome;
  try {
    outcome = await publishContainerOnce({
      http: call.context.graph,
      containerId: call.state.containerId,
      accessToken: call.accessToken,
      ...CONTAINER_FIELDS,
      ...signalOf(call),
      publish: async () => {
        published = await publishContainer(call);
        return published.postId ?? '';
      },
    });
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'media_invalid' && error.rule?.startsWith('instagram.container.')) {
      return { status: 'failed', warnings: call.state.warnings, error };
    }
    throw error;
  }
  if (outcome.outcome === 'processing') return pendingResult({ state: call.state, context: call.context });
  if (outcome.outcome === 'already_published') return findPublishedMedia(call);
  return published ?? pendingResult({ state: call.state, context: call.context });
}

/** Carousel items: all `FINISHED` → the carousel container is made and published. */
async function completeChildren(call: Call & { state: ResumeState; wait: boolean }): Promise<ProviderPublishResult> {
  const { state } = call;
  const children = state.children ?? [];
  const containers: GraphContainerState[] = [];
  for (const containerId of children) {
    containers.push(call.wait ? await waitForInstagramContainer({ ...call, containerId }) : await readInstagramContainer({ ...call, containerId }));
  }
  // Items turn PUBLISHED with their carousel: an earlier finalize published it.
  if (containers.some((container) => container.status === 'PUBLISHED')) return findPublishedMedia(call);
  const failed = containers.find((container) => container.status === 'ERROR' || container.status === 'EXPIRED');
  if (failed !== undefined) {
    const error = containerFailure({ platform: 'instagram', state: failed });
    if (call.wait) throw error;
    return { status: 'failed', warnings: state.warnings, error };
  }
  if (containers.some((container) => container.status !== 'FINISHED')) return pendingResult({ state, context: call.context });
  const containerId = await createContainer({
    ...call,
    igUserId: state.igUserId,
    parameters: { media_type: 'CAROUSEL', children: children.join(','), caption: state.caption },
  });
  return completeNewContainer({ ...call, state: { ...state, stage: 'container', containerId } });
}

/**
 * Publishes one post: public media hosts and the 24-hour limit first, then the containers
 * (one, or one per carousel item and the carousel), waits for `FINISHED` within the wait budget
 * and calls `media_publish` once. A container still processing ends `pending` with `resume`.
 */
export async function publishInstagramPost(options: {
  context: InstagramContext;
  post: Post;
  auth: PublishAuth<InstagramCredentials>;
  options: InstagramOptions;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, post } = options;
  const { accessToken, igUserId } = instagramAuthOf(options.auth);
  const call: Call = { context, accessToken, ...(options.signal !== undefined && { signal: options.signal }) };
  const media = post.media ?? [];
  const urls = mediaUrls(media);
  const shape = instagramShapeOf({ post, options: options.options });
  await assertPublicMediaHosts({ context, media });
  await assertPublishingQuota({ ...call, igUserId });

  const caption = shape === 'story' || post.text.trim() === '' ? undefined : post.text;
  const base = {
    v: 1 as const,
    igUserId,
    shape,
    createdAt: context.clock.now(),
    warnings: [] as PublishWarning[],
    ...(caption !== undefined && { caption }),
    ...(post.firstComment !== undefined && shape !== 'story' && { firstComment: post.firstComment }),
  };
  if (shape === 'carousel') {
    const children: string[] = [];
    for (const [index, item] of media.entries()) {
      children.push(await createContainer({ ...call, igUserId, parameters: carouselItemParameters({ media: item, url: urls[index]! }) }));
    }
    return completeChildren({ ...call, state: { ...base, stage: 'children', children }, wait: true });
  }
  const containerId = await createContainer({ ...call, igUserId, parameters: containerParameters({ post, options: options.options, shape, urls }) });
  return completeNewContainer({ ...call, state: { ...base, stage: 'container', containerId } });
}

/** Read-only: where a pending publish stands. Never creates or publishes anything. */
export async function checkInstagramStatus(options: ProviderResumeOptions<InstagramCredentials> & { context: InstagramContext }): Promise<ProviderStatusResult> {
  const state = parseResumeState(options.resume);
  const { accessToken } = instagramAuthOf(options.auth);
  const call: Call = { context: options.context, accessToken, ...(options.signal !== undefined && { signal: options.signal }) };
  const ids = state.stage === 'container' ? [state.containerId!] : (state.children ?? []);
  const containers: GraphContainerState[] = [];
  for (const containerId of ids) containers.push(await readInstagramContainer({ ...call, containerId }));
  if (containers.some((container) => container.status === 'PUBLISHED')) return findPublishedMedia({ ...call, state });
  const failed = containers.find((container) => container.status === 'ERROR' || container.status === 'EXPIRED');
  if (failed !== undefined) return { status: 'failed', warnings: state.warnings, error: containerFailure({ platform: 'instagram', state: failed }) };
  if (containers.every((container) => container.status === 'FINISHED')) return { status: 'ready', resume: toJsonValue(state) };
  return pendingResult({ state, context: call.context });
}

/**
 * The remaining write of a pending publish: `media_publish` (after the carousel container, for
 * carousel items that were still processing). Reads the container first, so a second finalize
 * with the same state finds it `PUBLISHED` and reports that post without publishing again.
 */
export async function finalizeInstagramPost(options: ProviderResumeOptions<InstagramCredentials> & { context: InstagramContext }): Promise<ProviderPublishResult> {
  const state = parseResumeState(options.resume);
  const { accessToken } = instagramAuthOf(options.auth);
  const call: Call = { context: options.context, accessToken, ...(options.signal !== undefined && { signal: options.signal }) };
  if (state.stage === 'children') return completeChildren({ ...call, state, wait: false });
  return completeKnownContainer({ ...call, state: { ...state, containerId: state.containerId! } });
}
