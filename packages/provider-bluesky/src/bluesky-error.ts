import type { Clock, LetmepostError } from '@letmepost/core';
import { createErrorMapper, type ErrorMapper, type ErrorMapperRule, type HttpErrorResponse } from '@letmepost/provider-utils';
import { xrpcErrorSchema } from './bluesky-api.js';

const APP_PASSWORD_REMEDIATION =
  'Create an app password in Bluesky under Settings → Privacy and security → App passwords and connect again.';

/** The XRPC method a request called (`com.atproto.repo.createRecord`), read from its URL. */
export function nsidOf(url: string): string | undefined {
  const match = /\/xrpc\/([a-zA-Z0-9.-]+)(?:[?#]|$)/.exec(url);
  return match?.[1];
}

// The video service reports these on uploads (names from the `app.bsky.video.*` lexicons).
const VIDEO_MEDIA_ERRORS = ['VideoTooLarge', 'VideoTooLong', 'BadAspectRatio', 'UnsupportedContentType'];
const MEDIA_ERRORS = ['BlobTooLarge', 'PayloadTooLarge', 'InvalidMimeType', 'InvalidSize'];

const CREATE_SESSION = 'com.atproto.server.createSession';
const REFRESH_SESSION = 'com.atproto.server.refreshSession';
const CREATE_RECORD = 'com.atproto.repo.createRecord';

/** The structured facts of an XRPC error answer the table matches on. */
type BlueskyErrorFields = {
  /** The XRPC `error` name (`ExpiredToken`, `RateLimitExceeded`). */
  name: string | undefined;
  /** The method called, e.g. `com.atproto.repo.createRecord`. */
  nsid: string;
};

function blueskyErrorFields(response: HttpErrorResponse): BlueskyErrorFields {
  const parsed = xrpcErrorSchema().safeParse(response.body);
  return { name: parsed.success ? parsed.data.error : undefined, nsid: nsidOf(response.request.url) ?? response.request.url };
}

/**
 * Bluesky's error table, from the XRPC `error` name, the method and the HTTP status (never the
 * prose `message`). Quirks: an expired access token is a 400 `ExpiredToken`, not a 401; login and
 * refresh failures mean different things than the same names on other calls; a 5xx on
 * `createRecord` may still have created the post.
 */
const BLUESKY_ERROR_RULES: readonly ErrorMapperRule<BlueskyErrorFields>[] = [
  {
    when: [
      { status: 429, nsid: CREATE_SESSION },
      { name: 'RateLimitExceeded', nsid: CREATE_SESSION },
    ],
    code: 'rate_limited',
    retryAfter: 'header-or-reset',
    remediation: 'Bluesky allows 30 logins per 5 minutes and 300 per day per account; reuse the session instead of logging in again.',
  },
  { when: [{ status: 429 }, { name: 'RateLimitExceeded' }], code: 'rate_limited', retryAfter: 'header-or-reset' },
  {
    when: { name: ['AccountTakedown', 'AccountSuspended', 'AccountDeactivated'] },
    code: 'permission_denied',
    remediation: 'The account is not active on its PDS.',
  },
  {
    when: [
      { nsid: CREATE_SESSION, status: 401 },
      { nsid: CREATE_SESSION, name: ['AuthenticationRequired', 'AuthFactorTokenRequired'] },
    ],
    code: 'platform_auth_failed',
    field: 'appPassword',
    remediation: APP_PASSWORD_REMEDIATION,
  },
  {
    when: [
      { nsid: REFRESH_SESSION, status: 401 },
      { nsid: REFRESH_SESSION, name: ['ExpiredToken', 'InvalidToken', 'AuthenticationRequired'] },
    ],
    code: 'reauth_required',
    remediation: APP_PASSWORD_REMEDIATION,
  },
  {
    when: [{ name: ['ExpiredToken', 'InvalidToken', 'AuthMissing', 'AuthenticationRequired'] }, { status: 401 }],
    code: 'auth_expired',
    remediation: 'Refresh the session and try again.',
  },
  { when: [{ name: MEDIA_ERRORS }, { status: 413 }, { name: VIDEO_MEDIA_ERRORS }], code: 'media_invalid' },
  { when: { name: 'DailyLimitExceeded' }, code: 'quota_exceeded' },
  { when: { name: 'UploadForbidden' }, code: 'permission_denied' },
  { when: { name: 'ServiceOverloaded' }, code: 'platform_unavailable' },
  // A PDS that does not implement a method (third-party PDSes, older versions).
  { when: [{ name: ['MethodNotImplemented', 'XRPCNotSupported'] }, { status: 501 }], code: 'not_supported', retryable: false },
  // `createRecord` is the one write that must not be repeated blindly: a 500/502/504 can come
  // after the PDS committed the record (a 503 is refused before any work is done).
  {
    when: { nsid: CREATE_RECORD, status: (status) => status >= 500 && status !== 503 },
    code: 'publish_outcome_unknown',
    retryable: false,
    message: ({ message }) => `${message}; the post may have been created.`,
    remediation: "Check the account's posts before publishing again.",
  },
  { when: { status: '5xx' }, code: 'platform_unavailable' },
  { when: { status: 403 }, code: 'permission_denied' },
  { when: [{ status: 404 }, { name: 'RecordNotFound' }], code: 'not_found' },
  { code: 'platform_rejected' },
];

/** The `mapError` of this provider's HTTP client: Bluesky's error table. */
export function createBlueskyErrorMapper(options: { clock: Clock }): ErrorMapper {
  return createErrorMapper({
    platform: 'bluesky',
    clock: options.clock,
    fields: blueskyErrorFields,
    message: ({ response, fields }) => {
      const parsed = xrpcErrorSchema().safeParse(response.body);
      const detail = parsed.success && parsed.data.message ? `: ${parsed.data.message}` : '';
      return `Bluesky ${fields.nsid} answered ${response.status}${fields.name ? ` ${fields.name}` : ''}${detail}`;
    },
    rules: BLUESKY_ERROR_RULES,
  });
}

/** Maps one failed XRPC answer; every answer maps (the table ends with a catch-all row). */
export function mapBlueskyError(options: { response: HttpErrorResponse; clock: Clock }): LetmepostError {
  return createBlueskyErrorMapper({ clock: options.clock })(options.response) as LetmepostError;
}
