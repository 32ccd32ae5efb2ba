import { z } from 'zod';
import { findAccount, platformSchema, toProviderAccount, workspaceIdSchema, type LoadedAccount } from './accounts.js';
import { validateCheckedPost } from './check-capabilities.js';
import { deepFreeze } from './bounded-cache.js';
import { canonicalJson, findCompletedPublish, hashPublishPayload, runIdempotentPublish } from './idempotency.js';
import {
  billableItemCount,
  releaseLaunchCap,
  reserveLaunchCap,
  uncreatedItemCount,
  type LaunchCapReservation,
} from './launch-cap.js';
import {
  installedPlatforms,
  issuesFromZod,
  SILENT_LOG,
  secretStrings,
  toLetmepostError,
  validationFailed,
  type LetmepostContext,
} from './letmepost-context.js';
import { lazySchema } from './lazy-schema.js';
import { LetmepostError, type LetmepostErrorIssue } from './letmepost-error.js';
import { pullsMedia, releaseStagedMedia, stagePostMedia, stagingIssues } from './media-staging.js';
import { randomBase64Url, sha256Base64Url } from './pkce.js';
import type { PlatformId } from './platform-id.js';
import { postItems, postSchema, type Post } from './post.js';
import { quickPost, quickPublishOptions, type QuickPublishOptions } from './publish-input.js';
import type { ProviderAccount } from './account.js';
import type { AnyProvider, MediaProgressEvent, ProviderPublishResult, PublishAuth } from './provider.js';
import { getPublishContext, markCheckedByCore, runWithPublishContext } from './publish-context.js';
import { storeIdSchema } from './store-layout.js';
import type { PublishResult } from './publish-result.js';
import { reauthRequired, secretsOf, type ActiveAccount, type Refresher } from './refresh.js';
import { resumeTokenFor, toPublishResult } from './resume.js';

/** Where one publish goes: a connected account, or a platform with per-request credentials. */
export type PublishTarget =
  | {
      accountId: string;
      /** Optional; when given it must be the account's platform. */
      platform?: PlatformId;
      /** Typed by the provider's `optionsSchema` (e.g. Pinterest `boardId`). */
      options?: unknown;
    }
  | {
      platform: PlatformId;
      /** Typed by the provider's `credentialSchema`; used for this request only, never stored. */
      credentials: unknown;
      options?: unknown;
    };

export type PublishProgressEvent =
  | ({ type: 'media'; targetIndex: number; platform: PlatformId; accountId?: string } & MediaProgressEvent)
  | { type: 'target_completed'; targetIndex: number; result: PublishResult };

export interface PublishOptions {
  /**
   * The workspace the connected accounts belong to: required when any target is an `accountId`
   * (an account of another workspace is "not found"). Also scopes the idempotency key and the
   * resume tokens. Optional only when every target brings its own credentials.
   */
  workspaceId?: string;
  post: Post;
  targets: readonly PublishTarget[];
  /** Same key and same request: the stored results come back and nothing is sent again. */
  idempotencyKey?: string;
  /** Validate everything and return synthetic results; nothing reaches a platform. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: PublishProgressEvent) => void;
}

const targetSchema = lazySchema(() =>
  z
    .object({
      accountId: storeIdSchema({ maxLength: 256 }).optional(),
      platform: platformSchema().optional(),
      credentials: z.unknown().optional(),
      options: z.unknown().optional(),
    })
    .strict()
    .superRefine((target, refinement) => {
      if (target.accountId !== undefined) {
        if (target.credentials !== undefined) {
          refinement.addIssue({
            code: 'custom',
            path: ['credentials'],
            message: 'give either accountId or platform + credentials, not both',
          });
        }
        return;
      }
      if (target.platform === undefined) {
        refinement.addIssue({ code: 'custom', path: ['accountId'], message: 'required: an accountId, or a platform with credentials' });
      } else if (target.credentials === undefined) {
        refinement.addIssue({ code: 'custom', path: ['credentials'], message: `required with platform "${target.platform}"` });
      }
    }),
);

export const publishOptionsSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema().optional(),
    post: z.unknown(),
    targets: z.array(targetSchema()).min(1, 'at least one target is required').max(100),
    idempotencyKey: storeIdSchema({ maxLength: 255 }).optional(),
    dryRun: z.boolean().optional(),
    signal: z.instanceof(AbortSignal).optional(),
    onProgress: z.custom<(event: PublishProgressEvent) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  }),
);

type ParsedTarget = z.infer<ReturnType<typeof targetSchema>>;

interface ResolvedTarget {
  index: number;
  platform: PlatformId;
  provider: AnyProvider;
  options: unknown;
  /** Managed accounts. */
  loaded?: LoadedAccount;
  /** Pass-per-request credentials, parsed. */
  credentials?: unknown;
  /** Launch-cap subject: the account id, or a digest of the credentials. */
  capSubject: string;
  /** The provider's view of a managed account, as the preflight made it. */
  account?: ProviderAccount | undefined;
}

/** A digest standing for per-request credentials (launch caps, resume tokens); never the credentials. */
export function credentialsDigestOf({ platform, credentials }: { platform: PlatformId; credentials: unknown }): string {
  return `cred-${sha256Base64Url({ value: `letmepost launch cap\0${platform}\0${canonicalJson(credentials)}` })}`;
}

export function createPublish({
  context,
  refresher,
}: {
  context: LetmepostContext;
  refresher: Refresher;
}): (options: PublishOptions) => Promise<PublishResult[]> {
  // Not an async function itself: it hands back the body's promise rather than wrapping it in
  // another (every async layer costs a publish two promises and their turns of the queue).
  return (options) => {
    let input: ParsedPublishOptions | QuickPublishOptions;
    try {
      input = quickPublishOptions(options) ?? parsePublishOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const dryRun = input.dryRun ?? false;

    // Providers' HTTP layer reads the publish context: during a dry run it refuses every request
    // that could write. A publish that is not a dry run sets none (it would cost every publish
    // for nothing), unless it was started inside another publish's context (from a host's
    // progress callback), whose dry run must not carry over to it.
    const withContext =
      dryRun || getPublishContext() !== undefined
        ? <T>(body: () => T): T =>
            runWithPublishContext({ dryRun, ...(input.workspaceId !== undefined && { workspaceId: input.workspaceId }) }, body)
        : <T>(body: () => T): T => body();
    return withContext(() => publishParsed({ context, refresher, input, dryRun }));
  };
}

/**
 * A publish whose options are parsed: the post checked, a finished retry answered from its
 * idempotency record, the targets resolved and preflighted, then sent. Not an async function:
 * it chains the store reads it needs (none, one or two) instead of awaiting them in a frame of
 * its own. Never throws; every problem is a rejection.
 */
function publishParsed({
  context,
  refresher,
  input,
  dryRun,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  input: ParsedPublishOptions | QuickPublishOptions;
  dryRun: boolean;
}): Promise<PublishResult[]> {
  try {
    const issues: LetmepostErrorIssue[] = [];
    const quickPostValue = quickPost(input.post);
    const parsedPost = quickPostValue !== undefined ? { success: true as const, data: quickPostValue } : postSchema.safeParse(input.post);
    if (!parsedPost.success) issues.push(...issuesFromZod({ error: parsedPost.error, pathPrefix: 'post' }));

    const idempotencyKey = dryRun ? undefined : input.idempotencyKey;
    const payloadHash =
      parsedPost.success && idempotencyKey !== undefined ? hashPublishPayload({ post: parsedPost.data, targets: input.targets }) : undefined;
    const idempotency = idempotencyKey !== undefined && payloadHash !== undefined ? { idempotencyKey, payloadHash } : undefined;
    const resolveAndSend = (): Promise<PublishResult[]> =>
      resolveTargets({ context, targets: input.targets, workspaceId: input.workspaceId, issues }).then((resolved) =>
        sendToTargets({ context, refresher, input, dryRun, issues, parsedPost, resolved, idempotency }),
      );
    if (idempotency === undefined) return resolveAndSend();
    // A retry of a request that already finished gets its answer before anything else is
    // checked: the accounts it used may have changed since.
    return findCompletedPublish({ context, workspaceId: input.workspaceId, ...idempotency }).then(
      (stored) => stored ?? resolveAndSend(),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The preflight of every resolved target, then the publish (through the idempotency record when keyed). */
function sendToTargets({
  context,
  refresher,
  input,
  dryRun,
  issues,
  parsedPost,
  resolved,
  idempotency,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  input: ParsedPublishOptions | QuickPublishOptions;
  dryRun: boolean;
  issues: LetmepostErrorIssue[];
  parsedPost: { success: true; data: Post } | { success: false };
  resolved: ResolvedTarget[];
  idempotency: { idempotencyKey: string; payloadHash: string } | undefined;
}): Promise<PublishResult[]> {
  const schemaProblems = issues.length > 0;
  if (parsedPost.success) {
    for (const target of resolved) {
      issues.push(...stagingIssues({ context, provider: target.provider, post: parsedPost.data, targetIndex: target.index }));
      issues.push(...preflight({ target, post: parsedPost.data }));
    }
  }
  if (issues.length > 0 || !parsedPost.success) {
    throw validationFailed({ issues, code: schemaProblems ? 'validation_failed' : 'preflight_failed' });
  }
  const post = parsedPost.data;

  const fanOut = (): Promise<PublishResult[]> =>
    publishAll({
      context,
      refresher,
      targets: resolved,
      post,
      dryRun,
      workspaceId: input.workspaceId,
      signal: input.signal,
      onProgress: input.onProgress,
    });

  if (idempotency === undefined) return fanOut();
  return runIdempotentPublish({
    context,
    workspaceId: input.workspaceId,
    ...idempotency,
    signal: input.signal,
    publish: fanOut,
    abandonedResults: () =>
      resolved.map((target) => ({
        status: 'unknown' as const,
        platform: target.platform,
        ...(target.loaded !== undefined && { accountId: target.loaded.record.id }),
        warnings: [],
        error: new LetmepostError({
          code: 'publish_outcome_unknown',
          platform: target.platform,
          message: 'The request holding this idempotency key stopped before recording its outcome; the post may exist.',
          remediation: 'Check the account before publishing again.',
        }),
      })),
  });
}

type ParsedPublishOptions = z.infer<ReturnType<typeof publishOptionsSchema>>;

function parsePublishOptions(options: unknown): ParsedPublishOptions {
  const shape = publishOptionsSchema().safeParse(options);
  if (!shape.success) throw validationFailed({ issues: issuesFromZod({ error: shape.error }) });
  return shape.data;
}

function resolveTargets({
  context,
  targets,
  workspaceId,
  issues,
}: {
  context: LetmepostContext;
  targets: readonly ParsedTarget[];
  workspaceId: string | undefined;
  issues: LetmepostErrorIssue[];
}): Promise<ResolvedTarget[]> {
  // One target (most publishes): nothing to order and nothing it could repeat.
  if (targets.length === 1) {
    return resolveTarget({ context, target: targets[0] as ParsedTarget, index: 0, workspaceId, issues }).then((resolved) =>
      resolved === undefined ? [] : [resolved],
    );
  }
  // Looked up concurrently, reported in target order.
  const perTarget = targets.map((): LetmepostErrorIssue[] => []);
  return Promise.all(
    targets.map((target, index) => resolveTarget({ context, target, index, workspaceId, issues: perTarget[index] as LetmepostErrorIssue[] })),
  ).then((resolved) => {
    for (const found of perTarget) issues.push(...found);
    const seen = new Map<string, number>();
    for (const target of resolved) {
      if (target === undefined) continue;
      const identity = `${target.platform}/${target.capSubject}`;
      const first = seen.get(identity);
      if (first !== undefined) {
        issues.push({
          field: target.loaded !== undefined ? `targets.${target.index}.accountId` : `targets.${target.index}.credentials`,
          rule: 'target.duplicate',
          message: `targets.${target.index} is the same ${target.platform} account as targets.${first}; it would post twice`,
        });
      } else {
        seen.set(identity, target.index);
      }
    }
    return resolved.filter((target): target is ResolvedTarget => target !== undefined);
  });
}

/**
 * One target resolved, or `undefined` with its problems in `issues`. Not an async function: only
 * a connected account needs the store (one promise for its lookup), a target with credentials
 * none.
 */
function resolveTarget({
  context,
  target,
  index,
  workspaceId,
  issues,
}: {
  context: LetmepostContext;
  target: ParsedTarget;
  index: number;
  workspaceId: string | undefined;
  issues: LetmepostErrorIssue[];
}): Promise<ResolvedTarget | undefined> {
  const path = `targets.${index}`;
  if (target.accountId === undefined) {
    // The schema guarantees platform and credentials here.
    return Promise.resolve(
      completeTarget({ context, target, index, platform: target.platform as PlatformId, loaded: undefined, issues }),
    );
  }
  const { accountId } = target;
  if (workspaceId === undefined) {
    // Account ids are unique across workspaces, so without the workspace any caller holding an
    // id could publish as another tenant's account.
    issues.push({
      field: 'workspaceId',
      rule: 'publish.workspace_required',
      message: `required to publish to a connected account (${path}.accountId); pass the workspace the account belongs to`,
    });
    return Promise.resolve(undefined);
  }
  return findAccount({ context, accountId, workspaceId }).then((loaded) => {
    if (loaded === null) {
      issues.push({
        field: `${path}.accountId`,
        rule: 'target.account_not_found',
        message: `account "${accountId}" was not found`,
      });
      return undefined;
    }
    const platform = loaded.record.platform;
    if (target.platform !== undefined && target.platform !== platform) {
      issues.push({
        field: `${path}.platform`,
        rule: 'target.platform_mismatch',
        message: `account "${accountId}" is a ${platform} account, not ${target.platform}`,
      });
      return undefined;
    }
    return completeTarget({ context, target, index, platform, loaded, issues });
  });
}

/** The rest of a target, once its platform (and for a connected account, the account) is known. */
function completeTarget({
  context,
  target,
  index,
  platform,
  loaded,
  issues,
}: {
  context: LetmepostContext;
  target: ParsedTarget;
  index: number;
  platform: PlatformId;
  loaded: LoadedAccount | undefined;
  issues: LetmepostErrorIssue[];
}): ResolvedTarget | undefined {
  const path = `targets.${index}`;
  const provider = context.providers.get(platform);
  if (provider === undefined) {
    issues.push({
      field: loaded !== undefined ? `${path}.accountId` : `${path}.platform`,
      rule: 'target.provider_missing',
      message: `no provider for "${platform}" is installed; installed: ${installedPlatforms({ context })}`,
    });
    return undefined;
  }

  let credentials: unknown;
  let valid = true;
  if (loaded === undefined) {
    const parsedCredentials = provider.credentialSchema.safeParse(target.credentials);
    if (parsedCredentials.success) {
      credentials = parsedCredentials.data;
    } else {
      issues.push(...issuesFromZod({ error: parsedCredentials.error, pathPrefix: `${path}.credentials` }));
      valid = false;
    }
  }

  const options = parseTargetOptions({ provider, options: target.options, path, issues });
  if (!options.success || !valid) return undefined;
  return new Target({ index, platform, provider, options: options.data, loaded, credentials });
}

/** A resolved target. One shape for every target, with the credentials digest worked out on use. */
class Target implements ResolvedTarget {
  readonly index: number;
  readonly platform: PlatformId;
  readonly provider: AnyProvider;
  readonly options: unknown;
  readonly loaded: LoadedAccount | undefined;
  readonly credentials: unknown;
  account: ProviderAccount | undefined;
  #capSubject: string | undefined;

  constructor(fields: {
    index: number;
    platform: PlatformId;
    provider: AnyProvider;
    options: unknown;
    loaded: LoadedAccount | undefined;
    credentials: unknown;
  }) {
    this.index = fields.index;
    this.platform = fields.platform;
    this.provider = fields.provider;
    this.options = fields.options;
    this.loaded = fields.loaded;
    this.account = undefined;
    this.credentials = fields.loaded === undefined ? fields.credentials : undefined;
    this.#capSubject = fields.loaded?.record.id;
  }

  // Hashing the credentials is left until something needs it (a second target, a launch cap, a
  // resume token): most publishes with credentials need none of them.
  get capSubject(): string {
    this.#capSubject ??= credentialsDigestOf({ platform: this.platform, credentials: this.credentials });
    return this.#capSubject;
  }
}

function parseTargetOptions({
  provider,
  options,
  path,
  issues,
}: {
  provider: AnyProvider;
  options: unknown;
  path: string;
  issues: LetmepostErrorIssue[];
}): { success: true; data: unknown } | { success: false } {
  // Most targets give no options. What a provider's schema makes of "none" is the same every
  // time (schemas are pure), so it is worked out once per provider and shared, frozen.
  if (options === undefined) {
    const known = noOptions.get(provider);
    if (known !== undefined) return known;
  }
  const direct = provider.optionsSchema.safeParse(options);
  if (direct.success) {
    if (options === undefined) return remember(provider, direct.data);
    return { success: true, data: direct.data };
  }
  // Options are optional for the caller; a provider's object schema with only optional fields
  // still wants an object, so "none given" is tried as `{}` before it counts as a problem.
  if (options === undefined) {
    const empty = provider.optionsSchema.safeParse({});
    if (empty.success) return remember(provider, empty.data);
    issues.push(...issuesFromZod({ error: empty.error, pathPrefix: `${path}.options` }));
    return { success: false };
  }
  issues.push(...issuesFromZod({ error: direct.error, pathPrefix: `${path}.options` }));
  return { success: false };
}

function remember(provider: AnyProvider, data: unknown): { success: true; data: unknown } {
  const result = { success: true as const, data: deepFreeze(data) };
  noOptions.set(provider, result);
  return result;
}

/** Each provider's options for a target that gives none. */
const noOptions = new WeakMap<AnyProvider, { success: true; data: unknown }>();

function preflight({ target, post }: { target: ResolvedTarget; post: Post }): LetmepostErrorIssue[] {
  let found: ReturnType<typeof validateCheckedPost>;
  try {
    // The account decides some limits (X Premium); per-request credentials have none stored.
    const account = target.loaded === undefined ? undefined : toProviderAccount(target.loaded.record);
    target.account = account;
    found = validateCheckedPost({ provider: target.provider, post, options: target.options, account });
  } catch (error) {
    return [
      {
        field: `targets.${target.index}`,
        rule: `${target.platform}.validate.threw`,
        message: `the ${target.platform} provider failed to validate the post: ${toLetmepostError({ error, platform: target.platform, fallbackCode: 'platform_unavailable' }).message}`,
      },
    ];
  }
  return found.map((issue) => ({
    field: issue.field === undefined || issue.field === '' ? 'post' : `post.${issue.field}`,
    rule: issue.rule,
    message: `targets.${target.index} (${target.platform}): ${issue.message}`,
  }));
}

function publishAll({
  context,
  refresher,
  targets,
  post,
  dryRun,
  workspaceId,
  signal,
  onProgress,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  targets: readonly ResolvedTarget[];
  post: Post;
  dryRun: boolean;
  workspaceId: string | undefined;
  signal: AbortSignal | undefined;
  onProgress: ((event: PublishProgressEvent) => void) | undefined;
}): Promise<PublishResult[]> {
  // No listener, no events to make: the provider gets no progress callback either.
  const emit =
    onProgress === undefined
      ? undefined
      : (event: PublishProgressEvent): void => {
          try {
            onProgress(event);
          } catch {
            // A host's progress callback must not change what was published.
          }
        };

  const only = targets.length === 1 ? (targets[0] as ResolvedTarget) : undefined;
  if (only !== undefined && !dryRun && !context.platformConcurrency.has(only.platform)) {
    // One target, nothing to queue (most publishes): its result is the answer.
    return publishTarget({ context, refresher, target: only, post, workspaceId, signal, emit }).then((result) => {
      reportResult({ context, workspaceId, dryRun, emit, target: only, result });
      return [result];
    });
  }

  // Targets are distinct accounts (duplicates were refused), so they go out together; a host or
  // platform limit, where set, queues the rest.
  const overallLimit = context.publishConcurrency ?? targets.length;
  const overall = overallLimit >= targets.length ? undefined : createLimiter({ limit: overallLimit });
  let perPlatform: Map<PlatformId, Limiter> | undefined;
  const limiterFor = (platform: PlatformId): Limiter | undefined => {
    const limit = context.platformConcurrency.get(platform);
    if (limit === undefined) return undefined;
    perPlatform ??= new Map();
    let limiter = perPlatform.get(platform);
    if (limiter === undefined) {
      limiter = createLimiter({ limit });
      perPlatform.set(platform, limiter);
    }
    return limiter;
  };

  const results = new Array<PublishResult>(targets.length);
  const run = async (position: number): Promise<void> => {
    const target = targets[position] as ResolvedTarget;
    const platformLimiter = dryRun ? undefined : limiterFor(target.platform);
    let result: PublishResult;
    if (dryRun) {
      result = dryRunTarget({ target, post });
    } else if (overall === undefined && platformLimiter === undefined) {
      result = await publishTarget({ context, refresher, target, post, workspaceId, signal, emit });
    } else {
      const start = (): Promise<PublishResult> => publishTarget({ context, refresher, target, post, workspaceId, signal, emit });
      const send = overall === undefined ? start : (): Promise<PublishResult> => overall.run(start);
      result = await (platformLimiter === undefined ? send() : platformLimiter.run(send));
    }
    results[position] = result;
    reportResult({ context, workspaceId, dryRun, emit, target, result });
  };
  return Promise.all(targets.map((_, position) => run(position))).then(() => results);
}

/** A target's result, logged (unless the log is silent) and handed to the host's progress listener. */
function reportResult({
  context,
  workspaceId,
  dryRun,
  emit,
  target,
  result,
}: {
  context: LetmepostContext;
  workspaceId: string | undefined;
  dryRun: boolean;
  emit: ((event: PublishProgressEvent) => void) | undefined;
  target: ResolvedTarget;
  result: PublishResult;
}): void {
  if (context.log !== SILENT_LOG) {
    context.log(result.status === 'failed' || result.status === 'unknown' ? 'warn' : 'info', 'letmepost.publish.result', {
      workspaceId,
      targetIndex: target.index,
      platform: result.platform,
      accountId: result.accountId,
      status: result.status,
      postId: result.postId,
      errorCode: result.error?.code,
      dryRun: dryRun || undefined,
    });
  }
  emit?.({ type: 'target_completed', targetIndex: target.index, result });
}

interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
}

/** At most `limit` tasks at once; the rest start in call order as slots free up. */
function createLimiter({ limit }: { limit: number }): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return {
    async run(task) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      active += 1;
      try {
        return await task();
      } finally {
        active -= 1;
        waiting.shift()?.();
      }
    },
  };
}

function dryRunTarget({ target, post }: { target: ResolvedTarget; post: Post }): PublishResult {
  const accountId = target.loaded?.record.id;
  if (target.loaded !== undefined && !isUsable(target.loaded)) {
    return failedResult({
      target,
      error: reauthRequired({ platform: target.platform, accountId: target.loaded.record.id }),
      dryRun: true,
    });
  }
  const items = postItems(post).map((_, index) => ({
    index,
    status: 'published' as const,
    postId: `dryrun_${randomBase64Url({ bytes: 12 })}`,
  }));
  return {
    status: 'published',
    platform: target.platform,
    ...(accountId !== undefined && { accountId }),
    postId: items[0]?.postId,
    ...(items.length > 1 && { items }),
    warnings: [],
    dryRun: true,
  };
}

/** Whether a stored account can publish: its grant exists and needs no reconnection. */
function isUsable(loaded: LoadedAccount): boolean {
  return loaded.grant !== null && loaded.grant.record.status === 'active';
}

function failedResult({
  target,
  error,
  dryRun,
}: {
  target: ResolvedTarget;
  error: LetmepostError;
  dryRun?: boolean;
}): PublishResult {
  return {
    status: error.code === 'publish_outcome_unknown' ? 'unknown' : 'failed',
    platform: target.platform,
    ...(target.loaded !== undefined && { accountId: target.loaded.record.id }),
    warnings: [],
    error,
    ...(dryRun === true && { dryRun: true }),
  };
}

interface PublishTargetOptions {
  context: LetmepostContext;
  refresher: Refresher;
  target: ResolvedTarget;
  post: Post;
  workspaceId: string | undefined;
  signal: AbortSignal | undefined;
  /** Undefined when the host listens to no progress. */
  emit: ((event: PublishProgressEvent) => void) | undefined;
}

/**
 * One target, start to finish. Never throws: every outcome, including a crash inside the
 * provider, becomes that target's result, so one target cannot stop or re-send another.
 *
 * Most publishes need nothing to be awaited before the provider is called (no launch cap to
 * reserve, no media to stage, tokens that need no refresh): those are sent straight away and
 * their answer made into the result in one continuation. Everything else, and a token the
 * platform rejected, goes through `publishTargetInFull`.
 */
function publishTarget(options: PublishTargetOptions): Promise<PublishResult> {
  const { context, refresher, target, post, workspaceId, signal, emit } = options;
  if (signal?.aborted || context.launchCaps.has(target.platform) || pullsMedia(target.provider)) return publishTargetInFull(options);
  let active: ActiveAccount | undefined;
  let auth: PublishAuth<unknown>;
  try {
    if (target.loaded !== undefined) {
      active = refresher.activeIfFresh({ loaded: target.loaded });
      if (active === undefined) return publishTargetInFull(options);
      auth = accountAuth({ target, active });
    } else {
      auth = { type: 'credentials', credentials: target.credentials };
    }
  } catch {
    // An account that must be reconnected: the full path reports it.
    return publishTargetInFull(options);
  }
  let sending: Promise<ProviderPublishResult>;
  try {
    sending = sendToProvider({ target, post, auth, signal, emit });
  } catch (error) {
    // A provider written by hand may throw instead of rejecting: still this target's result.
    return Promise.resolve(failureOf({ target, error, sent: true, secretHolders: secretHoldersOf(active) }));
  }
  return sending.then(
    (outcome) => {
      try {
        const hasFirstComment = post.firstComment !== undefined;
        return resultOfOutcome({ context, target, outcome, workspaceId, staged: [], stillReserved: undefined, hasFirstComment }).result;
      } catch (error) {
        return failureOf({ target, error, sent: true, secretHolders: secretHoldersOf(active) });
      }
    },
    (error: unknown) => {
      const rejectedAccessToken = rejectedTokenOf({ error, auth });
      return rejectedAccessToken !== undefined
        ? publishTargetInFull({ ...options, rejectedAccessToken })
        : failureOf({ target, error, sent: true, secretHolders: secretHoldersOf(active) });
    },
  );
}

/** The same, with every step that may have to wait: refresh, launch cap, media staging, a retry after a rejected token. */
async function publishTargetInFull({
  context,
  refresher,
  target,
  post,
  workspaceId,
  signal,
  emit,
  rejectedAccessToken,
}: PublishTargetOptions & {
  /** The platform refused this token on a first attempt (nothing was created): refresh, then send once more. */
  rejectedAccessToken?: string;
}): Promise<PublishResult> {
  const { platform } = target;
  const accountId = target.loaded?.record.id;
  // What an error message must mask; worked out only if there is an error.
  const secretHolders: ActiveAccount[] = [];
  let reservation: LaunchCapReservation | undefined;
  let sent = false;
  let staged: string[] = [];
  let pendingWithToken = false;

  try {
    if (signal?.aborted) {
      throw new LetmepostError({
        code: 'platform_unavailable',
        platform,
        message: 'The publish was aborted before this target was sent.',
      });
    }

    let auth: PublishAuth<unknown>;
    if (target.loaded !== undefined) {
      const active = refresher.activeIfFresh({ loaded: target.loaded }) ?? (await refresher.ensureFresh({ loaded: target.loaded }));
      secretHolders.push(active);
      auth = accountAuth({ target, active });
    } else {
      auth = { type: 'credentials', credentials: target.credentials };
    }

    reservation = context.launchCaps.has(platform)
      ? await reserveLaunchCap({ context, platform, subject: target.capSubject, amount: billableItemCount({ post }) })
      : undefined;

    let providerPost = post;
    if (pullsMedia(target.provider)) {
      const stagedPost = await stagePostMedia({ context, platform, workspaceId, post, signal });
      providerPost = stagedPost.post;
      staged = stagedPost.staged;
    }

    const send = (sendAuth: PublishAuth<unknown>): Promise<ProviderPublishResult> => {
      sent = true;
      return sendToProvider({ target, post: providerPost, auth: sendAuth, signal, emit });
    };
    // The platform says the token is dead although our clock did not: it was revoked early or
    // expired sooner than announced. One forced refresh, one retry; `publish` only throws when
    // nothing was created, so the retry cannot duplicate a post.
    const retryAfterRejection = async (rejected: string): Promise<ProviderPublishResult> => {
      sent = false;
      const active = await refresher.refreshAfterRejection({
        accountId: accountId as string,
        workspaceId: target.loaded?.record.workspaceId,
        rejectedAccessToken: rejected,
      });
      secretHolders.push(active);
      return send({ type: 'account', account: toProviderAccount(active.loaded.record), tokens: active.tokens });
    };

    let outcome: ProviderPublishResult;
    if (rejectedAccessToken !== undefined) {
      outcome = await retryAfterRejection(rejectedAccessToken);
    } else {
      try {
        outcome = await send(auth);
      } catch (error) {
        const rejected = rejectedTokenOf({ error, auth });
        if (rejected === undefined) throw error;
        outcome = await retryAfterRejection(rejected);
      }
    }

    let stillReserved: LaunchCapReservation | undefined;
    if (reservation !== undefined) {
      const released = uncreatedItemCount({ result: outcome, reserved: reservation.amount, hasFirstComment: post.firstComment !== undefined });
      await releaseLaunchCap({ context, reservation, amount: released });
      stillReserved = { ...reservation, amount: reservation.amount - released };
    }
    const made = resultOfOutcome({ context, target, outcome, workspaceId, staged, stillReserved, hasFirstComment: post.firstComment !== undefined });
    // Staged media stays up while the platform may still fetch it: until `resume` finishes.
    pendingWithToken = made.pendingWithToken;
    return made.result;
  } catch (error) {
    const result = failureOf({ target, error, sent, secretHolders });
    if (reservation !== undefined && result.status === 'failed') {
      await releaseLaunchCap({ context, reservation, amount: reservation.amount });
    }
    return result;
  } finally {
    if (!pendingWithToken && staged.length > 0) await releaseStagedMedia({ context, platform, staged, workspaceId });
  }
}

/** What an error message of a target sent with `active`'s tokens must mask; made only on an error. */
function secretHoldersOf(active: ActiveAccount | undefined): ActiveAccount[] {
  return active === undefined ? [] : [active];
}

/** How a connected account's publish authenticates: the account the preflight checked, unless a refresh read the record again. */
function accountAuth({ target, active }: { target: ResolvedTarget; active: ActiveAccount }): PublishAuth<unknown> {
  const account = active.loaded === target.loaded ? target.account : undefined;
  return { type: 'account', account: account ?? toProviderAccount(active.loaded.record), tokens: active.tokens };
}

/** The provider's publish, marked as core's own call: the post, the credentials and the options were parsed by this publish (a staged post is core's own copy), so its boundary does not parse them again. */
function sendToProvider({
  target,
  post,
  auth,
  signal,
  emit,
}: {
  target: ResolvedTarget;
  post: Post;
  auth: PublishAuth<unknown>;
  signal: AbortSignal | undefined;
  emit: ((event: PublishProgressEvent) => void) | undefined;
}): Promise<ProviderPublishResult> {
  const { platform } = target;
  const accountId = target.loaded?.record.id;
  return target.provider.publish(
    markCheckedByCore({
      post,
      auth,
      options: target.options,
      ...(signal !== undefined && { signal }),
      ...(emit !== undefined && {
        onProgress: (event: MediaProgressEvent) =>
          emit({ type: 'media', targetIndex: target.index, platform, ...(accountId !== undefined && { accountId }), ...event }),
      }),
    }),
  );
}

/** The access token a platform refused (`auth_expired`) although our clock had not expired it; only a connected account's can be refreshed. */
function rejectedTokenOf({ error, auth }: { error: unknown; auth: PublishAuth<unknown> }): string | undefined {
  return LetmepostError.isInstance(error) && error.code === 'auth_expired' && auth.type === 'account' ? auth.tokens.accessToken : undefined;
}

/** The provider's answer as the target's result, with a resume token when it is pending. */
function resultOfOutcome({
  context,
  target,
  outcome,
  workspaceId,
  staged,
  stillReserved,
  hasFirstComment,
}: {
  context: LetmepostContext;
  target: ResolvedTarget;
  outcome: ProviderPublishResult;
  workspaceId: string | undefined;
  staged: readonly string[];
  stillReserved: LaunchCapReservation | undefined;
  hasFirstComment: boolean;
}): { result: PublishResult; pendingWithToken: boolean } {
  const { platform } = target;
  const accountId = target.loaded?.record.id;
  const resumeToken = resumeTokenFor({
    context,
    outcome,
    platform,
    workspaceId,
    accountId,
    // Only a pending outcome gets a token, and only a token needs the digest.
    credentialsDigest: target.loaded === undefined && outcome.status === 'pending' ? target.capSubject : undefined,
    staged,
    // A pending publish keeps its reserved posts until resume knows which were created.
    ...(stillReserved !== undefined && { launchCap: { reservation: stillReserved, hasFirstComment } }),
  });
  return {
    result: toPublishResult({ outcome, platform, accountId, ...(resumeToken !== undefined && { resumeToken }) }),
    pendingWithToken: resumeToken !== undefined,
  };
}

/**
 * A target's failed result. Outside the provider's own contract (a LetmepostError thrown means
 * nothing was written), an unexpected throw after sending leaves the outcome open.
 */
function failureOf({
  target,
  error,
  sent,
  secretHolders,
}: {
  target: ResolvedTarget;
  error: unknown;
  sent: boolean;
  secretHolders: readonly ActiveAccount[];
}): PublishResult {
  const failure = toLetmepostError({
    error,
    platform: target.platform,
    fallbackCode: sent ? 'publish_outcome_unknown' : 'platform_unavailable',
    knownSecrets: target.loaded === undefined ? secretStrings(target.credentials) : secretHolders.flatMap((active) => secretsOf(active)),
  });
  return failedResult({ target, error: failure });
}
