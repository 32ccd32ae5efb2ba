import {
  LetmepostError,
  postItems,
  type MediaProgressEvent,
  type Post,
  type ProviderPublishResult,
  type ProviderStatusResult,
  type PublishAuth,
  type PublishItemResult,
  type PublishWarning,
} from '@letmepost/core';
import { lazySchema, nodeCrypto } from '@letmepost/core/internal';
import { toJsonValue } from '@letmepost/provider-utils';
import { z } from 'zod';
import {
  POST_COLLECTION,
  createRecordResponseSchema,
  getPostsResponseSchema,
  getRecordResponseSchema,
  strongRefSchema,
  type PostRecord,
  type StrongRef,
} from './bluesky-api.js';
import type { BlueskyContext } from './bluesky-context.js';
import type { BlueskyCredentials } from './bluesky-credentials.js';
import { waitForJob } from './bluesky-media-upload.js';
import type { BlueskyOptions } from './bluesky-options.js';
import { parsePostReference, postAtUri, postWebUrl, rkeyOf } from './bluesky-post-reference.js';
import { acquireSession, type SessionHandle } from './bluesky-session.js';
import { validateBlueskyPost } from './bluesky-validate.js';
import { prepareItem, type DraftRecord, type PreparedItem } from './convert-to-bluesky-post.js';

type ReplyRef = { root: StrongRef; parent: StrongRef };

function bluesky(options: Omit<ConstructorParameters<typeof LetmepostError>[0], 'platform'>): LetmepostError {
  return new LetmepostError({ platform: 'bluesky', ...options });
}

// ---- resume state ----------------------------------------------------------------------------

const draftRecordSchema = lazySchema(() =>
  z.custom<DraftRecord>(
    (value) =>
      value !== null &&
      typeof value === 'object' &&
      (value as { $type?: unknown }).$type === POST_COLLECTION &&
      typeof (value as { text?: unknown }).text === 'string',
    { message: 'must be a draft app.bsky.feed.post record' },
  ),
);

const recordKeySchema = lazySchema(() => z.string().regex(/^[234567a-z]{13}$/, 'must be a TID record key'));

const preparedItemSchema = lazySchema(() =>
  z.object({
    record: draftRecordSchema(),
    videoJobId: z.string().min(1).optional(),
    videoField: z.string().optional(),
    /** Fixed when the publish goes pending, so `finalize` can tell what it already wrote. */
    rkey: recordKeySchema().optional(),
  }),
);

/**
 * What a `pending` publish needs to finish: the draft records (blob references, not bytes) and
 * the video jobs still running. Carries no secret; `checkStatus`/`finalize` re-check the account.
 */
const resumeStateSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    did: z.string(),
    items: z.array(preparedItemSchema()).min(1),
    reply: z.object({ root: strongRefSchema(), parent: strongRefSchema() }).optional(),
    firstComment: draftRecordSchema().optional(),
    firstCommentRkey: recordKeySchema().optional(),
  }),
);

type ResumeState = z.infer<ReturnType<typeof resumeStateSchema>>;

const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';

/**
 * Record keys in atproto's TID format (13 sortable base32 characters: microseconds since the
 * epoch, then a 10-bit clock id) for every record a pending publish will write. With the key
 * fixed in the resume state, a repeated `finalize` finds the records it already wrote instead
 * of writing them twice.
 */
function withRecordKeys(options: { context: BlueskyContext; state: ResumeState }): ResumeState {
  const { state } = options;
  const clockId = BigInt(nodeCrypto().randomInt(1024));
  const start = BigInt(options.context.clock.now()) * 1000n;
  let sequence = 0n;
  const next = (): string => {
    let value = ((start + sequence) << 10n) | clockId;
    sequence += 1n;
    let key = '';
    for (let index = 0; index < 13; index += 1) {
      key = TID_ALPHABET[Number(value & 31n)] + key;
      value >>= 5n;
    }
    return key;
  };
  return {
    ...state,
    items: state.items.map((item) => ({ ...item, rkey: item.rkey ?? next() })),
    ...(state.firstComment !== undefined && { firstCommentRkey: state.firstCommentRkey ?? next() }),
  };
}

export function parseResumeState(resume: unknown): ResumeState {
  const parsed = resumeStateSchema().safeParse(resume);
  if (!parsed.success) {
    throw bluesky({ code: 'validation_failed', message: 'This is not the state of a pending Bluesky publish.', field: 'resume' });
  }
  return parsed.data;
}

// ---- reading the post replied to ---------------------------------------------------------------

/**
 * The strong refs a reply to `replyTo` needs: the post itself as parent, and its thread root
 * (its own `reply.root`, or itself when it starts a thread). The account's own posts are read
 * from its PDS (authoritative, no indexing delay); others from the AppView.
 */
export async function resolveReplyTarget(options: {
  context: BlueskyContext;
  session: SessionHandle;
  replyTo: string;
  signal?: AbortSignal;
}): Promise<ReplyRef> {
  const { context, session, replyTo, signal } = options;
  const reference = parsePostReference({ value: replyTo });
  if (!reference) {
    throw bluesky({ code: 'validation_failed', message: 'replyTo is not a Bluesky post URI or URL.', field: 'replyTo', rule: 'bluesky.reply_to.format' });
  }
  const notFound = (cause?: unknown) =>
    bluesky({ code: 'not_found', message: `The post to reply to (${replyTo}) does not exist or is not visible.`, field: 'replyTo', cause });
  let did = reference.repo;
  if (!did.startsWith('did:')) {
    try {
      did = did === session.handle ? session.did : await context.identity.resolveHandle({ handle: did, service: session.pdsUrl, signal });
    } catch (error) {
      if (LetmepostError.isInstance(error) && error.code === 'platform_auth_failed') throw notFound(error);
      throw error;
    }
  }
  const uri = postAtUri({ did, rkey: reference.rkey });
  try {
    if (did === session.did) {
      const { value } = await context.http.json({
        method: 'GET',
        url: `${session.pdsUrl}/xrpc/com.atproto.repo.getRecord`,
        query: { repo: did, collection: POST_COLLECTION, rkey: reference.rkey },
        schema: getRecordResponseSchema(),
        signal,
      });
      const parent = { uri: value.uri, cid: value.cid };
      return { root: value.value.reply?.root ?? parent, parent };
    }
    const { value } = await context.http.json({
      method: 'GET',
      url: `${context.appViewUrl}/xrpc/app.bsky.feed.getPosts`,
      query: { uris: uri },
      schema: getPostsResponseSchema(),
      signal,
    });
    const post = value.posts[0];
    if (!post) throw notFound();
    const parent = { uri: post.uri, cid: post.cid };
    return { root: post.record.reply?.root ?? parent, parent };
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'not_found' && error.field === undefined) throw notFound(error);
    throw error;
  }
}

// ---- writing ------------------------------------------------------------------------------------

/** The record at `rkey` in the account's repo, if it exists (read from the PDS, authoritative). */
async function findRecord(options: { context: BlueskyContext; session: SessionHandle; rkey: string; signal?: AbortSignal }): Promise<StrongRef | undefined> {
  const { context, session, rkey, signal } = options;
  try {
    const { value } = await context.http.json({
      method: 'GET',
      url: `${session.pdsUrl}/xrpc/com.atproto.repo.getRecord`,
      query: { repo: session.did, collection: POST_COLLECTION, rkey },
      schema: getRecordResponseSchema(),
      signal,
    });
    return { uri: value.uri, cid: value.cid };
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'not_found') return undefined;
    throw error;
  }
}

/** Writes a record, or with a fixed `rkey` first looks whether an earlier finalize already did. */
async function writeRecordOnce(options: {
  context: BlueskyContext;
  session: SessionHandle;
  record: DraftRecord;
  reply: ReplyRef | undefined;
  rkey: string | undefined;
  signal?: AbortSignal;
}): Promise<StrongRef> {
  if (options.rkey !== undefined) {
    const existing = await findRecord({ context: options.context, session: options.session, rkey: options.rkey, signal: options.signal });
    if (existing !== undefined) return existing;
  }
  return createRecord(options);
}

async function createRecord(options: {
  context: BlueskyContext;
  session: SessionHandle;
  record: DraftRecord;
  reply: ReplyRef | undefined;
  rkey?: string | undefined;
  signal?: AbortSignal;
}): Promise<StrongRef> {
  const { context, session, signal } = options;
  // `createdAt` is when the record is written, which for a `pending` publish is when it resumes.
  const record: PostRecord = {
    ...options.record,
    ...(options.reply ? { reply: options.reply } : {}),
    createdAt: new Date(context.clock.now()).toISOString(),
  };
  const { value } = await session.call((accessJwt) =>
    context.http.json({
      method: 'POST',
      url: `${session.pdsUrl}/xrpc/com.atproto.repo.createRecord`,
      auth: { bearer: accessJwt },
      body: { json: { repo: session.did, collection: POST_COLLECTION, ...(options.rkey !== undefined ? { rkey: options.rkey } : {}), record } },
      schema: createRecordResponseSchema(),
      retry: 'create',
      signal,
    }),
  );
  return { uri: value.uri, cid: value.cid };
}

function webUrl(session: SessionHandle, uri: string): string {
  // `handle.invalid` is what a PDS reports when the handle no longer verifies.
  const handleOrDid = session.handle && session.handle !== 'handle.invalid' ? session.handle : session.did;
  return postWebUrl({ handleOrDid, rkey: rkeyOf({ uri }) });
}

/**
 * Writes the records in order, chaining replies: item 0 answers `reply` (if any), item N answers
 * item N-1, and all share one thread root. Once the first record exists nothing throws: the
 * result says which items landed.
 */
async function writeThread(options: {
  context: BlueskyContext;
  session: SessionHandle;
  records: readonly DraftRecord[];
  reply: ReplyRef | undefined;
  firstComment: DraftRecord | undefined;
  /** Fixed record keys (resumed publishes): each record is looked up before it is written. */
  recordKeys?: { items: ReadonlyArray<string | undefined>; firstComment: string | undefined };
  warnings: PublishWarning[];
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, session, records, warnings, signal } = options;
  const items: PublishItemResult[] = [];
  let root = options.reply?.root;
  let parent = options.reply?.parent;
  let failure: { index: number; status: 'failed' | 'unknown'; error: LetmepostError } | undefined;
  let firstRef: StrongRef | undefined;

  for (const [index, record] of records.entries()) {
    if (failure) {
      items.push({
        index,
        status: 'failed',
        error: bluesky({
          code: failure.error.code,
          message: `Not posted: thread item ${failure.index} did not publish (${failure.error.code}).`,
          retryable: failure.error.retryable,
        }),
      });
      continue;
    }
    const reply = root && parent ? { root, parent } : undefined;
    try {
      const created = await writeRecordOnce({ context, session, record, reply, rkey: options.recordKeys?.items[index], signal });
      root ??= created;
      firstRef ??= created;
      parent = created;
      items.push({ index, status: 'published', postId: created.uri, url: webUrl(session, created.uri) });
    } catch (error) {
      if (index === 0) throw error;
      const mapped = LetmepostError.isInstance(error)
        ? error
        : bluesky({ code: 'platform_unavailable', message: 'Posting a thread item failed unexpectedly.', cause: error });
      failure = { index, status: mapped.code === 'publish_outcome_unknown' ? 'unknown' : 'failed', error: mapped };
      items.push({ index, status: failure.status, error: mapped });
    }
  }

  if (!failure && options.firstComment && firstRef && root) {
    try {
      // The first comment answers our post; the thread root stays the root of the whole thread.
      await writeRecordOnce({
        context,
        session,
        record: options.firstComment,
        reply: { root, parent: firstRef },
        rkey: options.recordKeys?.firstComment,
        signal,
      });
    } catch (error) {
      const code = LetmepostError.isInstance(error) ? error.code : 'platform_unavailable';
      warnings.push({ code: 'bluesky.first_comment.failed', message: `The post was published, but its first comment was not (${code}).` });
    }
  }

  const first = items[0];
  return {
    status: failure ? failure.status : 'published',
    postId: first?.postId,
    url: first?.url,
    items,
    warnings,
    ...(failure ? { error: failure.error } : {}),
  };
}

// ---- entry points -------------------------------------------------------------------------------

function throwIfInvalid(options: { post: Post; options: BlueskyOptions }): void {
  const issues = validateBlueskyPost(options);
  const first = issues[0];
  if (!first) return;
  throw bluesky({
    code: 'validation_failed',
    message: issues.length === 1 ? first.message : `${first.message} (and ${issues.length - 1} more issue(s))`,
    rule: first.rule,
    field: first.field,
    issues,
  });
}

export async function publishPost(options: {
  context: BlueskyContext;
  post: Post;
  auth: PublishAuth<BlueskyCredentials>;
  options: BlueskyOptions;
  signal?: AbortSignal;
  onProgress?: (event: MediaProgressEvent) => void;
}): Promise<ProviderPublishResult> {
  const { context, post, signal, onProgress } = options;
  const targetOptions = options.options ?? {};
  throwIfInvalid({ post, options: targetOptions });
  const session = await acquireSession({ context, auth: options.auth, signal });
  const reply = post.replyTo ? await resolveReplyTarget({ context, session, replyTo: post.replyTo, signal }) : undefined;

  // Every item is prepared (facets resolved, media uploaded, videos handed over) before the
  // first record is written, so a failing upload never leaves half a thread behind.
  const warnings: PublishWarning[] = [];
  const prepared: PreparedItem[] = [];
  for (const [itemIndex, item] of postItems(post).entries()) {
    prepared.push(
      await prepareItem({
        context,
        session,
        item,
        itemIndex,
        fieldPrefix: itemIndex === 0 ? '' : `thread.${itemIndex - 1}.`,
        options: targetOptions,
        warnings,
        signal,
        onProgress,
      }),
    );
  }
  const firstComment = post.firstComment
    ? (
        await prepareItem({
          context,
          session,
          item: { text: post.firstComment },
          itemIndex: prepared.length,
          fieldPrefix: 'firstComment.',
          options: { ...targetOptions, linkCard: undefined },
          warnings,
          signal,
        })
      ).record
    : undefined;

  const state: ResumeState = { v: 1, did: session.did, items: prepared, ...(reply ? { reply } : {}), ...(firstComment ? { firstComment } : {}) };
  const settled = await settleVideos({ context, state, wait: true, signal });
  // Nothing is written yet, so a failed video fails the publish as a whole.
  if (settled.state === 'failed') throw settled.error;
  if (settled.state === 'processing') return pending({ context, resume: settled.resume, warnings });
  return writeResumed({ context, session, resume: settled.resume, warnings, signal });
}

type VideoSettlement =
  | { state: 'ready'; resume: ResumeState }
  | { state: 'processing'; resume: ResumeState }
  | { state: 'failed'; error: LetmepostError };

/** Fills in the blobs of finished video jobs; says whether any job still runs or one failed. */
async function settleVideos(options: {
  context: BlueskyContext;
  state: ResumeState;
  /** Poll within the wait budget (publish), or look once (checkStatus, finalize). */
  wait: boolean;
  signal?: AbortSignal;
}): Promise<VideoSettlement> {
  const { context, state, signal } = options;
  const items: PreparedItem[] = [];
  for (const [index, item] of state.items.entries()) {
    if (!item.videoJobId) {
      items.push(item);
      continue;
    }
    const field = item.videoField ?? (index === 0 ? 'media' : `thread.${index - 1}.media`);
    const outcome = await waitForJob({ context, jobId: item.videoJobId, field, once: !options.wait, signal });
    if (outcome.state === 'failed') return { state: 'failed', error: outcome.error };
    if (outcome.state === 'processing') {
      items.push(item);
      continue;
    }
    const embed = item.record.embed;
    items.push({
      record: { ...item.record, embed: { ...(embed as object), video: outcome.blob } as DraftRecord['embed'] },
      ...(item.rkey !== undefined && { rkey: item.rkey }),
    });
  }
  const resume = { ...state, items };
  return { state: items.some((item) => item.videoJobId) ? 'processing' : 'ready', resume };
}

function pending(options: { context: BlueskyContext; resume: ResumeState; warnings: PublishWarning[] }): ProviderPublishResult {
  return {
    status: 'pending',
    resume: toJsonValue(withRecordKeys({ context: options.context, state: options.resume })),
    checkAfterMs: options.context.video.pollIntervalMs,
    warnings: options.warnings,
  };
}

function writeResumed(options: { context: BlueskyContext; session: SessionHandle; resume: ResumeState; warnings: PublishWarning[]; signal?: AbortSignal }) {
  const { resume } = options;
  return writeThread({
    context: options.context,
    session: options.session,
    records: resume.items.map((item) => item.record),
    reply: resume.reply,
    firstComment: resume.firstComment,
    recordKeys: { items: resume.items.map((item) => item.rkey), firstComment: resume.firstCommentRkey },
    warnings: options.warnings,
    signal: options.signal,
  });
}

/** The session of the account a resume state belongs to; state of another account is refused. */
async function resumeSession(options: {
  context: BlueskyContext;
  auth: PublishAuth<BlueskyCredentials>;
  state: ResumeState;
  signal?: AbortSignal;
}): Promise<SessionHandle> {
  const session = await acquireSession({ context: options.context, auth: options.auth, signal: options.signal });
  if (options.state.did !== session.did) {
    throw bluesky({ code: 'validation_failed', message: 'The resume state belongs to another Bluesky account.', field: 'resume' });
  }
  return session;
}

/** Where the video jobs of a `pending` publish stand. Read-only: one `getJobStatus` per running job. */
export async function checkPublishStatus(options: {
  context: BlueskyContext;
  auth: PublishAuth<BlueskyCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderStatusResult> {
  const { context, signal } = options;
  const state = parseResumeState(options.resume);
  await resumeSession({ context, auth: options.auth, state, signal });
  const settled = await settleVideos({ context, state, wait: false, signal });
  if (settled.state === 'failed') return { status: 'failed', error: settled.error, warnings: [] };
  if (settled.state === 'processing') return pending({ context, resume: settled.resume, warnings: [] });
  return { status: 'ready', resume: toJsonValue(settled.resume) };
}

/** Writes the records of a `pending` publish once every video is processed (pending again if not). */
export async function finalizePublish(options: {
  context: BlueskyContext;
  auth: PublishAuth<BlueskyCredentials>;
  resume: unknown;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context, signal } = options;
  const state = parseResumeState(options.resume);
  const session = await resumeSession({ context, auth: options.auth, state, signal });
  const settled = await settleVideos({ context, state, wait: false, signal });
  if (settled.state === 'failed') return { status: 'failed', error: settled.error, warnings: [] };
  if (settled.state === 'processing') return pending({ context, resume: settled.resume, warnings: [] });
  return writeResumed({ context, session, resume: settled.resume, warnings: [], signal });
}

export async function deletePost(options: {
  context: BlueskyContext;
  auth: PublishAuth<BlueskyCredentials>;
  postId: string;
  signal?: AbortSignal;
}): Promise<void> {
  const { context, postId, signal } = options;
  const reference = parsePostReference({ value: postId });
  if (!reference) {
    throw bluesky({
      code: 'validation_failed',
      message: 'postId must be the post AT URI publish returned (at://did:.../app.bsky.feed.post/<rkey>).',
      field: 'postId',
    });
  }
  const session = await acquireSession({ context, auth: options.auth, signal });
  const owner = reference.repo.startsWith('did:') ? reference.repo : reference.repo === session.handle ? session.did : undefined;
  if (owner !== session.did) {
    throw bluesky({
      code: 'permission_denied',
      message: 'The post belongs to another Bluesky account than the one deleting it.',
      field: 'postId',
    });
  }
  await session.call((accessJwt) =>
    context.http.request({
      method: 'POST',
      url: `${session.pdsUrl}/xrpc/com.atproto.repo.deleteRecord`,
      auth: { bearer: accessJwt },
      body: { json: { repo: session.did, collection: POST_COLLECTION, rkey: reference.rkey } },
      // Deleting is idempotent on the PDS: a repeat (or an already deleted post) succeeds.
      retry: 'idempotent',
      signal,
    }),
  );
}
