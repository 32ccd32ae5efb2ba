import { runProviderConformance } from '@letmepost/testing';
import { validatePost } from '@letmepost/provider-utils';
import type { Post } from '@letmepost/core';
import { describe, expect, test } from 'vitest';
import {
  CANARY_APP_PASSWORD,
  DID,
  HANDLE,
  NOW,
  PDS,
  accountAuth,
  fixture,
  refreshed,
  testProvider,
  tokens,
} from './test-support/bluesky-test-setup.js';
import { createBluesky } from './bluesky-provider.js';

const created = fixture<{ uri: string; cid: string }>('create-record.json');
/** The record key of the recorded createRecord answer, fixed in the resume state. */
const RESUME_RKEY = created.uri.split('/').at(-1) as string;

runProviderConformance({
  createProvider: ({ dispatcher, clock }) => createBluesky({ dispatcher, clock }),
  now: NOW,
  credentials: { valid: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD } },
  publish: {
    auth: accountAuth,
    post: { text: 'Hello from letmepost' },
    options: { langs: ['en'] },
    canarySecrets: [CANARY_APP_PASSWORD],
    writeEndpoint: {
      origin: PDS,
      path: '/xrpc/com.atproto.repo.createRecord',
      success: { status: 200, body: created },
    },
    expected: { postId: created.uri, url: `https://bsky.app/profile/${HANDLE}/post/3ljxq6mckzs2c` },
    rateLimit: {
      // Bluesky's PDS: RateLimit-Reset is epoch seconds (packages/xrpc-server rate-limiter-http.ts).
      headers: { 'ratelimit-limit': '5000', 'ratelimit-remaining': '0', 'ratelimit-reset': String(NOW / 1000 + 120), 'ratelimit-policy': '5000;w=3600' },
      body: fixture('error-rate-limit.json'),
      retryAfterMs: 120_000,
    },
    errorBodies: {
      401: { error: 'AuthenticationRequired', message: 'Authentication Required' },
      403: { error: 'Forbidden', message: 'Forbidden' },
      500: { error: 'InternalServerError', message: 'Internal Server Error' },
      502: { error: 'UpstreamFailure', message: 'Upstream Failure' },
      503: { error: 'NotEnoughResources', message: 'Not enough resources' },
    },
  },
  validation: [
    { post: { text: 'a'.repeat(301) }, rule: 'bluesky.text.max_length' },
    // 150 graphemes but 3750 bytes.
    { post: { text: '👨‍👩‍👧‍👦'.repeat(150) }, rule: 'bluesky.text.max_bytes' },
    { post: { text: '' }, rule: 'bluesky.text.required' },
    {
      post: { text: 'x', media: [{ data: new Uint8Array(1), mimeType: 'image/png' }, { data: new Uint8Array(1), mimeType: 'video/mp4' }] },
      rule: 'bluesky.media.mixed',
    },
    { post: { text: 'x', media: [{ data: new Uint8Array(1), mimeType: 'video/mp4' }, { data: new Uint8Array(1), mimeType: 'video/mp4' }] }, rule: 'bluesky.media.max_videos' },
    { post: { text: 'x', media: [{ data: new Uint8Array(1), mimeType: 'image/bmp' }] }, rule: 'bluesky.media.mime_type' },
    { post: { text: 'x', media: [{ data: new Uint8Array(1), mimeType: 'video/quicktime' }] }, rule: 'bluesky.media.mime_type' },
    { post: { text: 'x', media: [{ data: new Uint8Array(1), mimeType: 'image/png', altText: 'a'.repeat(2001) }] }, rule: 'bluesky.media.alt_text' },
    { post: { text: 'x', media: [{ stream: [], size: 300_000_001, mimeType: 'video/mp4' } as never] }, rule: 'bluesky.media.max_bytes' },
    { post: { text: 'x', replyTo: 'https://example.com/not-a-post' }, rule: 'bluesky.reply_to.format' },
    { post: { text: 'x', firstComment: 'a'.repeat(301) }, rule: 'bluesky.text.max_length' },
    { post: { text: 'x' }, options: { langs: ['en', 'de', 'fr', 'es'] }, rule: 'bluesky.options.invalid' },
  ],
  // A session refresh always answers a new refresh JWT (the old one is spent), so there is no
  // answer without one to test.
  refresh: {
    tokens,
    grantData: { pdsUrl: PDS, did: DID },
    endpoint: { origin: PDS, path: '/xrpc/com.atproto.server.refreshSession' },
    rotated: { status: 200, body: refreshed },
    expected: { accessToken: refreshed.accessJwt, refreshToken: refreshed.refreshJwt },
  },
  delete: {
    auth: accountAuth,
    postId: created.uri,
    endpoint: {
      origin: PDS,
      path: '/xrpc/com.atproto.repo.deleteRecord',
      success: { status: 200, body: { commit: { cid: 'bafyreidelete', rev: '3ljxq7aaaaa2c' } } },
    },
    // deleteRecord of a record that is gone succeeds (AT Protocol deletes are idempotent).
    notFound: 'idempotent',
  },
  // A pending video publish whose video is processed: finalize writes the record at the key fixed
  // in its state, and a second finalize finds it there (getRecord) instead of writing again.
  resume: {
    auth: accountAuth,
    resume: {
      v: 1,
      did: DID,
      items: [{ record: { $type: 'app.bsky.feed.post', text: 'a video' }, rkey: RESUME_RKEY }],
    },
    setup: (mockAgent) => {
      const pds = mockAgent.get(PDS);
      const getRecord = { method: 'GET', path: (path: string) => path.startsWith('/xrpc/com.atproto.repo.getRecord?') };
      const json = { headers: { 'content-type': 'application/json' } };
      pds.intercept(getRecord).reply(400, { error: 'RecordNotFound', message: 'Could not locate record' }, json);
      pds
        .intercept(getRecord)
        .reply(200, { uri: created.uri, cid: created.cid, value: { $type: 'app.bsky.feed.post', text: 'a video', createdAt: new Date(NOW).toISOString() } }, json)
        .persist();
    },
    finalizeEndpoint: { origin: PDS, path: '/xrpc/com.atproto.repo.createRecord', success: { status: 200, body: created } },
    expected: { postId: created.uri },
  },
});

describe('spec', () => {
  test('declares credentials auth, grapheme counting and the lexicon limits', () => {
    const provider = testProvider();
    expect(provider.auth).toEqual({ kind: 'credentials' });
    expect(provider.capabilities.text).toEqual({ maxLength: 300, unit: 'graphemes', required: false });
    expect(provider.capabilities.media).toMatchObject({ maxImages: 4, maxVideos: 1, maxImageBytes: 2_000_000, maxVideoBytes: 300_000_000, mixedImagesAndVideo: false });
    expect(provider.accountSchema.safeParse({ did: DID, handle: HANDLE, pdsUrl: PDS }).success).toBe(true);
  });

  test('preflight issues name the field inside the thread and accept a well-formed thread', () => {
    const provider = testProvider();
    const validate = (post: Post) => validatePost({ provider, post, options: {} });
    expect(validate({ text: 'ok', thread: [{ text: 'fine' }, { text: 'a'.repeat(301) }] })).toEqual([
      { rule: 'bluesky.text.max_length', field: 'thread.1.text', message: 'Text is 301 graphemes; bluesky allows 300.' },
    ]);
    // 300 emoji graphemes are fine even though they are 600 UTF-16 units.
    expect(validate({ text: '🦋'.repeat(300) })).toEqual([]);
    // A link appended to the text (because media takes the embed) counts towards the limit; only
    // Bluesky's own validate knows that, under the same canonical rule id.
    const linked: Post = { text: 'a'.repeat(290), link: 'https://example.com/x', media: [{ data: new Uint8Array(1), mimeType: 'image/png' }] };
    expect(validate(linked).map((issue) => issue.rule)).toEqual(['bluesky.text.max_length']);
    expect(provider.validate({ post: linked, options: {} }).map((issue) => issue.rule)).toEqual(['bluesky.text.max_length']);
  });

  test('rejects malformed URL settings at construction', () => {
    expect(() => createBluesky({ serviceUrl: 'ftp://example.com' })).toThrow(/serviceUrl/);
  });
});
