import { LetmepostError, type Clock, type ErrorCode, type LetmepostErrorOptions } from '@letmepost/core';
import type { HttpErrorResponse } from '@letmepost/provider-utils';
import { xrpcErrorSchema } from './bluesky-api.js';

const APP_PASSWORD_REMEDIATION =
  'Create an app password in Bluesky under Settings → Privacy and security → App passwords and connect again.';

/** The XRPC method a request called (`com.atproto.repo.createRecord`), read from its URL. */
export function nsidOf(url: string): string | undefined {
  const match = /\/xrpc\/([a-zA-Z0-9.-]+)(?:[?#]|$)/.exec(url);
  return match?.[1];
}

function error(options: Omit<LetmepostErrorOptions, 'platform'>): LetmepostError {
  return new LetmepostError({ platform: 'bluesky', ...options });
}

// The video service reports these on uploads (names from the `app.bsky.video.*` lexicons).
const VIDEO_ERRORS: Readonly<Record<string, ErrorCode>> = {
  VideoTooLarge: 'media_invalid',
  VideoTooLong: 'media_invalid',
  BadAspectRatio: 'media_invalid',
  UnsupportedContentType: 'media_invalid',
  DailyLimitExceeded: 'quota_exceeded',
  UploadForbidden: 'permission_denied',
  ServiceOverloaded: 'platform_unavailable',
};

const MEDIA_ERRORS = new Set(['BlobTooLarge', 'PayloadTooLarge', 'InvalidMimeType', 'InvalidSize']);

/**
 * Maps a failed XRPC answer to a LetmepostError from its structured `error` name and HTTP status
 * (never from the prose `message`). Bluesky quirks handled here: an expired access token is a
 * 400 `ExpiredToken`, not a 401; login and refresh failures mean different things than the same
 * names on other calls; a 5xx on `createRecord` may still have created the post.
 */
export function mapBlueskyError(options: { response: HttpErrorResponse; clock: Clock }): LetmepostError {
  const { response, clock } = options;
  const parsed = xrpcErrorSchema.safeParse(response.body);
  const name = parsed.success ? parsed.data.error : undefined;
  const detail = parsed.success && parsed.data.message ? `: ${parsed.data.message}` : '';
  const nsid = nsidOf(response.request.url) ?? response.request.url;
  const status = response.status;
  const base = { status, platformResponse: response.body };
  const says = `Bluesky ${nsid} answered ${status}${name ? ` ${name}` : ''}${detail}`;

  if (status === 429 || name === 'RateLimitExceeded') {
    const { retryAfterMs, resetAt } = response.rateLimit;
    return error({
      ...base,
      code: 'rate_limited',
      message: says,
      retryAfterMs: retryAfterMs ?? (resetAt === undefined ? undefined : Math.max(0, resetAt - clock.now())),
      remediation:
        nsid === 'com.atproto.server.createSession'
          ? 'Bluesky allows 30 logins per 5 minutes and 300 per day per account; reuse the session instead of logging in again.'
          : undefined,
    });
  }

  if (name === 'AccountTakedown' || name === 'AccountSuspended' || name === 'AccountDeactivated') {
    return error({ ...base, code: 'permission_denied', message: says, remediation: 'The account is not active on its PDS.' });
  }

  if (nsid === 'com.atproto.server.createSession') {
    if (status === 401 || name === 'AuthenticationRequired' || name === 'AuthFactorTokenRequired') {
      return error({
        ...base,
        code: 'platform_auth_failed',
        message: says,
        field: 'appPassword',
        remediation: APP_PASSWORD_REMEDIATION,
      });
    }
  }

  if (nsid === 'com.atproto.server.refreshSession') {
    if (status === 401 || name === 'ExpiredToken' || name === 'InvalidToken' || name === 'AuthenticationRequired') {
      return error({ ...base, code: 'reauth_required', message: says, remediation: APP_PASSWORD_REMEDIATION });
    }
  }

  if (name === 'ExpiredToken' || name === 'InvalidToken' || name === 'AuthMissing' || name === 'AuthenticationRequired' || status === 401) {
    return error({ ...base, code: 'auth_expired', message: says, remediation: 'Refresh the session and try again.' });
  }

  if (name !== undefined && MEDIA_ERRORS.has(name)) {
    return error({ ...base, code: 'media_invalid', message: says });
  }
  if (status === 413) return error({ ...base, code: 'media_invalid', message: says });

  const videoCode = name === undefined ? undefined : VIDEO_ERRORS[name];
  if (videoCode) return error({ ...base, code: videoCode, message: says });

  // A PDS that does not implement a method (third-party PDSes, older versions).
  if (name === 'MethodNotImplemented' || name === 'XRPCNotSupported' || status === 501) {
    return error({ ...base, code: 'not_supported', message: says, retryable: false });
  }

  if (status >= 500) {
    // `createRecord` is the one write that must not be repeated blindly: a 500/502/504 can come
    // after the PDS committed the record (a 503 is refused before any work is done).
    if (nsid === 'com.atproto.repo.createRecord' && status !== 503) {
      return error({
        ...base,
        code: 'publish_outcome_unknown',
        message: `${says}; the post may have been created.`,
        retryable: false,
        remediation: "Check the account's posts before publishing again.",
      });
    }
    return error({ ...base, code: 'platform_unavailable', message: says });
  }

  if (status === 403) return error({ ...base, code: 'permission_denied', message: says });
  if (status === 404 || name === 'RecordNotFound') return error({ ...base, code: 'not_found', message: says });
  return error({ ...base, code: 'platform_rejected', message: says });
}
