import { LetmepostError, redactThenShorten } from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import { pollUntil } from '@letmepost/provider-utils';
import { z } from 'zod';
import { GRAPH_CONTAINER_STATUSES, type GraphContainerStatus } from './meta-graph-api.js';
import type { GraphHttpClient } from './meta-graph-http.js';

/**
 * The media-container lifecycle Instagram and Threads share: create a container, wait until it is
 * `FINISHED`, publish it once. Each provider writes only its create and publish calls; reading,
 * waiting, failing and the "never publish twice" check live here.
 */

/** Where a container's status is read: Instagram `status_code` (+ `status` prose), Threads `status` (+ `error_message`). */
type Sleep = (options: { ms: number; signal?: AbortSignal }) => Promise<void>;

/**
 * The `containerWait` setting of every provider that publishes through containers (Instagram,
 * Threads): how long `publish` waits for them to be `FINISHED` before it answers `pending`, and
 * when a pending one should be resumed.
 */
export interface ContainerWaitSettings {
  /** Between two looks at a container. */
  intervalMs?: number;
  /** Longest wait inside `publish`, for all its containers together. */
  maxWaitMs?: number;
  /** When a `pending` publish should be resumed (`checkAfterMs` of its result). */
  checkAfterMs?: number;
  /** Injectable for tests. */
  sleep?: Sleep;
}

export const containerWaitSettingsSchema = z.object({
  intervalMs: z.number().int().nonnegative().optional(),
  maxWaitMs: z.number().int().nonnegative().optional(),
  checkAfterMs: z.number().int().positive().optional(),
  sleep: z.custom<Sleep>((value) => typeof value === 'function', 'must be a function').optional(),
});

/** `ContainerWaitSettings` with every default filled in, as a provider's context keeps it. */
export interface ResolvedContainerWait {
  intervalMs: number;
  maxWaitMs: number;
  checkAfterMs: number;
  sleep?: Sleep;
}

/**
 * Fills in the container-wait defaults: a look every 3 s for up to 30 s inside `publish`; the
 * resume delay is the platform's (`checkAfterMs`), since each suggests its own.
 */
export function resolveContainerWait({
  settings,
  checkAfterMs,
}: {
  settings: ContainerWaitSettings | undefined;
  checkAfterMs: number;
}): ResolvedContainerWait {
  return {
    intervalMs: settings?.intervalMs ?? 3_000,
    maxWaitMs: settings?.maxWaitMs ?? 30_000,
    checkAfterMs: settings?.checkAfterMs ?? checkAfterMs,
    ...(settings?.sleep !== undefined && { sleep: settings.sleep }),
  };
}

export interface GraphContainerFields {
  statusField: 'status_code' | 'status';
  /** The field with the reason of an `ERROR` (Instagram `status`, Threads `error_message`). */
  detailField?: string;
}

export interface GraphContainerState {
  containerId: string;
  status: GraphContainerStatus;
  /** The platform's reason for an `ERROR`, e.g. `Error: 2207026` or a media fetch message. */
  detail?: string;
}

export interface ReadContainerOptions extends GraphContainerFields {
  http: GraphHttpClient;
  containerId: string;
  accessToken: string;
  appSecretProof?: string;
  signal?: AbortSignal;
}

const containerAnswerSchema = lazySchema(() => z.looseObject({ id: z.string().optional() }));

const containerStatusSchema = lazySchema(() => z.enum(GRAPH_CONTAINER_STATUSES));

/** One read-only look at a container: `GET /{container-id}?fields=<status>,<detail>`. */
export async function readContainer(options: ReadContainerOptions): Promise<GraphContainerState> {
  const { http, containerId, statusField, detailField } = options;
  const { value } = await http.json({
    method: 'GET',
    path: encodeURIComponent(containerId),
    query: { fields: [statusField, ...(detailField === undefined ? [] : [detailField])].join(',') },
    accessToken: options.accessToken,
    ...(options.appSecretProof !== undefined && { appSecretProof: options.appSecretProof }),
    ...(options.signal !== undefined && { signal: options.signal }),
    schema: containerAnswerSchema(),
  });
  const record = value as Record<string, unknown>;
  const status = containerStatusSchema().safeParse(record[statusField]);
  if (!status.success) {
    throw new LetmepostError({
      code: 'platform_unavailable',
      message: `The container ${containerId} answered without a known ${statusField}.`,
      platform: http.platform,
      platformResponse: { body: value },
    });
  }
  const detail = detailField === undefined ? undefined : record[detailField];
  return { containerId, status: status.data, ...(typeof detail === 'string' && detail.length > 0 && { detail }) };
}

export interface WaitForContainerOptions extends ReadContainerOptions {
  /** Wait between two looks. */
  intervalMs: number;
  /** How long `publish` may hold the caller; a container still processing after it ends `pending`. */
  maxWaitMs: number;
  delayFirstCheck?: boolean;
  sleep?: (options: { ms: number; signal?: AbortSignal }) => Promise<void>;
}

/**
 * Looks at the container until it leaves `IN_PROGRESS` or the wait budget is spent. `done: false`
 * means it is still processing: the provider answers `pending` with the container in `resume`.
 */
export async function waitForContainer(options: WaitForContainerOptions): Promise<{ state: GraphContainerState; done: boolean; attempts: number }> {
  const { intervalMs, maxWaitMs, delayFirstCheck, sleep, signal, ...read } = options;
  const result = await pollUntil<GraphContainerState>({
    check: ({ signal: checkSignal }) => readContainer({ ...read, ...(checkSignal !== undefined && { signal: checkSignal }) }),
    isDone: (state) => state.status !== 'IN_PROGRESS',
    intervalMs,
    // At least one look, even with no budget: the first one is what tells a ready container apart.
    maxWaitMs: Math.max(0, maxWaitMs),
    ...(delayFirstCheck !== undefined && { delayFirstCheck }),
    ...(sleep !== undefined && { sleep }),
    ...(signal !== undefined && { signal }),
  });
  const state = result.value ?? { containerId: options.containerId, status: 'IN_PROGRESS' as const };
  return { state, done: result.done, attempts: result.attempts };
}

/** The error a failed container ends with: `ERROR` → `media_invalid`, `EXPIRED` → `media_invalid` (make a new one). */
export function containerFailure(options: { platform: GraphHttpClient['platform']; state: GraphContainerState }): LetmepostError {
  const { platform, state } = options;
  if (state.status === 'EXPIRED') {
    return new LetmepostError({
      code: 'media_invalid',
      message: `The media container ${state.containerId} expired before it was published.`,
      platform,
      rule: `${platform}.container.expired`,
      remediation: 'Containers live 24 hours: publish the post again to create a new one.',
    });
  }
  return new LetmepostError({
    code: 'media_invalid',
    message: `The platform could not process the media of container ${state.containerId}${state.detail === undefined ? '.' : `: ${redactThenShorten({ text: state.detail, maxLength: 300 })}`}`,
    platform,
    rule: `${platform}.container.error`,
    remediation: 'Check that the media URL is public and the file meets the platform’s format limits.',
  });
}

export type PublishContainerOnceResult =
  /** The publish call ran now and answered this id. */
  | { outcome: 'published'; mediaId: string }
  /** The container was published before (a retried or resumed publish); the id is the one kept, if any. */
  | { outcome: 'already_published'; mediaId?: string }
  /** Still processing: nothing was sent; answer `pending` again. */
  | { outcome: 'processing'; state: GraphContainerState };

export interface PublishContainerOnceOptions extends ReadContainerOptions {
  /** The provider's publish call (`media_publish`, `threads_publish`); answers the new media id. */
  publish: (options: { signal?: AbortSignal }) => Promise<string>;
  /** The id a previous publish answered, kept in the resume state: when known, nothing is read or sent. */
  publishedId?: string;
  /**
   * The container's state as `waitForContainer` just read it, used instead of reading it again
   * (a publish that waited need not look twice). Absent: the status is read first.
   */
  knownState?: GraphContainerState;
}

/**
 * Publishes a container at most once: a kept `publishedId` ends it at once; otherwise the
 * container's status is read first, so one that says `PUBLISHED` (a process killed after the
 * publish call answered) is never published again; `FINISHED` is published; `ERROR`/`EXPIRED`
 * throw the container's failure.
 */
export async function publishContainerOnce(options: PublishContainerOnceOptions): Promise<PublishContainerOnceResult> {
  const { publish, publishedId, knownState, ...read } = options;
  if (publishedId !== undefined) return { outcome: 'already_published', mediaId: publishedId };
  const state = knownState ?? (await readContainer(read));
  if (state.status === 'PUBLISHED') return { outcome: 'already_published' };
  if (state.status === 'IN_PROGRESS') return { outcome: 'processing', state };
  if (state.status !== 'FINISHED') throw containerFailure({ platform: read.http.platform, state });
  const mediaId = await publish({ ...(read.signal !== undefined && { signal: read.signal }) });
  return { outcome: 'published', mediaId };
}
