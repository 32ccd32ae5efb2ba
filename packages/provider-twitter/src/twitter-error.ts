import { LetmepostError, type ErrorCode } from '@letmepost/core';
import type { HttpErrorResponse } from '@letmepost/provider-utils';
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

/**
 * The `mapError` of this provider's HTTP client. Returns undefined for answers that carry
 * nothing X-specific (5xx), so provider-utils' status mapping and its "a failed create may have
 * happened" handling apply.
 */
export function mapTwitterError(options: { response: HttpErrorResponse; now: number }): LetmepostError | undefined {
  const { response } = options;
  const { status } = response;
  const parsed = twitterErrorBodySchema.safeParse(response.body);
  const body = parsed.success ? parsed.data : {};
  const problems = [body, ...(body.errors ?? [])];
  const problemNames = new Set(problems.map((problem) => twitterProblemName(problem.type)).filter((name) => name !== undefined));
  const reason = problems.map((problem) => ('reason' in problem ? problem.reason : undefined)).find((value) => value !== undefined);
  const isMediaRequest = pathOf(response.request.url).startsWith('/2/media/');
  const where = `${response.request.method} ${response.request.url}`;
  const summary = describe(problems);

  const make = (fields: {
    code: ErrorCode;
    message: string;
    rule?: string;
    remediation?: string;
    retryable?: boolean;
    retryAfterMs?: number;
  }) =>
    new LetmepostError({
      ...fields,
      platform: 'twitter',
      status,
      platformResponse: { status, body: response.body },
    });

  if (problemNames.has('usage-capped') || status === 402) {
    return make({
      code: 'quota_exceeded',
      message: `X refused ${where} (${status}): the app's usage cap or pay-per-use credits are exhausted${summary}`,
      rule: TWITTER_RULES.usageCapped,
      retryable: false,
      remediation: 'Add credits or raise the spending limit of the X app in console.x.com; requests stay blocked until then.',
    });
  }

  if (status === 429 || problemNames.has('rate-limit-exceeded')) {
    const retryAfterMs =
      response.rateLimit.retryAfterMs ??
      (response.rateLimit.resetAt === undefined ? undefined : Math.max(0, response.rateLimit.resetAt - options.now));
    return make({
      code: 'rate_limited',
      message: `X rate-limited ${where} (${status})${retryAfterMs === undefined ? '' : `; the window resets in ${Math.ceil(retryAfterMs / 1000)} s`}${summary}`,
      retryable: true,
      retryAfterMs,
      remediation: 'Wait until the rate-limit window resets (x-rate-limit-reset) before trying again.',
    });
  }

  if (status === 401) {
    return make({
      code: 'auth_expired',
      message: `X refused the credentials for ${where} (401)${summary}`,
      remediation: 'Refresh the OAuth 2.0 access token; for OAuth 1.0a credentials, check that the four keys belong together and were not regenerated.',
    });
  }

  if (problemNames.has('client-forbidden')) {
    return make({
      code: 'permission_denied',
      message: `X refused ${where} for this app (${status}${reason === undefined ? '' : `, ${reason}`})${summary}`,
      rule: TWITTER_RULES.clientForbidden,
      remediation: 'Attach the X app to a project with API access (pay-per-use package, Production environment) in console.x.com.',
    });
  }

  if (problemNames.has('unsupported-authentication')) {
    return make({
      code: 'permission_denied',
      message: `X does not accept this kind of credentials for ${where} (${status})${summary}`,
      rule: TWITTER_RULES.unsupportedAuthentication,
      remediation: 'Use a user-context token (OAuth 2.0 with PKCE, or OAuth 1.0a user credentials), not an app-only bearer token.',
    });
  }

  if (status === 403 && problems.some((problem) => problem.detail !== undefined && DUPLICATE_CONTENT_DETAILS.has(problem.detail.trim()))) {
    return make({
      code: 'duplicate_content',
      message: `X refused ${where}: the account already posted this exact text (403)${summary}`,
      rule: TWITTER_RULES.duplicate,
      remediation: 'Change the text; X refuses a post identical to a recent one from the same account.',
    });
  }

  if (status === 403) {
    return make({
      code: 'permission_denied',
      message: `X denied ${where} (403)${summary}`,
      remediation: 'Check the scopes granted (tweet.write, media.write), that the account is not locked or suspended, and that the app may write.',
    });
  }

  if (status === 404 || problemNames.has('resource-not-found')) {
    return make({ code: 'not_found', message: `X found nothing at ${where} (${status})${summary}` });
  }

  if (isMediaRequest && (status === 400 || status === 413 || status === 415)) {
    return make({
      code: 'media_invalid',
      message: `X refused the media in ${where} (${status})${summary}`,
      rule: TWITTER_RULES.mediaRejected,
      remediation: 'Check the file type and size against X’s limits (images 5 MB, GIFs 15 MB, MP4/MOV video).',
    });
  }

  if (status === 400 || problemNames.has('invalid-request')) {
    return make({
      code: 'platform_rejected',
      message: `X rejected ${where} (${status})${summary}`,
      rule: TWITTER_RULES.invalidRequest,
    });
  }

  return undefined;
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
  return `: ${text.slice(0, 300)}`;
}
