import { LetmepostError } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parsePostReference } from './bluesky-post-reference.js';
import { CANARY_APP_PASSWORD, testProvider } from './test-support/bluesky-test-setup.js';

// Text from outside (a pasted post URL, a DID) with a malformed percent-escape, or one that
// decodes to no valid UTF-8, must give a typed answer, never a raw URIError (a REST 500).

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());

describe('malformed percent-escapes', () => {
  test.each(['%E0%A4%A', '%ED%A0%80', '%zz'])('a bsky.app post URL with %s in the handle is no post reference', (escape) => {
    expect(parsePostReference({ value: `https://bsky.app/profile/alice${escape}.bsky.social/post/3kabc` })).toBeUndefined();
  });

  test('validate reports such a replyTo as a format issue instead of throwing', () => {
    const issues = testProvider().validate!({
      post: { text: 'hi', replyTo: 'https://bsky.app/profile/alice%ED%A0%80.bsky.social/post/3kabc' },
      options: {},
    });
    expect(issues).toContainEqual(expect.objectContaining({ rule: 'bluesky.reply_to.format', field: 'replyTo' }));
  });

  test('a did:web identifier with a malformed escape is a typed error before any request', async () => {
    const error = await testProvider()
      .connectWithCredentials!({ credentials: { identifier: 'did:web:host%ED%A0%80x', appPassword: CANARY_APP_PASSWORD } })
      .catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(URIError);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect((error as LetmepostError).code).toBe('platform_auth_failed');
    expect((error as LetmepostError).field).toBe('identifier');
  });
});
