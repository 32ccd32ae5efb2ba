import { z } from 'zod';
import { accountNotFound, findAccount, platformSchema, toProviderAccount, workspaceIdSchema } from './accounts.js';
import { deserializePublishResult, serializedResultSchema, serializePublishResult } from './idempotency.js';
import {
  issuesFromZod,
  parseInput,
  requireProvider,
  secretStrings,
  toLetmepostError,
  validationFailed,
  type LetmepostContext,
} from './letmepost-context.js';
import { lazySchema } from './lazy-schema.js';
import { releaseLaunchCap, uncreatedItemCount, type LaunchCapReservation } from './launch-cap.js';
import { LetmepostError } from './letmepost-error.js';
import { releaseStagedMedia } from './media-staging.js';
import { generateId } from './pkce.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider, JsonValue, ProviderPublishResult, ProviderStatusResult, PublishAuth } from './provider.js';
import { runWithPublishContext } from './publish-context.js';
import type { PublishResult, PublishWarning } from './publish-result.js';
import { secretsOf, type Refresher } from './refresh.js';
import { decodeRecord, encodeRecord, storeKeys } from './store-layout.js';

/** How long a resume token stays usable by default: X keeps uploaded media a day, LinkedIn and Bluesky less. */
export const DEFAULT_RESUME_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;
/** A resume holds its lease for at most this long (a status read plus one create). */
const RESUME_LOCK_TTL_MS = 120_000;

export interface ResumeOptions {
  /** The workspace the publish was made in; required when it was made in one. */
  workspaceId?: string;
  /** `PublishResult.resumeToken` of a `pending` result. */
  resumeToken: string;
  /**
   * For a publish made with per-request credentials: the same credentials again (they are never
   * stored, not even inside the token). Not used for connected accounts.
   */
  credentials?: unknown;
  signal?: AbortSignal;
}

const resumeOptionsSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema().optional(),
    resumeToken: z.string().min(1, 'must not be empty').max(64 * 1024),
    credentials: z.unknown().optional(),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

/** What the sealed token holds. Only core reads it; the provider's part is `resume`. */
const resumeTokenPayloadSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    /** Stable across every token of one publish target: keys the stored outcome and the lease. */
    id: z.string(),
    workspaceId: z.string().optional(),
    platform: platformSchema(),
    accountId: z.string().optional(),
    /** For pass-per-request credentials: their launch-cap digest, so other credentials are refused. */
    credentialsDigest: z.string().optional(),
    issuedAt: z.number(),
    expiresAt: z.number(),
    resume: z.json(),
    /** Media URLs staged for this target, released when it reaches a final state. */
    staged: z.array(z.string()).optional(),
    /** Launch-cap posts still reserved for this target; what the final result did not create is given back. */
    launchCap: z
      .object({
        key: z.string(),
        limit: z.number(),
        windowMs: z.number(),
        amount: z.number(),
        hasFirstComment: z.boolean(),
      })
      .optional(),
  }),
);

type ResumeTokenPayload = z.infer<ReturnType<typeof resumeTokenPayloadSchema>>;

const resumeOutcomeSchema = lazySchema(() =>
  z.discriminatedUnion('state', [
    /** `finalize` was started and has not reported: if its owner died, the post may exist. */
    z.object({ v: z.literal(1), state: z.literal('finalizing'), startedAt: z.number() }),
    z.object({ v: z.literal(1), state: z.literal('completed'), completedAt: z.number(), result: serializedResultSchema() }),
  ]),
);

/** The associated data binding a token to its workspace: a token of another workspace fails to open. */
function tokenAssociatedData(workspaceId: string | undefined): string {
  return `letmepost/resume-token#${workspaceId === undefined ? 'global' : `ws/${encodeURIComponent(workspaceId)}`}`;
}

export function sealResumeToken({ context, payload }: { context: LetmepostContext; payload: ResumeTokenPayload }): string {
  return context.cipher.encrypt({
    plaintext: JSON.stringify(payload),
    associatedData: tokenAssociatedData(payload.workspaceId),
  });
}

function invalidToken({ rule, message }: { rule: string; message: string }): LetmepostError {
  return new LetmepostError({
    code: 'validation_failed',
    field: 'resumeToken',
    rule,
    message,
    remediation: 'Pass the resumeToken of a pending result, unchanged, with the workspaceId the publish was made in.',
  });
}

function openResumeToken({
  context,
  workspaceId,
  resumeToken,
}: {
  context: LetmepostContext;
  workspaceId: string | undefined;
  resumeToken: string;
}): ResumeTokenPayload {
  let plaintext: string;
  try {
    plaintext = context.cipher.decrypt({ ciphertext: resumeToken, associatedData: tokenAssociatedData(workspaceId) });
  } catch {
    // A changed byte, another workspace's token and a retired key all look the same here, and
    // telling them apart would let a caller probe other workspaces.
    throw invalidToken({
      rule: 'resume_token.invalid',
      message: 'The resume token is not valid for this workspace (changed, issued to another workspace, or sealed with a retired key).',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    parsed = undefined;
  }
  const payload = resumeTokenPayloadSchema().safeParse(parsed);
  if (!payload.success || payload.data.workspaceId !== workspaceId) {
    throw invalidToken({ rule: 'resume_token.invalid', message: 'The resume token is not one this letmepost issued.' });
  }
  if (payload.data.expiresAt <= context.clock.now()) {
    throw invalidToken({
      rule: 'resume_token.expired',
      message: `The resume token expired at ${new Date(payload.data.expiresAt).toISOString()}; the platform may have dropped the unfinished upload.`,
    });
  }
  return payload.data;
}

/** Where a publish target stands, as the caller sees it: the provider's answer plus who it was for. */
export function toPublishResult({
  outcome,
  platform,
  accountId,
  resumeToken,
  warnings,
}: {
  outcome: ProviderPublishResult;
  platform: PlatformId;
  accountId: string | undefined;
  resumeToken?: string;
  warnings?: readonly PublishWarning[];
}): PublishResult {
  // Field by field, in the order of `PublishResult`: an object rest (`{ resume, ...rest }`) takes V8's
  // slow path on every publish. A provider's fields outside the contract are not passed on.
  const result: PublishResult = {
    status: outcome.status,
    platform,
    warnings: warnings === undefined || warnings.length === 0 ? [...(outcome.warnings ?? [])] : [...warnings, ...(outcome.warnings ?? [])],
  };
  if (accountId !== undefined) result.accountId = accountId;
  if (outcome.postId !== undefined) result.postId = outcome.postId;
  if (outcome.url !== undefined) result.url = outcome.url;
  if (outcome.items !== undefined) result.items = outcome.items;
  if (outcome.error !== undefined) result.error = outcome.error;
  if (outcome.status === 'pending') {
    if (resumeToken !== undefined) result.resumeToken = resumeToken;
    if (outcome.checkAfterMs !== undefined) result.checkAfterMs = outcome.checkAfterMs;
  }
  return result;
}

/**
 * The token a `pending` answer hands out. A `pending` answer without `resume` state cannot be
 * finished through letmepost and gets none.
 */
export function resumeTokenFor({
  context,
  outcome,
  platform,
  workspaceId,
  accountId,
  credentialsDigest,
  staged,
  launchCap,
  previous,
}: {
  context: LetmepostContext;
  outcome: ProviderPublishResult;
  platform: PlatformId;
  workspaceId: string | undefined;
  accountId: string | undefined;
  credentialsDigest: string | undefined;
  staged: readonly string[];
  launchCap?: { reservation: LaunchCapReservation; hasFirstComment: boolean };
  /** When re-issuing during a resume: keeps the id, the deadline and the reservation of the first token. */
  previous?: ResumeTokenPayload;
}): string | undefined {
  if (outcome.status !== 'pending' || outcome.resume === undefined) return undefined;
  const now = context.clock.now();
  return sealResumeToken({
    context,
    payload: {
      v: 1,
      id: previous?.id ?? generateId({ prefix: 'rsm' }),
      ...(workspaceId !== undefined && { workspaceId }),
      platform,
      ...(accountId !== undefined && { accountId }),
      ...(credentialsDigest !== undefined && { credentialsDigest }),
      issuedAt: now,
      expiresAt: previous?.expiresAt ?? now + context.resumeTokenTtlMs,
      resume: outcome.resume,
      ...(staged.length > 0 && { staged: [...staged] }),
      ...(launchCap !== undefined &&
        launchCap.reservation.amount > 0 && {
          launchCap: {
            key: launchCap.reservation.key,
            limit: launchCap.reservation.cap.limit,
            windowMs: launchCap.reservation.cap.windowMs,
            amount: launchCap.reservation.amount,
            hasFirstComment: launchCap.hasFirstComment,
          },
        }),
      ...(launchCap === undefined && previous?.launchCap !== undefined && { launchCap: previous.launchCap }),
    },
  });
}

interface ResumeAuth {
  auth: PublishAuth<unknown>;
  knownSecrets: string[];
  /** After the platform refused the access token: a refreshed auth, or the same error. */
  renew?: () => Promise<ResumeAuth>;
}

export function createResume({
  context,
  refresher,
  credentialsDigestOf,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  credentialsDigestOf: (options: { platform: PlatformId; credentials: unknown }) => string;
}): (options: ResumeOptions) => Promise<PublishResult> {
  return async (options) => {
    const input = parseInput({ schema: resumeOptionsSchema(), input: options });
    const token = openResumeToken({ context, workspaceId: input.workspaceId, resumeToken: input.resumeToken });
    const outcomeKey = storeKeys.resumeOutcome({ workspaceId: token.workspaceId, resumeId: token.id });

    // Finished before: the stored answer, without a lease and without a request to the platform.
    const finished = await readCompleted({ context, key: outcomeKey });
    if (finished !== undefined) return finished;

    const provider = requireProvider({ context, platform: token.platform, field: 'resumeToken' });
    const credentials = parseCredentials({ provider, token, credentials: input.credentials, credentialsDigestOf });

    return context.store.withLock(
      storeKeys.resumeLock({ resumeId: token.id }),
      () =>
        runWithPublishContext({ dryRun: false, ...(token.workspaceId !== undefined && { workspaceId: token.workspaceId }) }, () =>
          resumeUnderLease({ context, refresher, provider, token, credentials, outcomeKey, signal: input.signal }),
        ),
      { ttlMs: RESUME_LOCK_TTL_MS, waitMs: RESUME_LOCK_TTL_MS },
    );
  };
}

function parseCredentials({
  provider,
  token,
  credentials,
  credentialsDigestOf,
}: {
  provider: AnyProvider;
  token: ResumeTokenPayload;
  credentials: unknown;
  credentialsDigestOf: (options: { platform: PlatformId; credentials: unknown }) => string;
}): unknown {
  if (token.credentialsDigest === undefined) return undefined;
  if (credentials === undefined) {
    throw validationFailed({
      issues: [{ field: 'credentials', rule: 'resume.credentials_required', message: 'this publish used per-request credentials; pass the same credentials again' }],
    });
  }
  const parsed = provider.credentialSchema.safeParse(credentials);
  if (!parsed.success) throw validationFailed({ issues: issuesFromZod({ error: parsed.error, pathPrefix: 'credentials' }) });
  if (credentialsDigestOf({ platform: token.platform, credentials: parsed.data }) !== token.credentialsDigest) {
    throw validationFailed({
      issues: [{ field: 'credentials', rule: 'resume.credentials_mismatch', message: 'these are not the credentials the publish was made with' }],
    });
  }
  return parsed.data;
}

async function readCompleted({ context, key }: { context: LetmepostContext; key: string }): Promise<PublishResult | undefined> {
  const entry = await context.store.get(key);
  if (entry === null) return undefined;
  const record = decodeRecord({ entry, schema: resumeOutcomeSchema() });
  return record.state === 'completed' ? deserializePublishResult(record.result) : undefined;
}

async function resumeUnderLease({
  context,
  refresher,
  provider,
  token,
  credentials,
  outcomeKey,
  signal,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  provider: AnyProvider;
  token: ResumeTokenPayload;
  credentials: unknown;
  outcomeKey: string;
  signal: AbortSignal | undefined;
}): Promise<PublishResult> {
  const { platform } = token;
  const entry = await context.store.get(outcomeKey);
  if (entry !== null) {
    const record = decodeRecord({ entry, schema: resumeOutcomeSchema() });
    if (record.state === 'completed') return deserializePublishResult(record.result);
    // A finalize started and its process never reported back: the post may exist, so the honest
    // final answer is `unknown`, and nothing is sent again.
    return complete({
      context,
      token,
      outcomeKey,
      result: toPublishResult({
        platform,
        accountId: token.accountId,
        outcome: {
          status: 'unknown',
          warnings: [],
          error: new LetmepostError({
            code: 'publish_outcome_unknown',
            platform,
            message: 'An earlier resume of this publish stopped while finishing it; the post may exist.',
            remediation: 'Check the account before publishing again.',
          }),
        },
      }),
    });
  }

  let current = await authorize({ context, refresher, token, credentials });
  /** One provider call; a token the platform refused is refreshed once and the call repeated. */
  const call = async <T>(run: (auth: PublishAuth<unknown>) => Promise<T>): Promise<T> => {
    try {
      return await run(current.auth);
    } catch (error) {
      if (!(LetmepostError.isInstance(error) && error.code === 'auth_expired' && current.renew !== undefined)) throw error;
      current = await current.renew();
      return run(current.auth);
    }
  };
  const failure = (error: unknown): LetmepostError =>
    toLetmepostError({ error, platform, fallbackCode: 'platform_unavailable', knownSecrets: current.knownSecrets });

  let resume: JsonValue = token.resume as JsonValue;
  let status: ProviderStatusResult;
  if (provider.checkStatus !== undefined) {
    const checkStatus = provider.checkStatus.bind(provider);
    try {
      status = await call((auth) => checkStatus({ auth, resume, ...(signal !== undefined && { signal }) }));
    } catch (error) {
      // Read-only, so nothing changed: the same token works again.
      throw failure(error);
    }
  } else {
    status = { status: 'ready' };
  }

  const statusWarnings = status.warnings ?? [];
  if (status.status === 'ready') {
    if (status.resume !== undefined) resume = status.resume;
    if (provider.finalize === undefined) {
      throw new LetmepostError({
        code: 'not_supported',
        platform,
        message: `The ${platform} provider reported the publish ready but has no finalize step.`,
      });
    }
    const finalize = provider.finalize.bind(provider);
    await context.store.set(outcomeKey, encodeRecord({ v: 1, state: 'finalizing', startedAt: context.clock.now() }), {
      ttlMs: remainingTtl({ context, token }),
    });
    let outcome: ProviderPublishResult;
    try {
      outcome = await call((auth) => finalize({ auth, resume, ...(signal !== undefined && { signal }) }));
    } catch (error) {
      if (LetmepostError.isInstance(error) && error.code !== 'publish_outcome_unknown') {
        // A provider throws only when nothing was written: the token stays good for another try.
        await context.store.delete(outcomeKey).catch(() => undefined);
        throw error;
      }
      // Anything else (a crash, a create whose answer was lost) may have written: final, never retried.
      outcome = { status: 'unknown', warnings: [], error: toLetmepostError({ error, platform, fallbackCode: 'publish_outcome_unknown', knownSecrets: current.knownSecrets }) };
    }
    if (outcome.status === 'pending') {
      await context.store.delete(outcomeKey).catch(() => undefined);
      return pendingAgain({ context, token, outcome, warnings: statusWarnings });
    }
    return complete({ context, token, outcomeKey, result: toPublishResult({ outcome, platform, accountId: token.accountId, warnings: statusWarnings }) });
  }

  if (status.status === 'pending') return pendingAgain({ context, token, outcome: { ...status, resume: status.resume ?? resume }, warnings: [] });
  return complete({ context, token, outcomeKey, result: toPublishResult({ outcome: status, platform, accountId: token.accountId }) });
}

function pendingAgain({
  context,
  token,
  outcome,
  warnings,
}: {
  context: LetmepostContext;
  token: ResumeTokenPayload;
  outcome: ProviderPublishResult;
  warnings: readonly PublishWarning[];
}): PublishResult {
  const resumeToken = resumeTokenFor({
    context,
    outcome: { ...outcome, resume: outcome.resume ?? (token.resume as JsonValue) },
    platform: token.platform,
    workspaceId: token.workspaceId,
    accountId: token.accountId,
    credentialsDigest: token.credentialsDigest,
    staged: token.staged ?? [],
    previous: token,
  });
  return toPublishResult({ outcome, platform: token.platform, accountId: token.accountId, warnings, ...(resumeToken !== undefined && { resumeToken }) });
}

function remainingTtl({ context, token }: { context: LetmepostContext; token: ResumeTokenPayload }): number {
  // The outcome must outlive every token of this publish; the last one expires at `expiresAt`.
  return Math.max(1, token.expiresAt - context.clock.now());
}

async function complete({
  context,
  token,
  outcomeKey,
  result,
}: {
  context: LetmepostContext;
  token: ResumeTokenPayload;
  outcomeKey: string;
  result: PublishResult;
}): Promise<PublishResult> {
  let answer = result;
  try {
    await context.store.set(
      outcomeKey,
      encodeRecord({ v: 1, state: 'completed', completedAt: context.clock.now(), result: serializePublishResult(result) }),
      { ttlMs: remainingTtl({ context, token }) },
    );
  } catch {
    // The platform already did what it did; a store outage must not turn that into an error the
    // caller would answer by resuming (and posting) again.
    answer = { ...result, warnings: [...result.warnings, outcomeNotRecorded()] };
  }
  await releaseStagedMedia({ context, platform: token.platform, staged: token.staged ?? [], workspaceId: token.workspaceId });
  if (token.launchCap !== undefined) {
    const { key, limit, windowMs, amount, hasFirstComment } = token.launchCap;
    await releaseLaunchCap({
      context,
      reservation: { key, cap: { limit, windowMs }, amount },
      amount: uncreatedItemCount({ result, reserved: amount, hasFirstComment }),
    });
  }
  context.log(result.status === 'failed' || result.status === 'unknown' ? 'warn' : 'info', 'letmepost.resume.result', {
    workspaceId: token.workspaceId,
    platform: token.platform,
    accountId: token.accountId,
    status: result.status,
    postId: result.postId,
    errorCode: result.error?.code,
  });
  return answer;
}

export function outcomeNotRecorded(): PublishWarning {
  return {
    code: 'store.outcome_not_recorded',
    message:
      'The store failed while recording this outcome. What the result says was done at the platform stands; do not publish or resume it again to "retry", or it may post twice.',
  };
}

async function authorize({
  context,
  refresher,
  token,
  credentials,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  token: ResumeTokenPayload;
  credentials: unknown;
}): Promise<ResumeAuth> {
  if (token.accountId === undefined) {
    return { auth: { type: 'credentials', credentials }, knownSecrets: secretStrings(credentials) };
  }
  const accountId = token.accountId;
  const loaded = await findAccount({ context, accountId, ...(token.workspaceId !== undefined && { workspaceId: token.workspaceId }) });
  if (loaded === null || loaded.record.platform !== token.platform) throw accountNotFound({ accountId, field: 'resumeToken' });
  const active = await refresher.ensureFresh({ loaded });
  const knownSecrets = secretsOf(active);
  return {
    auth: { type: 'account', account: toProviderAccount(active.loaded.record), tokens: active.tokens },
    knownSecrets,
    renew: async () => {
      const renewed = await refresher.refreshAfterRejection({
        accountId,
        ...(token.workspaceId !== undefined && { workspaceId: token.workspaceId }),
        rejectedAccessToken: active.tokens.accessToken,
      });
      return {
        auth: { type: 'account', account: toProviderAccount(renewed.loaded.record), tokens: renewed.tokens },
        knownSecrets: [...knownSecrets, ...secretsOf(renewed)],
      };
    },
  };
}
