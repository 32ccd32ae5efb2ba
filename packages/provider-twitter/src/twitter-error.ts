import { LetmepostError, redactThenShorten, type Clock } from '@letmepost/core';
import { createErrorMapper, type ErrorMapper, type ErrorMapperRule, type HttpErrorResponse } from '@letmepost/provider-utils';
import { twitterErrorBodySchema, type TwitterProcessingInfo } from './twitter-api.js';

/**
 * Maps X API v2 error answers to LetmepostError codes.
 *
 * X answers with RFC 7807-style problems: `type` is a URI such as
 * `https://api.x.com/2/problems/usage-capped` (older hosts: `api.twitter.com`), or `about:blank`
 * with the HTTP status as the only machine-readable signal. Mapping keys on the problem type
 * name and the status. One case has no structured field at all: a duplicate post is a 403
 * `about:blank` whose `detail` is a fixed sentence, so it is recognised by comparing the whole
 * `detail` with X's exact sentences (never by searching prose for words).
 */

const PROBLEM_TYPE_PREFIXES = ['https://api.x.com/2/problems/', 'https://api.twitter.com/2/problems/'];

/** X's complete `detail` for a duplicate post (it has no problem type of its own). */
const DUPLICATE_CONTENT_DETAILS: ReadonlySet<string> = new Set([
  'You are not allowed to create a Tweet with duplicate content.',
  'You are not allowed to create a Post with duplicate content.',
]);

export const TWITTER_RULES = {
  duplicate: 'twitter.post.duplicate',
  replyRestricted: 'twitter.reply.restricted',
  clientForbidden: 'twitter.app.client_forbidden',
  unsupportedAuthentication: 'twitter.auth.unsupported_authentication',
  usageCapped: 'twitter.usage.capped',
  mediaProcessingFailed: 'twitter.media.processing_failed',
  mediaRejected: 'twitter.media.rejected',
  invalidRequest: 'twitter.request.invalid',
} as const;

/** `usage-capped` for `https://api.x.com/2/problems/usage-capped`; undefined for `about:blank`. */
export function twitterProblemName(type: string | undefined): string | undefined {
  if (type === undefined) return undefined;
  const prefix = PROBLEM_TYPE_PREFIXES.find((candidate) => type.startsWith(candidate));
  return prefix === undefined ? undefined : type.slice(prefix.length);
}

/** The structured facts of an X error answer the table matches on. */
type TwitterErrorFields = {
  /** Problem names of the body and of each `errors[]` entry (`usage-capped`, `client-forbidden`). */
  problems: readonly string[];
  /** The body is X's duplicate-post answer (its complete `detail` sentence). */
  duplicate: boolean;
  /** The call went to `/2/media/*`, where a 400/413/415 means the file was refused. */
  mediaRequest: boolean;
  /** `reason` of a `client-forbidden` problem (e.g. `client-not-enrolled`); shown, not matched. */
  reason: string | undefined;
  /** `: <title> — <detail>` for messages only. */
  summary: string;
};

function twitterErrorFields(response: HttpErrorResponse): TwitterErrorFields {
  const parsed = twitterErrorBodySchema().safeParse(response.body);
  const body = parsed.success ? parsed.data : {};
  const problems = [body, ...(body.errors ?? [])];
  return {
    problems: problems.map((problem) => twitterProblemName(problem.type)).filter((name) => name !== undefined),
    duplicate: problems.some((problem) => problem.detail !== undefined && DUPLICATE_CONTENT_DETAILS.has(problem.detail.trim())),
    mediaRequest: pathOf(response.request.url).startsWith('/2/media/'),
    reason: problems.map((problem) => ('reason' in problem ? problem.reason : undefined)).find((value) => value !== undefined),
    summary: describe(problems),
  };
}

const where = (response: HttpErrorResponse): string => `${response.request.method} ${response.request.url}`;

/**
 * X's error table. Rows are tried in order; answers no row claims (5xx) are left to
 * provider-utils' status mapping and its "a failed create may have happened" handling.
 */
const TWITTER_ERROR_RULES: readonly ErrorMapperRule<TwitterErrorFields>[] = [
  {
    when: [{ problems: 'usage-capped' }, { status: 402 }],
    code: 'quota_exceeded',
    rule: TWITTER_RULES.usageCapped,
    retryable: false,
    message: ({ response, fields }) =>
      `X refused ${where(response)} (${response.status}): the app's usage cap or pay-per-use credits are exhausted${fields.summary}`,
    remediation: 'Add credits or raise the spending limit of the X app in console.x.com; requests stay blocked until then.',
  },
  {
    when: [{ status: 429 }, { problems: 'rate-limit-exceeded' }],
    code: 'rate_limited',
    retryable: true,
    retryAfter: 'header-or-reset',
    message: ({ response, fields, retryAfterMs }) =>
      `X rate-limited ${where(response)} (${response.status})${retryAfterMs === undefined ? '' : `; the window resets in ${Math.ceil(retryAfterMs / 1000)} s`}${fields.summary}`,
    remediation: 'Wait until the rate-limit window resets (x-rate-limit-reset) before trying again.',
  },
  {
    when: { status: 401 },
    code: 'auth_expired',
    message: ({ response, fields }) => `X refused the credentials for ${where(response)} (401)${fields.summary}`,
    remediation: 'Refresh the OAuth 2.0 access token; for OAuth 1.0a credentials, check that the four keys belong together and were not regenerated.',
  },
  {
    when: { problems: 'client-forbidden' },
    code: 'permission_denied',
    rule: TWITTER_RULES.clientForbidden,
    message: ({ response, fields }) =>
      `X refused ${where(response)} for this app (${response.status}${fields.reason === undefined ? '' : `, ${fields.reason}`})${fields.summary}`,
    remediation: 'Attach the X app to a project with API access (pay-per-use package, Production environment) in console.x.com.',
  },
  {
    when: { problems: 'unsupported-authentication' },
    code: 'permission_denied',
    rule: TWITTER_RULES.unsupportedAuthentication,
    message: ({ response, fields }) => `X does not accept this kind of credentials for ${where(response)} (${response.status})${fields.summary}`,
    remediation: 'Use a user-context token (OAuth 2.0 with PKCE, or OAuth 1.0a user credentials), not an app-only bearer token.',
  },
  {
    when: { status: 403, duplicate: true },
    code: 'duplicate_content',
    rule: TWITTER_RULES.duplicate,
    message: ({ response, fields }) => `X refused ${where(response)}: the account already posted this exact text (403)${fields.summary}`,
    remediation: 'Change the text; X refuses a post identical to a recent one from the same account.',
  },
  {
    when: { status: 403 },
    code: 'permission_denied',
    message: ({ response, fields }) => `X denied ${where(response)} (403)${fields.summary}`,
    remediation: 'Check the scopes granted (tweet.write, media.write), that the account is not locked or suspended, and that the app may write.',
  },
  {
    when: [{ status: 404 }, { problems: 'resource-not-found' }],
    code: 'not_found',
    message: ({ response, fields }) => `X found nothing at ${where(response)} (${response.status})${fields.summary}`,
  },
  {
    when: { mediaRequest: true, status: [400, 413, 415] },
    code: 'media_invalid',
    rule: TWITTER_RULES.mediaRejected,
    message: ({ response, fields }) => `X refused the media in ${where(response)} (${response.status})${fields.summary}`,
    remediation: 'Check the file type and size against X’s limits (images 5 MB, GIFs 15 MB, MP4/MOV video).',
  },
  {
    when: [{ status: 400 }, { problems: 'invalid-request' }],
    code: 'platform_rejected',
    rule: TWITTER_RULES.invalidRequest,
    message: ({ response, fields }) => `X rejected ${where(response)} (${response.status})${fields.summary}`,
  },
];

/** The `mapError` of this provider's HTTP client: X's error table. */
export function createTwitterErrorMapper(options: { clock: Clock }): ErrorMapper {
  return createErrorMapper({
    platform: 'twitter',
    clock: options.clock,
    fields: twitterErrorFields,
    message: ({ response, fields }) => `X answered ${where(response)} (${response.status})${fields.summary}`,
    rules: TWITTER_ERROR_RULES,
  });
}

/** Maps one X error answer (the table of `createTwitterErrorMapper`, at `now`). */
export function mapTwitterError(options: { response: HttpErrorResponse; now: number }): LetmepostError | undefined {
  return createTwitterErrorMapper({ clock: { now: () => options.now } })(options.response);
}

/**
 * A 403 on a reply is X's reply restriction (since 2026-02 self-serve apps may reply only where
 * the author summoned the account, and conversation settings may exclude it). The answer itself
 * is a plain `about:blank` 403, so the restriction is recognised from what was sent: a reply.
 */
export function asReplyRestricted(error: unknown): unknown {
  if (!LetmepostError.isInstance(error) || error.code !== 'permission_denied' || error.rule !== undefined) return error;
  return new LetmepostError({
    code: 'permission_denied',
    message: `X refused the reply: ${error.message}`,
    platform: 'twitter',
    status: error.status,
    rule: TWITTER_RULES.replyRestricted,
    remediation:
      'X limits programmatic replies: the post must allow replies from this account, and on self-serve API tiers its author must have mentioned or quoted the account.',
    platformResponse: error.platformResponse,
    cause: error,
  });
}

/** A video or GIF X could not process (STATUS `state: failed`). */
export function mediaProcessingError(options: { mediaId: string; processingInfo: TwitterProcessingInfo }): LetmepostError {
  const reason = options.processingInfo.error?.message ?? options.processingInfo.error?.name;
  return new LetmepostError({
    code: 'media_invalid',
    message: `X could not process media ${options.mediaId}${reason === undefined ? '.' : `: ${reason}`}`,
    platform: 'twitter',
    rule: TWITTER_RULES.mediaProcessingFailed,
    platformResponse: { processing_info: options.processingInfo },
    remediation:
      'Re-encode the video as H.264/AAC MP4 within the account’s limits (non-Premium accounts: up to 512 MB, 0.5–140 s, 1280×1024, 60 fps).',
  });
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** `: <title> — <detail>` for messages; prose is shown to people, never used to decide. */
function describe(problems: readonly { title?: string; detail?: string; message?: string }[]): string {
  const first = problems.find((problem) => problem.detail ?? problem.title ?? problem.message);
  if (!first) return '.';
  const text = [first.title, first.detail ?? first.message].filter((part) => part !== undefined && part !== '').join(' — ');
  return `: ${redactThenShorten({ text, maxLength: 300 })}`;
}
