import { PLATFORM_IDS, type PlatformId } from './platform-id.js';
import type { PublishProgressEvent } from './publish.js';
import type { Post } from './post.js';
import { isWellFormedText } from './token-store-support.js';

/**
 * Every publish checks its options and its post at the boundary with zod (`publishOptionsSchema`,
 * `postSchema` in publish.ts); zod decides what is valid and words every error. Most calls are
 * one plain shape: a workspace, a few targets, a text post. For those, a direct check accepts the
 * input without zod's general machinery, which on a publish path that runs cold (a server
 * publishing now and then) cost more than the rest of core's work together. It accepts only a
 * subset of what the schemas accept and gives the values zod would; anything else (any problem,
 * media, a thread, a link, an unusual object) answers `undefined` and goes to zod.
 * `publish-input.test.ts` compares both on generated inputs.
 */

const OPTION_KEYS = new Set(['workspaceId', 'post', 'targets', 'idempotencyKey', 'dryRun', 'signal', 'onProgress']);
const TARGET_KEYS = new Set(['accountId', 'platform', 'credentials', 'options']);
const POST_KEYS = new Set(['text', 'replyTo', 'firstComment']);
const PLATFORMS: ReadonlySet<string> = new Set(PLATFORM_IDS);

export interface QuickTarget {
  accountId?: string;
  platform?: PlatformId;
  credentials?: unknown;
  options?: unknown;
}

export interface QuickPublishOptions {
  workspaceId?: string;
  post?: unknown;
  targets: QuickTarget[];
  idempotencyKey?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
  // Typed as core calls it; the check only asks for a function, as the schema does.
  onProgress?: (event: PublishProgressEvent) => void;
}

export function quickPublishOptions(value: unknown): QuickPublishOptions | undefined {
  // The schema's `post: z.unknown()` wants the key present, even when its value is undefined.
  if (!isPlainObject(value) || !hasOnlyKeys(value, OPTION_KEYS) || !Object.hasOwn(value, 'post')) return undefined;
  const { workspaceId, post, targets, idempotencyKey, dryRun, signal, onProgress } = value;
  if (workspaceId !== undefined && !isStoreId(workspaceId, 256)) return undefined;
  if (idempotencyKey !== undefined && !isStoreId(idempotencyKey, 255)) return undefined;
  if (dryRun !== undefined && typeof dryRun !== 'boolean') return undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) return undefined;
  if (onProgress !== undefined && typeof onProgress !== 'function') return undefined;
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > 100) return undefined;
  const quickTargets: QuickTarget[] = [];
  for (const target of targets as unknown[]) {
    const quick = quickTarget(target);
    if (quick === undefined) return undefined;
    quickTargets.push(quick);
  }
  // Assigned one by one rather than spread from conditional literals: each of those is an object
  // made and dropped, on every publish.
  const options: QuickPublishOptions = { targets: quickTargets };
  if (workspaceId !== undefined) options.workspaceId = workspaceId as string;
  if (post !== undefined) options.post = post;
  if (idempotencyKey !== undefined) options.idempotencyKey = idempotencyKey as string;
  if (dryRun !== undefined) options.dryRun = dryRun as boolean;
  if (signal !== undefined) options.signal = signal as AbortSignal;
  if (onProgress !== undefined) options.onProgress = onProgress as (event: PublishProgressEvent) => void;
  return options;
}

function quickTarget(value: unknown): QuickTarget | undefined {
  if (!isPlainObject(value) || !hasOnlyKeys(value, TARGET_KEYS)) return undefined;
  const { accountId, platform, credentials, options } = value;
  if (accountId !== undefined && !isStoreId(accountId, 256)) return undefined;
  if (platform !== undefined && !(typeof platform === 'string' && PLATFORMS.has(platform))) return undefined;
  // The schema's own rule: an account id, or a platform with credentials, never both.
  if (accountId !== undefined ? credentials !== undefined : platform === undefined || credentials === undefined) return undefined;
  const target: QuickTarget = {};
  if (accountId !== undefined) target.accountId = accountId as string;
  if (platform !== undefined) target.platform = platform as PlatformId;
  if (credentials !== undefined) target.credentials = credentials;
  if (options !== undefined) target.options = options;
  return target;
}

/** A text post, possibly a reply or with a first comment; a copy, as zod's output is. */
export function quickPost(value: unknown): Post | undefined {
  if (!isPlainObject(value) || !hasOnlyKeys(value, POST_KEYS)) return undefined;
  const { text, replyTo, firstComment } = value;
  if (typeof text !== 'string') return undefined;
  if (replyTo !== undefined && !(typeof replyTo === 'string' && replyTo.length >= 1)) return undefined;
  if (firstComment !== undefined && !(typeof firstComment === 'string' && firstComment.length >= 1)) return undefined;
  const post: Post = { text };
  if (replyTo !== undefined) post.replyTo = replyTo as string;
  if (firstComment !== undefined) post.firstComment = firstComment as string;
  return post;
}

/** An object literal (or `Object.create(null)`): no class instance, array or proxy-like exotic. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Every enumerable key is known and the object's own: no key zod would strip. */
function hasOnlyKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key) || !Object.hasOwn(value, key)) return false;
  return true;
}

function isStoreId(value: unknown, maxLength: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= maxLength && isWellFormedText(value);
}
