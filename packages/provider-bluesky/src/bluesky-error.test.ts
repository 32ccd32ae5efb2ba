import type { ErrorCode } from '@letmepost/core';
import type { HttpErrorResponse } from '@letmepost/provider-utils';
import { describe, expect, test } from 'vitest';
import { clock, NOW } from './test-support/bluesky-test-setup.js';
import { mapBlueskyError, nsidOf } from './bluesky-error.js';

const PDS = 'https://morel.us-east.host.bsky.network';

function response(options: { nsid: string; status: number; body?: unknown; headers?: Record<string, string>; rateLimit?: HttpErrorResponse['rateLimit'] }): HttpErrorResponse {
  return {
    status: options.status,
    headers: options.headers ?? {},
    body: options.body,
    rateLimit: options.rateLimit ?? {},
    request: { method: 'POST', url: `${PDS}/xrpc/${options.nsid}`, retry: 'create' },
  };
}

describe('mapBlueskyError', () => {
  test.each<[string, number, string | undefined, ErrorCode]>([
    ['com.atproto.repo.createRecord', 400, 'ExpiredToken', 'auth_expired'],
    ['com.atproto.repo.createRecord', 400, 'InvalidToken', 'auth_expired'],
    ['com.atproto.repo.uploadBlob', 401, 'AuthMissing', 'auth_expired'],
    ['com.atproto.repo.uploadBlob', 401, undefined, 'auth_expired'],
    ['com.atproto.server.refreshSession', 400, 'ExpiredToken', 'reauth_required'],
    ['com.atproto.server.refreshSession', 400, 'InvalidToken', 'reauth_required'],
    ['com.atproto.server.refreshSession', 401, 'AuthenticationRequired', 'reauth_required'],
    ['com.atproto.server.createSession', 401, 'AuthenticationRequired', 'platform_auth_failed'],
    ['com.atproto.server.createSession', 401, 'AuthFactorTokenRequired', 'platform_auth_failed'],
    ['com.atproto.server.createSession', 400, 'AccountTakedown', 'permission_denied'],
    ['com.atproto.repo.createRecord', 400, 'InvalidRequest', 'platform_rejected'],
    ['com.atproto.repo.createRecord', 400, 'InvalidSwap', 'platform_rejected'],
    ['com.atproto.repo.createRecord', 400, 'InvalidMimeType', 'media_invalid'],
    ['com.atproto.repo.createRecord', 400, 'InvalidSize', 'media_invalid'],
    ['com.atproto.repo.uploadBlob', 400, 'BlobTooLarge', 'media_invalid'],
    ['com.atproto.repo.uploadBlob', 413, 'PayloadTooLarge', 'media_invalid'],
    ['app.bsky.video.uploadVideo', 400, 'DailyLimitExceeded', 'quota_exceeded'],
    ['app.bsky.video.uploadVideo', 400, 'VideoTooLong', 'media_invalid'],
    ['app.bsky.video.uploadVideo', 403, 'UploadForbidden', 'permission_denied'],
    ['com.atproto.repo.getRecord', 400, 'RecordNotFound', 'not_found'],
    ['app.bsky.video.getUploadLimits', 501, 'MethodNotImplemented', 'not_supported'],
    ['com.atproto.repo.createRecord', 500, 'InternalServerError', 'publish_outcome_unknown'],
    ['com.atproto.repo.createRecord', 502, 'UpstreamFailure', 'publish_outcome_unknown'],
    ['com.atproto.repo.createRecord', 503, 'NotEnoughResources', 'platform_unavailable'],
    ['com.atproto.repo.uploadBlob', 500, 'InternalServerError', 'platform_unavailable'],
  ])('%s %i %s → %s', (nsid, status, name, code) => {
    const body = name === undefined ? undefined : { error: name, message: 'details' };
    const error = mapBlueskyError({ response: response({ nsid, status, body }), clock });
    expect(error.code).toBe(code);
    expect(error.platform).toBe('bluesky');
    expect(error.status).toBe(status);
  });

  test('a 429 takes the wait from the rate-limit headers, falling back to RateLimit-Reset', () => {
    const withRetryAfter = mapBlueskyError({
      response: response({ nsid: 'com.atproto.repo.createRecord', status: 429, body: { error: 'RateLimitExceeded' }, rateLimit: { retryAfterMs: 30_000 } }),
      clock,
    });
    expect(withRetryAfter).toMatchObject({ code: 'rate_limited', retryAfterMs: 30_000, retryable: true });
    const resetOnly = mapBlueskyError({
      response: response({ nsid: 'com.atproto.repo.createRecord', status: 429, rateLimit: { resetAt: NOW + 90_000, remaining: 3 } }),
      clock,
    });
    expect(resetOnly.retryAfterMs).toBe(90_000);
  });

  test('rate-limited logins say why logging in per post is a mistake', () => {
    const error = mapBlueskyError({ response: response({ nsid: 'com.atproto.server.createSession', status: 429 }), clock });
    expect(error.remediation).toMatch(/30 logins per 5 minutes/);
  });

  test('nsidOf reads the method from XRPC URLs with and without a path prefix', () => {
    expect(nsidOf(`${PDS}/xrpc/com.atproto.repo.createRecord`)).toBe('com.atproto.repo.createRecord');
    expect(nsidOf('http://127.0.0.1:1234/bluesky/pds/xrpc/app.bsky.feed.getPosts?uris=x')).toBe('app.bsky.feed.getPosts');
    expect(nsidOf('https://plc.directory/did:plc:abc')).toBeUndefined();
  });
});
