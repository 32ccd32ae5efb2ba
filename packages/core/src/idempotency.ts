import { nodeCrypto } from './node-crypto.js';
import { sleep } from './sleep.js';
import { z } from 'zod';
import { ERROR_CODES } from './error-code.js';
import { lazySchema } from './lazy-schema.js';
import type { LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import { generateId } from './pkce.js';
import { redactThenShorten } from './redact.js';
import { PLATFORM_IDS } from './platform-id.js';
import type { PublishItemResult, PublishResult } from './publish-result.js';
import { decodeRecord, encodeRecord, isStoreConflict, storeKeys } from './store-layout.js';

/** How long a key remembers its results (Stripe's choice too: long enough for any retry loop). */
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** The publishing request proves it is alive this often while it holds a key. */
const HEARTBEAT_INTERVAL_MS = 15_000;
/** A claim without a heartbeat for this long belongs to a process that died mid-publish. */
const CLAIM_STALE_AFTER_MS = 2 * 60_000;

const serializedErrorSchema = lazySchema(() =>
  z
    .object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      platform: z.enum(PLATFORM_IDS).optional(),
      status: z.number().optional(),
      retryable: z.boolean().optional(),
      retryAfterMs: z.number().optional(),
      rule: z.string().optional(),
      field: z.string().optional(),
      remediation: z.string().optional(),
      platformResponse: z.unknown().optional(),
      issues: z
        .array(z.object({ field: z.string().optional(), rule: z.string().optional(), message: z.string() }))
        .optional(),
    })
    .loose(),
);

const serializedStatusSchema = lazySchema(() => z.enum(['published', 'pending', 'failed', 'unknown']));

const serializedItemSchema = lazySchema(() =>
  z.object({
    index: z.number(),
    status: serializedStatusSchema(),
    postId: z.string().optional(),
    url: z.string().optional(),
    error: serializedErrorSchema().optional(),
  }),
);

export const serializedResultSchema = lazySchema(() =>
  z.object({
    status: serializedStatusSchema(),
    platform: z.enum(PLATFORM_IDS),
    accountId: z.string().optional(),
    postId: z.string().optional(),
    url: z.string().optional(),
    items: z.array(serializedItemSchema()).optional(),
    warnings: z.array(z.object({ code: z.string(), message: z.string() })),
    error: serializedErrorSchema().optional(),
    resumeToken: z.string().optional(),
    checkAfterMs: z.number().optional(),
    dryRun: z.boolean().optional(),
  }),
);

const idempotencyRecordSchema = lazySchema(() =>
  z.object({
    v: z.literal(1),
    state: z.enum(['in_progress', 'completed']),
    /** Identifies the request that owns an in-progress claim. */
    claimId: z.string(),
    payloadHash: z.string(),
    createdAt: z.number(),
    heartbeatAt: z.number(),
    completedAt: z.number().optional(),
    results: z.array(serializedResultSchema()).optional(),
  }),
);

type IdempotencyRecord = z.infer<ReturnType<typeof idempotencyRecordSchema>>;

/**
 * A digest of what a publish asks for, so a key reused for a different request is caught. The
 * post and targets are serialised canonically (sorted keys); bytes count by SHA-256 and size;
 * streams by their declared size (they cannot be read twice); credentials only as a digest.
 */
export function hashPublishPayload({ post, targets }: { post: unknown; targets: readonly unknown[] }): string {
  const canonicalTargets = targets.map((target) => {
    if (target !== null && typeof target === 'object' && 'credentials' in target) {
      const { credentials, ...rest } = target as { credentials: unknown };
      return { ...rest, credentials: { sha256: digest(canonicalJson(credentials)) } };
    }
    return target;
  });
  return digest(canonicalJson({ post, targets: canonicalTargets }));
}

function digest(value: string): string {
  return nodeCrypto().createHash('sha256').update(value).digest('base64url');
}

export function canonicalJson(value: unknown): string {
  const visit = (current: unknown): unknown => {
    if (current === null || current === undefined) return current;
    if (current instanceof Uint8Array) {
      return { $bytes: nodeCrypto().createHash('sha256').update(current).digest('base64url'), size: current.byteLength };
    }
    if (current instanceof Date) return current.toISOString();
    if (current instanceof URL) return current.href;
    if (Array.isArray(current)) return current.map((item) => (item === undefined ? null : visit(item)));
    if (typeof current === 'object') {
      if (typeof (current as ReadableStream).getReader === 'function' || Symbol.asyncIterator in current) {
        return { $stream: true };
      }
      const output: Record<string, unknown> = {};
      for (const key of Object.keys(current).sort()) {
        const item = (current as Record<string, unknown>)[key];
        if (item !== undefined && typeof item !== 'function') output[key] = visit(item);
      }
      return output;
    }
    if (typeof current === 'bigint') return current.toString();
    return current;
  };
  return JSON.stringify(visit(value)) ?? 'null';
}

export function serializePublishResult(result: PublishResult): unknown {
  return JSON.parse(
    JSON.stringify({
      ...result,
      error: result.error?.toJSON(),
      items: result.items?.map((item) => ({ ...item, error: item.error?.toJSON() })),
    }),
  );
}

export function deserializePublishResult(value: z.infer<ReturnType<typeof serializedResultSchema>>): PublishResult {
  const { error, items, ...rest } = value;
  return {
    ...rest,
    ...(items !== undefined && {
      items: items.map((item): PublishItemResult => {
        const { error: itemError, ...itemRest } = item;
        return itemError === undefined ? itemRest : { ...itemRest, error: reviveError(itemError) };
      }),
    }),
    ...(error !== undefined && { error: reviveError(error) }),
  };
}

function reviveError(value: z.infer<ReturnType<typeof serializedErrorSchema>>): LetmepostError {
  return new LetmepostError({
    code: value.code,
    message: value.message,
    platform: value.platform,
    status: value.status,
    retryable: value.retryable,
    retryAfterMs: value.retryAfterMs,
    rule: value.rule,
    field: value.field,
    remediation: value.remediation,
    platformResponse: value.platformResponse,
    issues: value.issues,
  });
}

function conflict({ idempotencyKey }: { idempotencyKey: string }): LetmepostError {
  return new LetmepostError({
    code: 'idempotency_conflict',
    field: 'idempotencyKey',
    message: `The idempotency key "${redactThenShorten({ text: idempotencyKey, maxLength: 64 })}" was already used for a different publish.`,
    remediation: 'Use a new key for a new request; reuse a key only to retry exactly the same request.',
  });
}

function resultsOf(record: IdempotencyRecord): PublishResult[] {
  return (record.results ?? []).map(deserializePublishResult);
}

/**
 * The stored outcome for a key, if that request already finished. Checked before validation, so a
 * retry gets its original answer even if, say, an account was removed since. A key used for a
 * different payload is an `idempotency_conflict` whatever its state.
 */
export async function findCompletedPublish({
  context,
  workspaceId,
  idempotencyKey,
  payloadHash,
}: {
  context: LetmepostContext;
  workspaceId: string | undefined;
  idempotencyKey: string;
  payloadHash: string;
}): Promise<PublishResult[] | undefined> {
  const entry = await context.store.get(storeKeys.idempotency({ workspaceId, idempotencyKey }));
  if (entry === null) return undefined;
  const record = decodeRecord({ entry, schema: idempotencyRecordSchema() });
  if (record.payloadHash !== payloadHash) throw conflict({ idempotencyKey });
  return record.state === 'completed' ? resultsOf(record) : undefined;
}

/**
 * Runs `publish` at most once per key. The key is claimed with a create-only write, so of
 * concurrent requests exactly one publishes; the others wait for its results. A claim whose owner
 * stopped sending heartbeats (its process died mid-publish) is completed as `unknown` for every
 * target, because the posts may exist: that is the honest answer, and it is never retried.
 */
export async function runIdempotentPublish({
  context,
  workspaceId,
  idempotencyKey,
  payloadHash,
  signal,
  abandonedResults,
  publish,
}: {
  context: LetmepostContext;
  workspaceId: string | undefined;
  idempotencyKey: string;
  payloadHash: string;
  signal?: AbortSignal;
  abandonedResults: () => PublishResult[];
  publish: () => Promise<PublishResult[]>;
}): Promise<PublishResult[]> {
  const key = storeKeys.idempotency({ workspaceId, idempotencyKey });
  const ttlMs = context.idempotencyTtlMs;
  let pollMs = 25;

  for (;;) {
    signal?.throwIfAborted();
    const now = context.clock.now();
    const claim: IdempotencyRecord = {
      v: 1,
      state: 'in_progress',
      claimId: generateId({ prefix: 'claim' }),
      payloadHash,
      createdAt: now,
      heartbeatAt: now,
    };
    let claimed = false;
    try {
      await context.store.set(key, encodeRecord(claim), { expectedVersion: null, ttlMs });
      claimed = true;
    } catch (error) {
      if (!isStoreConflict(error)) throw error;
    }

    if (claimed) return publishUnderClaim({ context, key, claim, publish });

    const entry = await context.store.get(key);
    if (entry === null) continue;
    const existing = decodeRecord({ entry, schema: idempotencyRecordSchema() });
    if (existing.payloadHash !== payloadHash) throw conflict({ idempotencyKey });
    if (existing.state === 'completed') return resultsOf(existing);

    if (context.clock.now() - existing.heartbeatAt > CLAIM_STALE_AFTER_MS) {
      const results = abandonedResults();
      const completed: IdempotencyRecord = {
        ...existing,
        state: 'completed',
        completedAt: context.clock.now(),
        results: results.map(serializePublishResult) as IdempotencyRecord['results'],
      };
      try {
        await context.store.set(key, encodeRecord(completed), { expectedVersion: entry.version, ttlMs });
        context.log('warn', 'letmepost.publish.idempotency_abandoned', { workspaceId, claimId: existing.claimId });
        return results;
      } catch (error) {
        if (!isStoreConflict(error)) throw error;
        continue;
      }
    }

    await sleep(pollMs, signal ? { signal } : undefined);
    pollMs = Math.min(pollMs * 2, 1_000);
  }
}

async function publishUnderClaim({
  context,
  key,
  claim,
  publish,
}: {
  context: LetmepostContext;
  key: string;
  claim: IdempotencyRecord;
  publish: () => Promise<PublishResult[]>;
}): Promise<PublishResult[]> {
  const heartbeat = setInterval(() => {
    void beat({ context, key, claimId: claim.claimId });
  }, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  let results: PublishResult[];
  try {
    results = await publish();
  } catch (error) {
    clearInterval(heartbeat);
    // Per-target failures are results, so a throw here means nothing was attempted; free the key
    // so the caller can retry with it.
    await context.store.delete(key).catch(() => undefined);
    throw error;
  }
  clearInterval(heartbeat);

  const completed: IdempotencyRecord = {
    ...claim,
    state: 'completed',
    heartbeatAt: context.clock.now(),
    completedAt: context.clock.now(),
    results: results.map(serializePublishResult) as IdempotencyRecord['results'],
  };
  // Unconditional: even if a waiter declared this claim abandoned and wrote `unknown` meanwhile,
  // the real outcome is the better answer for every later retry.
  try {
    await context.store.set(key, encodeRecord(completed), { ttlMs: context.idempotencyTtlMs });
  } catch (error) {
    // The posts exist; throwing now would lose their ids and read as "nothing happened, retry".
    // The claim stays in progress, so a retry with this key waits and then answers `unknown`
    // instead of posting again.
    context.log('error', 'letmepost.publish.idempotency_record_failed', {
      errorCode: LetmepostError.isInstance(error) ? error.code : undefined,
    });
    return results.map((result) => ({
      ...result,
      warnings: [
        ...result.warnings,
        {
          code: 'idempotency.record_failed',
          message:
            'The store failed while recording this result under the idempotency key. The result stands as reported (a published post exists); do not retry this request to recover, or it may post twice.',
        },
      ],
    }));
  }
  return results;
}

async function beat({ context, key, claimId }: { context: LetmepostContext; key: string; claimId: string }): Promise<void> {
  try {
    const entry = await context.store.get(key);
    if (entry === null) return;
    const record = decodeRecord({ entry, schema: idempotencyRecordSchema() });
    if (record.state !== 'in_progress' || record.claimId !== claimId) return;
    const remainingTtlMs = entry.expiresAt === undefined ? context.idempotencyTtlMs : entry.expiresAt - context.clock.now();
    if (remainingTtlMs <= 0) return;
    await context.store.set(key, encodeRecord({ ...record, heartbeatAt: context.clock.now() }), {
      expectedVersion: entry.version,
      ttlMs: remainingTtlMs,
    });
  } catch {
    // A missed heartbeat only matters after several in a row; the next one tries again.
  }
}
