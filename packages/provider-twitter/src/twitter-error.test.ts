import { LetmepostError } from '@letmepost/core';
import type { HttpErrorResponse } from '@letmepost/provider-utils';
import { describe, expect, it } from 'vitest';
import { asReplyRestricted, mapTwitterError, mediaProcessingError, twitterProblemName } from './twitter-error.js';

const NOW = 1_800_000_000_000;

const response = (fields: Partial<HttpErrorResponse> & { status: number; url?: string }): HttpErrorResponse => ({
  headers: {},
  body: undefined,
  rateLimit: {},
  request: { method: 'POST', url: fields.url ?? 'https://api.x.com/2/tweets', retry: 'create' },
  ...fields,
});

const map = (fields: Parameters<typeof response>[0]) => mapTwitterError({ response: response(fields), now: NOW });

describe('twitterProblemName', () => {
  it('reads problem types from both API hosts and ignores about:blank', () => {
    expect(twitterProblemName('https://api.x.com/2/problems/usage-capped')).toBe('usage-capped');
    expect(twitterProblemName('https://api.twitter.com/2/problems/client-forbidden')).toBe('client-forbidden');
    expect(twitterProblemName('about:blank')).toBeUndefined();
    expect(twitterProblemName('https://evil.example/2/problems/usage-capped')).toBeUndefined();
  });
});

describe('mapTwitterError', () => {
  it('finds a problem type inside errors[]', () => {
    const error = map({ status: 429, body: { errors: [{ type: 'https://api.x.com/2/problems/usage-capped', title: 'UsageCapExceeded' }] } });
    expect(error).toMatchObject({ code: 'quota_exceeded', retryable: false });
  });

  it('takes the wait from the reset time when X says nothing else', () => {
    const error = map({ status: 429, body: {}, rateLimit: { resetAt: NOW + 42_000 } });
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 42_000, retryable: true });
  });

  it('recognises a duplicate only by X’s complete sentence, not by a word in it', () => {
    expect(map({ status: 403, body: { type: 'about:blank', detail: 'You are not allowed to create a Tweet with duplicate content.' } })?.code).toBe('duplicate_content');
    expect(map({ status: 403, body: { type: 'about:blank', detail: 'Reasons: duplicate content, spam, and more.' } })?.code).toBe('permission_denied');
  });

  it('maps unsupported-authentication to permission_denied with its own rule', () => {
    const error = map({ status: 403, body: { type: 'https://api.twitter.com/2/problems/unsupported-authentication', title: 'Unsupported Authentication' } });
    expect(error).toMatchObject({ code: 'permission_denied', rule: 'twitter.auth.unsupported_authentication' });
  });

  it('maps a 400 on a media endpoint to media_invalid and on /2/tweets to platform_rejected', () => {
    expect(map({ status: 400, body: {}, url: 'https://api.x.com/2/media/upload' })?.code).toBe('media_invalid');
    expect(map({ status: 413, body: 'Request Entity Too Large', url: 'https://api.x.com/2/media/upload/1/append' })?.code).toBe('media_invalid');
    expect(map({ status: 400, body: {} })?.code).toBe('platform_rejected');
  });

  it('cuts X’s prose after masking it, so no piece of a credential that sat across the cut survives', () => {
    // The bearer token starts 5 characters before the 300-character cut: cut first, "Bearer QQQQQ"
    // would be too short to be recognised as a credential and would be kept.
    const detail = `${'x'.repeat(287)} Bearer ${'Q'.repeat(40)} was refused.`;
    const error = map({ status: 403, body: { type: 'about:blank', detail } });
    expect(error?.message).toContain(`${'x'.repeat(287)} [redacted]`);
    expect(error?.message).not.toContain('QQ');
  });

  it('leaves 5xx to the HTTP client (which knows whether a create may have happened)', () => {
    expect(map({ status: 500, body: { title: 'Internal Server Error' } })).toBeUndefined();
    expect(map({ status: 503, body: 'Service Unavailable' })).toBeUndefined();
  });
});

describe('asReplyRestricted', () => {
  it('turns a plain 403 on a reply into the reply restriction and leaves anything else alone', () => {
    const forbidden = map({ status: 403, body: { type: 'about:blank', title: 'Forbidden' } })!;
    expect(asReplyRestricted(forbidden)).toMatchObject({ code: 'permission_denied', rule: 'twitter.reply.restricted', status: 403 });
    const duplicate = map({ status: 403, body: { detail: 'You are not allowed to create a Tweet with duplicate content.' } })!;
    expect(asReplyRestricted(duplicate)).toBe(duplicate);
    const appForbidden = map({ status: 403, body: { type: 'https://api.x.com/2/problems/client-forbidden' } })!;
    expect(asReplyRestricted(appForbidden)).toBe(appForbidden);
  });
});

describe('mediaProcessingError', () => {
  it('carries X’s reason and processing info', () => {
    const error = mediaProcessingError({ mediaId: '7', processingInfo: { state: 'failed', error: { code: 3, name: 'InvalidMedia', message: 'Video too long.' } } });
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'twitter.media.processing_failed', message: 'X could not process media 7: Video too long.' });
  });
});
