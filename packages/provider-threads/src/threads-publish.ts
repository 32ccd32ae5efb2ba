import {
  LetmepostError,
  postItems,
  type Media,
  type Post,
  type ProviderAccount,
  type ProviderPublishResult,
  type ProviderStatusResult,
  type PublishAuth,
  type PublishItemResult,
  type PublishWarning,
  type TokenSet,
} from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { containerFailure, publishContainerOnce, waitForContainer, type GraphContainerState } from '@letmepost/meta-graph';
import { toJsonValue } from '@letmepost/provider-utils';
import { z } from 'zod';
import {
  threadsDeleteSchema,
  threadsIdSchema,
  threadsPermalinkSchema,
  threadsProfileSchema,
  threadsPublishingLimitSchema,
} from './threads-api.js';
import type { ThreadsContext } from './threads-context.js';
import type { ThreadsCredentials } from './threads-credentials.js';
import type { ThreadsOptions } from './threads-options.js';
import { renderThreadsText, THREADS_REPLY_TO_PATTERN } from './threads-validate.js';

function threadsError(options: Omit<ConstructorParameters<typeof LetmepostError>[0], 'platform'>): LetmepostError {
  return new LetmepostError({ platform: 'threads', ...options });
}

/** The account a publish acts as: its Threads user id and token. */
interface Actor {
  userId: string;
  accessToken: string;
}

function actorOf(auth: PublishAuth<ThreadsCredentials>): Actor {
  return auth.type === 'account'
    ? { userId: auth.account.platformAccountId, accessToken: auth.tokens.accessToken }
    : { userId: auth.credentials.threadsUserId, accessToken: auth.credentials.accessToken };
}

// ---- the plan: what each post of a publish becomes, kept as resume state -------------------------

const plannedMediaSchema = lazySchema(() => z.object({ type: z.enum(['IMAGE', 'VIDEO']), url: z.string().min(1), altText: z.string().optional() }));

const plannedItemSchema = lazySchema(() =>
  z.object({
    /** `post`: the root or a thread item, replying to the item before; `comment`: the first comment, replying to the root. */
    kind: z.enum(['post', 'comment']),
    text: z.string(),
    linkAttachment: z.string().optional(),
    media: z.array(plannedMediaSchema()),
    /** Carousel children already created (each waited for before the carousel container). */
    childContainerIds: z.array(z.string()).optional(),
    /** The container to publish, once created. */
    containerId: z.string().optional(),
    /** Set once published: a finished item is never published again. */
    postId: z.string().optional(),
    url: z.string().optional(),
  }),
);

const resumeStateSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    userId: z.string().min(1),
    replyTo: z.string().optional(),
    replyControl: z.string().optional(),
    topicTag: z.string().optional(),
    items: z.array(plannedItemSchema()).min(1),
  }),
);

type PlannedItem = z.infer<ReturnType<typeof plannedItemSchema>>;
type ResumeState = z.infer<ReturnType<typeof resumeStateSchema>>;

function parseResumeState(options: { resume: unknown; actor: Actor }): ResumeState {
  const parsed = resumeStateSchema().safeParse(options.resume);
  if (!parsed.success) throw threadsError({ code: 'validation_failed', message: 'This is not the state of a pending Threads publish.', field: 'resume' });
  if (parsed.data.userId !== options.actor.userId) {
    throw threadsError({ code: 'validation_failed', message: 'The resume state belongs to another Threads account.', field: 'resume' });
  }
  return parsed.data;
}

function mediaUrl(options: { media: Media; field: string }): string {
  if (options.media.url === undefined) {
    // Core stages bytes and streams into URLs for pull platforms; a direct caller must do it.
    throw threadsError({
      code: 'validation_failed',
      message: 'Threads fetches media from a public URL: pass { url }, or configure createLetmepost({ mediaStaging }) so bytes are staged first.',
      field: options.field,
      rule: 'media.staging_not_configured',
    });
  }
  return options.media.url;
}

function planOf(options: { post: Post; options: ThreadsOptions; actor: Actor }): ResumeState {
  const { post } = options;
  const items: PlannedItem[] = postItems(post).map((item, index) => {
    const prefix = index === 0 ? '' : `thread.${index - 1}.`;
    const media = (item.media ?? []).map((entry, mediaIndex) => ({
      type: entry.mimeType.toLowerCase().startsWith('video/') ? ('VIDEO' as const) : ('IMAGE' as const),
      url: mediaUrl({ media: entry, field: `${prefix}media.${mediaIndex}` }),
      ...(entry.altText !== undefined && { altText: entry.altText }),
    }));
    return {
      kind: 'post' as const,
      text: renderThreadsText({ item }),
      ...(media.length === 0 && item.link !== undefined && { linkAttachment: item.link }),
      media,
    };
  });
  if (post.firstComment !== undefined) items.push({ kind: 'comment', text: post.firstComment, media: [] });
  return {
    v: 1,
    userId: options.actor.userId,
    ...(post.replyTo !== undefined && { replyTo: post.replyTo }),
    ...(options.options.replyControl !== undefined && { replyControl: options.options.replyControl }),
    ...(options.options.topicTag !== undefined && { topicTag: options.options.topicTag }),
    items,
  };
}

// ---- the publishing limit ------------------------------------------------------------------------

/**
 * Threads allows 250 API-published posts and 1,000 replies per profile per rolling 24 hours. The
 * live usage is read before the first container is made, so a publish that would pass the limit
 * fails as `quota_exceeded` with nothing created.
 */
async function checkPublishingLimit(options: { context: ThreadsContext; actor: Actor; state: ResumeState; signal?: AbortSignal }): Promise<void> {
  const { context, actor, state } = options;
  const { value } = await context.graph.json({
    method: 'GET',
    path: `${actor.userId}/threads_publishing_limit`,
    query: { fields: 'quota_usage,config,reply_quota_usage,reply_config' },
    accessToken: actor.accessToken,
    schema: threadsPublishingLimitSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  const limit = value.data[0];
  if (limit === undefined) return;
  const posts = state.replyTo === undefined ? 1 : 0;
  const replies = state.items.length - posts;
  const exceeded = (fields: { usage: number | undefined; total: number | undefined; needed: number }) =>
    fields.needed > 0 && fields.usage !== undefined && fields.total !== undefined && fields.usage + fields.needed > fields.total;
  if (exceeded({ usage: limit.quota_usage, total: limit.config?.quota_total, needed: posts })) {
    throw threadsError({
      code: 'quota_exceeded',
      message: `This Threads profile has published ${limit.quota_usage} of its ${limit.config?.quota_total} posts allowed in 24 hours.`,
      rule: 'threads.quota.posts',
      retryable: false,
      remediation: 'Publish again once the rolling 24-hour window has room.',
    });
  }
  if (exceeded({ usage: limit.reply_quota_usage, total: limit.reply_config?.quota_total, needed: replies })) {
    throw threadsError({
      code: 'quota_exceeded',
      message: `This Threads profile has posted ${limit.reply_quota_usage} of its ${limit.reply_config?.quota_total} replies allowed in 24 hours; this publish needs ${replies}.`,
      rule: 'threads.quota.replies',
      retryable: false,
      remediation: 'Publish again once the rolling 24-hour window has room.',
    });
  }
}

// ---- containers ------------------------------------------------------------------------------------

/** Threads names a container's state `status` and the reason of an `ERROR` `error_message`. */
const THREADS_CONTAINER_FIELDS = { statusField: 'status', detailField: 'error_message' } as const;

/**
 * What is left of the time one `publish` may spend waiting for containers, shared by every
 * container it waits for (carousel children, each post of a thread), so `container.maxWaitMs`
 * bounds the whole publish. `finalize` and `checkStatus` have none: they look once.
 */
interface WaitBudget {
  remainingMs: number;
}

/** Looks at a container until it leaves IN_PROGRESS or the budget is spent (always at least once). */
async function settleContainer(options: { context: ThreadsContext; actor: Actor; containerId: string; budget: WaitBudget; signal?: AbortSignal }) {
  const { context, budget } = options;
  const waited = await waitForContainer({
    http: context.graph,
    containerId: options.containerId,
    accessToken: options.actor.accessToken,
    ...THREADS_CONTAINER_FIELDS,
    intervalMs: context.containerWait.intervalMs,
    maxWaitMs: budget.remainingMs,
    ...(context.containerWait.sleep !== undefined && { sleep: context.containerWait.sleep }),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  budget.remainingMs = Math.max(0, budget.remainingMs - (waited.attempts - 1) * context.containerWait.intervalMs);
  return waited;
}

function failureOf(state: GraphContainerState): LetmepostError {
  return containerFailure({ platform: 'threads', state });
}

async function createContainer(options: { context: ThreadsContext; actor: Actor; form: Record<string, string>; signal?: AbortSignal }): Promise<string> {
  const { value } = await options.context.graph.json({
    method: 'POST',
    path: `${options.actor.userId}/threads`,
    body: { form: options.form },
    accessToken: options.actor.accessToken,
    // A container is a draft: a repeated create leaves an unpublished container that expires on
    // its own, never a second post, so a lost answer may be retried.
    retry: 'idempotent',
    schema: threadsIdSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return value.id;
}

function itemForm(options: { state: ResumeState; item: PlannedItem; index: number; replyToId: string | undefined }): Record<string, string> {
  const { state, item } = options;
  const form: Record<string, string> = {};
  const single = item.media.length === 1 ? item.media[0] : undefined;
  if (item.media.length === 0) form.media_type = 'TEXT';
  else if (single !== undefined) {
    form.media_type = single.type;
    form[single.type === 'IMAGE' ? 'image_url' : 'video_url'] = single.url;
    if (single.altText !== undefined) form.alt_text = single.altText;
  } else {
    form.media_type = 'CAROUSEL';
    form.children = (item.childContainerIds ?? []).join(',');
  }
  if (item.text !== '') form.text = item.text;
  if (item.linkAttachment !== undefined) form.link_attachment = item.linkAttachment;
  if (options.replyToId !== undefined) form.reply_to_id = options.replyToId;
  if (state.replyControl !== undefined) form.reply_control = state.replyControl;
  if (state.topicTag !== undefined && options.index === 0) form.topic_tag = state.topicTag;
  return form;
}

type Step = { kind: 'published'; item: PlannedItem } | { kind: 'waiting'; item: PlannedItem } | { kind: 'failed'; item: PlannedItem; error: LetmepostError };

/**
 * Moves one item forward as far as it can: children, then its container, then the publish. What
 * was created is written into the returned item, so a later resume continues where this stopped.
 */
async function advanceItem(options: {
  context: ThreadsContext;
  actor: Actor;
  state: ResumeState;
  index: number;
  replyToId: string | undefined;
  budget: WaitBudget;
  signal?: AbortSignal;
}): Promise<Step> {
  const { context, actor, state, index, budget, signal } = options;
  let item = state.items[index]!;
  const signalOption = signal !== undefined ? { signal } : {};

  if (item.containerId === undefined && item.media.length > 1) {
    const childIds = [...(item.childContainerIds ?? [])];
    for (const media of item.media.slice(childIds.length)) {
      childIds.push(
        await createContainer({
          context,
          actor,
          form: {
            media_type: media.type,
            [media.type === 'IMAGE' ? 'image_url' : 'video_url']: media.url,
            is_carousel_item: 'true',
            ...(media.altText !== undefined && { alt_text: media.altText }),
          },
          ...signalOption,
        }),
      );
    }
    item = { ...item, childContainerIds: childIds };
    // Every child must be FINISHED before the carousel container that lists them is made.
    for (const childId of childIds) {
      const { state: child, done } = await settleContainer({ context, actor, containerId: childId, budget, ...signalOption });
      if (!done) return { kind: 'waiting', item };
      if (child.status !== 'FINISHED') return { kind: 'failed', item, error: failureOf(child) };
    }
  }
  if (item.containerId === undefined) {
    item = { ...item, containerId: await createContainer({ context, actor, form: itemForm({ state, item, index, replyToId: options.replyToId }), ...signalOption }) };
  }
  const containerId = item.containerId!;
  const { state: waited, done } = await settleContainer({ context, actor, containerId, budget, ...signalOption });
  if (!done) return { kind: 'waiting', item };
  let outcome;
  try {
    outcome = await publishContainerOnce({
      http: context.graph,
      containerId,
      accessToken: actor.accessToken,
      ...THREADS_CONTAINER_FIELDS,
      knownState: waited,
      ...signalOption,
      publish: async ({ signal: publishSignal }) => {
        const { value } = await context.graph.json({
          method: 'POST',
          path: `${actor.userId}/threads_publish`,
          body: { form: { creation_id: containerId } },
          accessToken: actor.accessToken,
          // The write that makes the post: never repeated once it may have arrived.
          retry: 'create',
          schema: threadsIdSchema(),
          ...(publishSignal !== undefined && { signal: publishSignal }),
        });
        return value.id;
      },
    });
  } catch (error) {
    // ERROR and EXPIRED containers: the media failed, nothing was published.
    if (LetmepostError.isInstance(error) && error.code === 'media_invalid' && (waited.status === 'ERROR' || waited.status === 'EXPIRED')) {
      return { kind: 'failed', item, error };
    }
    throw error;
  }
  if (outcome.outcome === 'processing') return { kind: 'waiting', item };
  if (outcome.outcome === 'already_published') {
    // Published by an earlier finalize whose answer was lost: never published again. Threads does
    // not say which post a container became, so the id stays unknown ('').
    return { kind: 'published', item: { ...item, postId: outcome.mediaId ?? '' } };
  }
  const url = await permalinkOf({ context, actor, postId: outcome.mediaId, ...signalOption });
  return { kind: 'published', item: { ...item, postId: outcome.mediaId, ...(url !== undefined && { url }) } };
}

/** The post's permalink; cosmetic, so a failure to read it never fails the publish. */
async function permalinkOf(options: { context: ThreadsContext; actor: Actor; postId: string; signal?: AbortSignal }): Promise<string | undefined> {
  try {
    const { value } = await options.context.graph.json({
      method: 'GET',
      path: options.postId,
      query: { fields: 'id,permalink' },
      accessToken: options.actor.accessToken,
      schema: threadsPermalinkSchema(),
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    return value.permalink;
  } catch {
    return undefined;
  }
}

/**
 * Publishes the plan's items in order, each replying to the one before (the first comment to the
 * root), until all are published, one is still processing (`pending` with the state so far), or
 * one fails. Nothing throws once the first post exists: the result says which items landed.
 */
async function advance(options: { context: ThreadsContext; actor: Actor; state: ResumeState; once: boolean; signal?: AbortSignal }): Promise<ProviderPublishResult> {
  const { context, actor, once, signal } = options;
  const budget: WaitBudget = { remainingMs: once ? 0 : context.containerWait.maxWaitMs };
  let state = options.state;
  const warnings: PublishWarning[] = [];
  for (let index = 0; index < state.items.length; index += 1) {
    const current = state.items[index]!;
    if (current.postId !== undefined) continue;
    const replyToId = current.kind === 'comment' ? state.items[0]!.postId : index === 0 ? state.replyTo : state.items[index - 1]!.postId;
    if (index > 0 && (replyToId === undefined || replyToId === '')) {
      // The post before was published by a lost finalize whose id Threads does not give back:
      // what follows cannot be attached to it.
      return finish({ state, warnings, failedFrom: { index, error: threadsError({ code: 'publish_outcome_unknown', message: 'The post this one replies to was published, but its id is unknown, so the rest of the thread was not posted.', retryable: false }) } });
    }
    let step: Step;
    try {
      step = await advanceItem({ context, actor, state, index, replyToId, budget, ...(signal !== undefined && { signal }) });
    } catch (error) {
      // Nothing published yet: the error stands for the whole publish (and core may refresh and retry).
      if (!published(state)) throw error;
      const mapped = LetmepostError.isInstance(error) ? error : threadsError({ code: 'platform_unavailable', message: 'Posting to Threads failed unexpectedly.', cause: error });
      return finish({ state, warnings, failedFrom: { index, error: mapped } });
    }
    state = { ...state, items: state.items.map((item, position) => (position === index ? step.item : item)) };
    if (step.kind === 'waiting') return { status: 'pending', resume: toJsonValue(state), checkAfterMs: context.containerWait.checkAfterMs, warnings };
    if (step.kind === 'failed') {
      if (!published(state) && !once) throw step.error;
      return finish({ state, warnings, failedFrom: { index, error: step.error } });
    }
  }
  return finish({ state, warnings });
}

function published(state: ResumeState): boolean {
  return state.items.some((item) => item.postId !== undefined);
}

function finish(options: { state: ResumeState; warnings: PublishWarning[]; failedFrom?: { index: number; error: LetmepostError } }): ProviderPublishResult {
  const { state, warnings, failedFrom } = options;
  const items: PublishItemResult[] = [];
  for (const [index, item] of state.items.entries()) {
    if (item.kind === 'comment') {
      if (item.postId === undefined && failedFrom !== undefined && failedFrom.index === index) {
        warnings.push({ code: 'threads.first_comment.failed', message: `The post was published, but its first comment was not (${failedFrom.error.code}).` });
      }
      continue;
    }
    if (item.postId !== undefined) {
      items.push({ index, status: 'published', ...(item.postId !== '' && { postId: item.postId }), ...(item.url !== undefined && { url: item.url }) });
    } else if (failedFrom !== undefined && index === failedFrom.index) {
      items.push({ index, status: failedFrom.error.code === 'publish_outcome_unknown' ? 'unknown' : 'failed', error: failedFrom.error });
    } else {
      items.push({ index, status: 'failed', error: threadsError({ code: failedFrom?.error.code ?? 'platform_unavailable', message: `Not posted: thread item ${failedFrom?.index ?? index} did not publish.` }) });
    }
  }
  const root = state.items[0]!;
  if (root.postId === '') warnings.push({ code: 'threads.post_id_unknown', message: 'The post was published by an earlier attempt whose answer was lost; Threads does not say which post a container became.' });
  const failedPost = failedFrom !== undefined && state.items[failedFrom.index]?.kind === 'post';
  const status = failedPost ? (failedFrom.error.code === 'publish_outcome_unknown' ? 'unknown' : 'failed') : 'published';
  return {
    status,
    ...(root.postId !== undefined && root.postId !== '' && { postId: root.postId }),
    ...(root.url !== undefined && { url: root.url }),
    ...(items.length > 1 && { items }),
    warnings,
    ...(failedPost && { error: failedFrom.error }),
  };
}

// ---- entry points ------------------------------------------------------------------------------------

export async function publishThreadsPost(options: {
  context: ThreadsContext;
  post: Post;
  auth: PublishAuth<ThreadsCredentials>;
  options: ThreadsOptions;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, signal } = options;
  const actor = actorOf(options.auth);
  const state = planOf({ post: options.post, options: options.options, actor });
  await checkPublishingLimit({ context, actor, state, ...(signal !== undefined && { signal }) });
  return advance({ context, actor, state, once: false, ...(signal !== undefined && { signal }) });
}

/** Where a pending publish stands. Read-only: it looks at the container being waited for. */
export async function checkThreadsStatus(options: {
  context: ThreadsContext;
  auth: PublishAuth<ThreadsCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderStatusResult> {
  const { context, signal } = options;
  const actor = actorOf(options.auth);
  const state = parseResumeState({ resume: options.resume, actor });
  const next = state.items.find((item) => item.postId === undefined);
  if (next === undefined) return finish({ state, warnings: [] });
  const waitingOn = next.containerId !== undefined ? [next.containerId] : (next.childContainerIds ?? []);
  for (const containerId of waitingOn) {
    const { state: look } = await settleContainer({ context, actor, containerId, budget: { remainingMs: 0 }, ...(signal !== undefined && { signal }) });
    if (look.status === 'IN_PROGRESS') return { status: 'pending', resume: toJsonValue(state), checkAfterMs: context.containerWait.checkAfterMs, warnings: [] };
    if (look.status === 'ERROR' || look.status === 'EXPIRED') {
      if (!published(state)) return { status: 'failed', error: failureOf(look), warnings: [] };
      // Earlier posts exist: finalize reports which items landed and which failed.
      return { status: 'ready' };
    }
  }
  return { status: 'ready' };
}

/**
 * Publishes what a pending publish left: each container is looked at first, so one that an
 * earlier finalize published is never published twice.
 */
export async function finalizeThreadsPublish(options: {
  context: ThreadsContext;
  auth: PublishAuth<ThreadsCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const actor = actorOf(options.auth);
  const state = parseResumeState({ resume: options.resume, actor });
  return advance({ context: options.context, actor, state, once: true, ...(options.signal !== undefined && { signal: options.signal }) });
}

export async function deleteThreadsPost(options: {
  context: ThreadsContext;
  auth: PublishAuth<ThreadsCredentials>;
  postId: string;
  signal?: AbortSignal;
}): Promise<void> {
  if (!THREADS_REPLY_TO_PATTERN.test(options.postId)) {
    throw threadsError({ code: 'validation_failed', message: 'postId must be the numeric Threads post id publish returned.', field: 'postId' });
  }
  const actor = actorOf(options.auth);
  await options.context.graph.json({
    method: 'DELETE',
    path: options.postId,
    accessToken: actor.accessToken,
    // Deleting twice ends in the same state.
    retry: 'idempotent',
    schema: threadsDeleteSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
}

/** The one profile a Threads grant acts as. */
export async function listThreadsAccounts(options: { context: ThreadsContext; tokens: TokenSet; signal?: AbortSignal }): Promise<ProviderAccount[]> {
  const { value } = await options.context.graph.json({
    method: 'GET',
    path: 'me',
    query: { fields: 'id,username,name,threads_profile_picture_url' },
    accessToken: options.tokens.accessToken,
    schema: threadsProfileSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return [
    {
      platformAccountId: value.id,
      kind: 'person',
      ...(value.username !== undefined && { username: value.username, profileUrl: `https://www.threads.com/@${value.username}` }),
      ...(value.name !== undefined && value.name !== '' && { displayName: value.name }),
      ...(value.threads_profile_picture_url !== undefined && { avatarUrl: value.threads_profile_picture_url }),
      data: { ...(value.username !== undefined && { username: value.username }) },
    },
  ];
}
