import { LetmepostError, systemClock, type Clock, type ErrorCode, type PlatformId } from '@letmepost/core';
import type { HttpErrorResponse } from './http-client.js';

/** A structured value an error answer carries (a code, a subcode, a problem type, a flag). */
export type ErrorFieldValue = string | number | boolean | undefined | readonly (string | number)[];

/** What a mapper reads from an error answer before matching: structured fields only, never prose. */
export type ErrorFields = Record<string, ErrorFieldValue>;

/** Which statuses a condition accepts: one, a list, a class (`'4xx'`, `'5xx'`) or a predicate. */
export type StatusMatcher = number | readonly number[] | '4xx' | '5xx' | ((status: number) => boolean);

/**
 * One condition: every key given must hold. `status` matches the HTTP status; any other key
 * names a field. A field holding a scalar matches when it equals the value (or one of the values
 * of a list); a field holding a list matches when it contains the value (or one of them).
 */
export type ErrorCondition<FIELDS extends ErrorFields> = {
  status?: StatusMatcher;
} & {
  [NAME in keyof FIELDS]?: FIELDS[NAME] extends readonly (infer ITEM)[] ? ITEM | readonly ITEM[] : Exclude<FIELDS[NAME], undefined> | readonly Exclude<FIELDS[NAME], undefined>[];
};

/** What a rule's message and remediation functions receive. */
export interface ErrorMappingContext<FIELDS extends ErrorFields> {
  response: HttpErrorResponse;
  fields: FIELDS;
  /** The mapper's `message` for this answer. */
  message: string;
  /** The row's `retryAfter`, when it has one and the answer says. */
  retryAfterMs: number | undefined;
}

/** One row of a provider's error table. The first rule whose `when` holds maps the answer. */
export interface ErrorMapperRule<FIELDS extends ErrorFields> {
  /** One condition, or several of which any may hold. Absent: every answer (a catch-all row). */
  when?: ErrorCondition<FIELDS> | readonly ErrorCondition<FIELDS>[];
  /** The core code; `'default'` leaves the answer to provider-utils' status mapping. */
  code: ErrorCode | 'default';
  /** Overrides the code's default retryability. */
  retryable?: boolean;
  /**
   * `header`: `retryAfterMs` from `Retry-After`; `header-or-reset`: from `Retry-After`, else from
   * the rate-limit window's reset (`x-rate-limit-reset`, `ratelimit-reset`) against the clock.
   */
  retryAfter?: 'header' | 'header-or-reset';
  /** Stable rule id for errors a host may branch on, e.g. `twitter.usage.capped`. */
  rule?: string;
  /** The input field the error is about, e.g. `appPassword`. */
  field?: string;
  remediation?: string | ((context: ErrorMappingContext<FIELDS>) => string | undefined);
  /** Replaces the mapper's message for this row. */
  message?: (context: ErrorMappingContext<FIELDS>) => string;
}

export interface CreateErrorMapperOptions<FIELDS extends ErrorFields> {
  platform: PlatformId;
  /** Reads the structured fields of an answer (parse the body with zod; absent fields stay undefined). */
  fields: (response: HttpErrorResponse) => FIELDS;
  /** The message of a mapped error, from the answer; prose is shown to people, never matched. */
  message: (context: { response: HttpErrorResponse; fields: FIELDS }) => string;
  rules: readonly ErrorMapperRule<FIELDS>[];
  /** For `retryAfter: 'header-or-reset'`. Default: the system clock. */
  clock?: Clock;
}

/** Maps an error answer to a LetmepostError, or `undefined` to leave it to the status mapping. */
export type ErrorMapper = (response: HttpErrorResponse) => LetmepostError | undefined;

/**
 * Builds a provider's `mapError` from a declarative table, so a provider's error mapping is its
 * fields, its message and its rows. Every mapped error carries the platform, the status and the
 * answer (redacted by LetmepostError) as `platformResponse: { status, body }`.
 *
 * The same mapper serves `inspectSuccess` for platforms that report failures in a 2xx body
 * (Slack's `{ ok: false }`): pass it the 2xx answer when the body says it failed.
 */
export function createErrorMapper<FIELDS extends ErrorFields>(options: CreateErrorMapperOptions<FIELDS>): ErrorMapper {
  const { platform, rules } = options;
  return (response) => {
    const fields = options.fields(response);
    const rule = rules.find((candidate) => ruleMatches({ rule: candidate, status: response.status, fields }));
    if (rule === undefined || rule.code === 'default') return undefined;
    const message = options.message({ response, fields });
    const retryAfterMs = rule.retryAfter === undefined ? undefined : retryAfterOf({ response, mode: rule.retryAfter, clock: options.clock });
    const context: ErrorMappingContext<FIELDS> = { response, fields, message, retryAfterMs };
    const remediation = typeof rule.remediation === 'function' ? rule.remediation(context) : rule.remediation;
    return new LetmepostError({
      code: rule.code,
      message: rule.message === undefined ? message : rule.message(context),
      platform,
      status: response.status,
      platformResponse: { status: response.status, body: response.body },
      ...(rule.retryable !== undefined && { retryable: rule.retryable }),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
      ...(rule.rule !== undefined && { rule: rule.rule }),
      ...(rule.field !== undefined && { field: rule.field }),
      ...(remediation !== undefined && { remediation }),
    });
  };
}

function ruleMatches<FIELDS extends ErrorFields>(options: { rule: ErrorMapperRule<FIELDS>; status: number; fields: FIELDS }): boolean {
  const { when } = options.rule;
  if (when === undefined) return true;
  const conditions: readonly ErrorCondition<FIELDS>[] = isConditionList(when) ? when : [when];
  return conditions.some((condition) => conditionHolds({ condition, status: options.status, fields: options.fields }));
}

function isConditionList<FIELDS extends ErrorFields>(
  when: ErrorCondition<FIELDS> | readonly ErrorCondition<FIELDS>[],
): when is readonly ErrorCondition<FIELDS>[] {
  return Array.isArray(when);
}

function conditionHolds<FIELDS extends ErrorFields>(options: { condition: ErrorCondition<FIELDS>; status: number; fields: FIELDS }): boolean {
  const { condition, status, fields } = options;
  for (const name of Object.keys(condition)) {
    const expected = (condition as Record<string, unknown>)[name];
    if (name === 'status') {
      if (!statusMatches({ matcher: expected as StatusMatcher, status })) return false;
      continue;
    }
    if (!fieldMatches({ actual: fields[name], expected })) return false;
  }
  return true;
}

function statusMatches(options: { matcher: StatusMatcher; status: number }): boolean {
  const { matcher, status } = options;
  if (typeof matcher === 'number') return status === matcher;
  if (typeof matcher === 'function') return matcher(status);
  if (matcher === '4xx') return status >= 400 && status < 500;
  if (matcher === '5xx') return status >= 500 && status < 600;
  return (matcher as readonly number[]).includes(status);
}

function fieldMatches(options: { actual: ErrorFieldValue; expected: unknown }): boolean {
  const { actual, expected } = options;
  if (actual === undefined) return false;
  const wanted: readonly unknown[] = Array.isArray(expected) ? expected : [expected];
  if (Array.isArray(actual)) return wanted.some((value) => (actual as readonly unknown[]).includes(value));
  return wanted.includes(actual);
}

function retryAfterOf(options: { response: HttpErrorResponse; mode: 'header' | 'header-or-reset'; clock: Clock | undefined }): number | undefined {
  const { retryAfterMs, resetAt } = options.response.rateLimit;
  if (retryAfterMs !== undefined || options.mode === 'header' || resetAt === undefined) return retryAfterMs;
  return Math.max(0, resetAt - (options.clock ?? systemClock).now());
}
