import type { z } from 'zod';
import type { Clock } from './clock.js';
import { LetmepostError, type LetmepostErrorIssue } from './letmepost-error.js';
import { silentLogger, type LogLevel, type Logger } from './logger.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { redact } from './redact.js';
import type { MediaStaging } from './media-staging.js';
import type { FieldCipher } from './store-layout.js';
import type { TokenStore } from './token-store.js';

/** Host decisions core asks about; every hook is optional and may be async. */
export interface LetmepostPolicy {
  /**
   * Whether a workspace may store its own OAuth app for a platform (the SaaS "plan slot" case).
   * Returning false refuses `appCredentials.put` with `plan_feature_not_available`. Core calls it
   * under a per-workspace lease and writes before releasing it, so the answer holds for the write
   * even when several uploads race; keep it quick (the lease lasts 15 s).
   */
  canStoreAppCredentials?(options: AppCredentialsPolicyRequest): boolean | Promise<boolean>;
}

/** What the plan-slot hook is asked about one `appCredentials.put`. */
export interface AppCredentialsPolicyRequest {
  workspaceId: string;
  platform: PlatformId;
  /** Present for per-instance platforms (Mastodon servers). */
  instance?: string;
  /** Platforms the workspace already has at least one app for, sorted, before this write. */
  existingPlatforms: PlatformId[];
  /** Whether this put replaces a pair already stored for the same platform (and instance). */
  replacement: boolean;
}

/** A per-account budget of billable posts in a rolling window. */
export interface LaunchCap {
  limit: number;
  windowMs: number;
}

export type LogFunction = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

/** Everything the orchestrator's parts share; built once by `createLetmepost()`. */
export interface LetmepostContext {
  readonly providers: ReadonlyMap<PlatformId, AnyProvider>;
  readonly store: TokenStore;
  readonly cipher: FieldCipher;
  /** Without a trailing slash, so `${baseUrl}/v1/...` is always well formed. */
  readonly baseUrl: string;
  readonly clock: Clock;
  readonly log: LogFunction;
  readonly policy: LetmepostPolicy;
  readonly launchCaps: ReadonlyMap<PlatformId, LaunchCap>;
  /** Targets of one publish in flight at once; absent: all of them. */
  readonly publishConcurrency?: number;
  /** Per-platform in-flight limits within one publish, for platforms that need one. */
  readonly platformConcurrency: ReadonlyMap<PlatformId, number>;
  readonly idempotencyTtlMs: number;
  /** How long a resume token stays usable. */
  readonly resumeTokenTtlMs: number;
  /** The host's stager for providers that pull media from a URL; absent: such media is refused. */
  readonly mediaStaging?: MediaStaging;
  /** Where `returnTo` may point; absent: anywhere http(s). */
  readonly returnToOrigins?: ReadonlySet<string>;
}

export function requireProvider({
  context,
  platform,
  field = 'platform',
}: {
  context: LetmepostContext;
  platform: PlatformId;
  field?: string;
}): AnyProvider {
  const provider = context.providers.get(platform);
  if (provider === undefined) {
    // The caller can act on this (pick an installed platform), so it is a validation failure
    // naming what is installed, not a `not_supported` the caller cannot change.
    throw new LetmepostError({
      code: 'validation_failed',
      platform,
      field,
      rule: 'platform.not_installed',
      message: `No provider for "${platform}" is installed; installed: ${installedPlatforms({ context })}.`,
      remediation: `Use one of the installed platforms, or pass the ${platform} provider in createLetmepost({ providers }).`,
    });
  }
  return provider;
}

/** The installed platforms, for messages: `twitter, linkedin` (or `none`). */
export function installedPlatforms({ context }: { context: LetmepostContext }): string {
  const platforms = [...context.providers.keys()];
  return platforms.length === 0 ? 'none' : platforms.join(', ');
}

/** Zod issues as letmepost issues, with paths like `targets.1.credentials.pageId`. */
export function issuesFromZod({
  error,
  pathPrefix,
}: {
  error: z.ZodError;
  pathPrefix?: string;
}): LetmepostErrorIssue[] {
  return error.issues.map((issue) => {
    const path = [pathPrefix, ...issue.path.map(String)].filter((part) => part !== undefined && part !== '').join('.');
    return { field: path === '' ? undefined : path, rule: `schema.${issue.code}`, message: issue.message };
  });
}

/** One error for every problem found; `field` is the first one's, for callers that show one. */
export function validationFailed({
  issues,
  code = 'validation_failed',
  message,
}: {
  issues: readonly LetmepostErrorIssue[];
  code?: 'validation_failed' | 'preflight_failed';
  message?: string;
}): LetmepostError {
  const first = issues[0];
  const summary = issues
    .slice(0, 5)
    .map((issue) => (issue.field ? `${issue.field}: ${issue.message}` : issue.message))
    .join('; ');
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return new LetmepostError({
    code,
    message: message ?? `${code === 'preflight_failed' ? 'Preflight failed' : 'Invalid input'}: ${summary}${more}`,
    field: first?.field,
    rule: first?.rule,
    issues,
    // Said with the error, so a host can show the fix next to the message without a table of its own.
    remediation:
      code === 'preflight_failed'
        ? 'Nothing was sent to any target. Change the post so it meets every rule listed in issues, or leave out the target that refuses it, then publish again.'
        : 'Correct every field listed in issues and send the call again.',
  });
}

/**
 * Parses caller input at a boundary; any problem is `validation_failed` naming every field.
 * Zod messages describe the expected shape, never echo the received value, so secrets in the
 * input cannot leak through them.
 */
export function parseInput<T>({
  schema,
  input,
  pathPrefix,
}: {
  schema: z.ZodType<T>;
  input: unknown;
  pathPrefix?: string;
}): T {
  const result = schema.safeParse(input);
  if (!result.success) throw validationFailed({ issues: issuesFromZod({ error: result.error, pathPrefix }) });
  return result.data;
}

/** What `createLogFunction` gives for the default logger; a hot path can skip building its fields. */
export const SILENT_LOG: LogFunction = () => {};

/**
 * The logger as core uses it: fields are redacted before the host's logger sees them, and a
 * throwing logger never breaks a connect or a publish.
 */
export function createLogFunction({ logger }: { logger: Logger }): LogFunction {
  // Without a logger nothing is written, so there is nothing to redact: the default costs nothing
  // per publish instead of a deep, pattern-matching copy of every log entry's fields.
  if (logger === silentLogger) return SILENT_LOG;
  return (level, message, fields) => {
    try {
      logger.log(level, message, fields === undefined ? undefined : (redact(fields) as Record<string, unknown>));
    } catch {
      // Logging is best effort by design.
    }
  };
}

export function toLetmepostError({
  error,
  platform,
  fallbackCode,
  knownSecrets,
}: {
  error: unknown;
  platform?: PlatformId;
  fallbackCode: 'platform_unavailable' | 'publish_outcome_unknown' | 'platform_auth_failed';
  knownSecrets?: readonly string[];
}): LetmepostError {
  if (LetmepostError.isInstance(error)) return error;
  const name = error instanceof Error ? error.name : typeof error;
  const detail = error instanceof Error ? error.message : String(error);
  return new LetmepostError({
    code: fallbackCode,
    platform,
    message: `Unexpected ${name}${platform ? ` from the ${platform} provider` : ''}: ${detail}`,
    knownSecrets,
    cause: error,
  });
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** Every string inside a credentials object, so error messages can mask them verbatim. */
export function secretStrings(value: unknown): string[] {
  const found: string[] = [];
  const visit = (current: unknown, depth: number): void => {
    if (depth > 4) return;
    if (typeof current === 'string') {
      // Short values (a channel "general", a region) are not secrets and would mask too much.
      if (current.length >= 6) found.push(current);
    } else if (current !== null && typeof current === 'object') {
      for (const item of Object.values(current)) visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return found;
}
