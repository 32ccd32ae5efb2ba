import { LetmepostError, type Post, type ProviderPublishResult } from '@letmepost/core';
import { validatePost } from '@letmepost/provider-utils';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createLexiconValidator } from './test-support/lexicon-validator.js';
import {
  APPVIEW,
  CANARY_APP_PASSWORD,
  DID,
  HANDLE,
  NOW,
  PDS,
  PLC,
  VIDEO,
  accountAuth,
  credentials,
  exposedText,
  fixture,
  refreshed,
  session,
  testProvider,
  tokens,
} from './test-support/bluesky-test-setup.js';

const CREATED_AT = '2026-03-01T12:00:00.000Z';
const COLLECTION = 'app.bsky.feed.post';
const BOB = 'did:plc:bobbobbobbobbobbobbobbob';

/** Every record the provider sent to createRecord, for the lexicon contract test at the end. */
const sentRecords: unknown[] = [];

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected request was made').toEqual([]);
});

const ref = (n: number) => ({
  uri: `at://${DID}/${COLLECTION}/3ljxq6mckzs${n}c`,
  cid: `bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq5${n}q`,
});

/**
 * Expects one createRecord per entry, in order, each answered with `ref(n)` (or `reply`), and
 * returns the request bodies as sent.
 */
function expectCreateRecords(options: { count: number; accessJwt?: string; replies?: Array<[number, unknown]> }) {
  const bodies: Array<{ repo: string; collection: string; record: Record<string, unknown> }> = [];
  for (let index = 0; index < options.count; index += 1) {
    const [status, body] = options.replies?.[index] ?? [200, { ...ref(index), commit: { cid: 'bafyreihcommit', rev: '3ljxq6mcl4k2c' }, validationStatus: 'valid' }];
    nock(PDS)
      .post('/xrpc/com.atproto.repo.createRecord', (body: { repo: string; collection: string; record: Record<string, unknown> }) => {
        // nock may offer this check other requests to the same host (a getRecord has no body).
        if (typeof body !== 'object' || body === null || body.record === undefined) return false;
        bodies.push(body);
        sentRecords.push(body.record);
        return true;
      })
      .matchHeader('authorization', `Bearer ${options.accessJwt ?? session.accessJwt}`)
      .matchHeader('content-type', 'application/json')
      .reply(status, body as Record<string, unknown>);
  }
  return bodies;
}

const webUrl = (n: number) => `https://bsky.app/profile/${HANDLE}/post/3ljxq6mckzs${n}c`;

async function publish(post: Post, options: Record<string, unknown> = {}, provider = testProvider()): Promise<ProviderPublishResult> {
  return provider.publish({ post, auth: accountAuth, options });
}

describe('text posts', () => {
  test('sends facets with UTF-8 byte offsets, resolving mentions through the PDS', async () => {
    nock(PDS).get('/xrpc/com.atproto.identity.resolveHandle').query({ handle: 'bob.example.net' }).reply(200, { did: BOB });
    nock(PDS)
      .get('/xrpc/com.atproto.identity.resolveHandle')
      .query({ handle: 'ghost.example.net' })
      .reply(400, { error: 'InvalidRequest', message: 'Unable to resolve handle' });
    const bodies = expectCreateRecords({ count: 1 });

    const result = await publish(
      { text: '🦋 日本語 hi @bob.example.net and @ghost.example.net, see https://example.com/a?b=1. #atproto!' },
      { langs: ['en', 'ja'] },
    );

    expect(bodies).toEqual([
      {
        repo: DID,
        collection: COLLECTION,
        record: {
          $type: COLLECTION,
          text: '🦋 日本語 hi @bob.example.net and @ghost.example.net, see https://example.com/a?b=1. #atproto!',
          createdAt: CREATED_AT,
          facets: [
            { index: { byteStart: 18, byteEnd: 34 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: BOB }] },
            { index: { byteStart: 63, byteEnd: 88 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/a?b=1' }] },
            { index: { byteStart: 90, byteEnd: 98 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'atproto' }] },
          ],
          langs: ['en', 'ja'],
        },
      },
    ]);
    expect(result).toEqual({
      status: 'published',
      postId: ref(0).uri,
      url: webUrl(0),
      items: [{ index: 0, status: 'published', postId: ref(0).uri, url: webUrl(0) }],
      warnings: [
        { code: 'bluesky.mention.unresolved', message: '@ghost.example.net does not resolve to a Bluesky account; it was posted as plain text.' },
      ],
    });
  });

  test('self-labels become a selfLabels union', async () => {
    const bodies = expectCreateRecords({ count: 1 });
    await publish({ text: 'graphic' }, { selfLabels: ['graphic-media'] });
    expect(bodies[0]?.record.labels).toEqual({ $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'graphic-media' }] });
  });

  test('an expired access token (HTTP 400 ExpiredToken) is auth_expired so core refreshes', async () => {
    expectCreateRecords({ count: 1, replies: [[400, fixture('error-expired-token.json')]] });
    const error = await publish({ text: 'hello' }).catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'auth_expired', status: 400, platform: 'bluesky' });
    expect(exposedText(error)).not.toContain(session.accessJwt);
  });

  test('a token already past its exp is auth_expired before anything is sent', async () => {
    const provider = testProvider();
    const error = await provider
      .publish({ post: { text: 'hello' }, auth: { ...accountAuth, tokens: { ...tokens, expiresAt: NOW - 1 } } as never, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'auth_expired' });
  });

  test('invalid posts are validation_failed naming the field, before any request', async () => {
    const error = await publish({ text: 'ok', thread: [{ text: 'x'.repeat(301) }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'preflight_failed', rule: 'bluesky.text.max_length', field: 'thread.0.text' });
  });
});

describe('link cards', () => {
  test('embeds app.bsky.embed.external with the given title, description and uploaded thumbnail', async () => {
    nock('https://cdn.example.com').get('/og.png').reply(200, 'png-bytes', { 'content-type': 'image/png', 'content-length': '9' });
    nock(PDS)
      .post('/xrpc/com.atproto.repo.uploadBlob', 'png-bytes')
      .matchHeader('content-type', 'image/png')
      .matchHeader('authorization', `Bearer ${session.accessJwt}`)
      .reply(200, { blob: { $type: 'blob', ref: { $link: 'bafkreithumbthumbthumb' }, mimeType: 'image/png', size: 9 } });
    const bodies = expectCreateRecords({ count: 1 });

    const result = await publish(
      { text: 'Worth reading', link: 'https://example.com/article' },
      { linkCard: { title: 'An article', description: 'What it is about', thumbUrl: 'https://cdn.example.com/og.png' } },
    );

    expect(result.status).toBe('published');
    expect(bodies[0]?.record).toEqual({
      $type: COLLECTION,
      text: 'Worth reading',
      createdAt: CREATED_AT,
      embed: {
        $type: 'app.bsky.embed.external',
        external: {
          uri: 'https://example.com/article',
          title: 'An article',
          description: 'What it is about',
          thumb: { $type: 'blob', ref: { $link: 'bafkreithumbthumbthumb' }, mimeType: 'image/png', size: 9 },
        },
      },
    });
  });

  test('a thumbnail that cannot be fetched leaves a card without image and a warning', async () => {
    nock('https://cdn.example.com').get('/gone.png').reply(404, 'nope');
    const bodies = expectCreateRecords({ count: 1 });
    const result = await publish({ text: '', link: 'https://example.com/a' }, { linkCard: { thumbUrl: 'https://cdn.example.com/gone.png' } });
    expect(bodies[0]?.record.embed).toEqual({
      $type: 'app.bsky.embed.external',
      external: { uri: 'https://example.com/a', title: '', description: '' },
    });
    expect(result.warnings.map((warning) => warning.code)).toEqual(['bluesky.link_card.thumb_skipped']);
  });
});

describe('images', () => {
  test('uploads four images as blobs and embeds them with alt text and aspect ratios', async () => {
    nock(PDS).get('/xrpc/com.atproto.server.describeServer').reply(200, fixture('describe-server.json'));
    const media = [1, 2, 3, 4].map((n) => ({
      data: Buffer.from(`fake-image-${n}`),
      mimeType: n === 2 ? 'image/png' : 'image/jpeg',
      altText: n === 4 ? undefined : `Picture ${n}`,
      width: 1000 * n,
      height: 750,
    }));
    for (const [index, item] of media.entries()) {
      nock(PDS)
        .post('/xrpc/com.atproto.repo.uploadBlob', `fake-image-${index + 1}`)
        .matchHeader('content-type', item.mimeType)
        .matchHeader('content-length', String(item.data.byteLength))
        .matchHeader('authorization', `Bearer ${session.accessJwt}`)
        .reply(200, { blob: { $type: 'blob', ref: { $link: `bafkreiimage${index + 1}` }, mimeType: item.mimeType, size: item.data.byteLength } });
    }
    const bodies = expectCreateRecords({ count: 1 });
    const progress: string[] = [];

    const result = await testProvider().publish({
      post: { text: 'four pictures', media },
      auth: accountAuth,
      options: {},
      onProgress: (event) => progress.push(`${event.itemIndex}.${event.mediaIndex}:${event.bytesSent}/${event.totalBytes}`),
    });

    expect(result.status).toBe('published');
    expect(bodies[0]?.record.embed).toEqual({
      $type: 'app.bsky.embed.images',
      images: media.map((item, index) => ({
        image: { $type: 'blob', ref: { $link: `bafkreiimage${index + 1}` }, mimeType: item.mimeType, size: item.data.byteLength },
        // The lexicon requires alt; missing alt text is sent as "".
        alt: item.altText ?? '',
        aspectRatio: { width: item.width, height: 750 },
      })),
    });
    expect(progress).toEqual(['0.0:12/12', '0.1:12/12', '0.2:12/12', '0.3:12/12']);
  });

  test('an image over the limit the PDS advertises is media_invalid before any upload', async () => {
    nock(PDS).get('/xrpc/com.atproto.server.describeServer').reply(200, { ...fixture('describe-server.json'), blobUploadLimit: 1_000_000 });
    const upload = nock(PDS).post('/xrpc/com.atproto.repo.uploadBlob').reply(200, fixture('upload-blob.json'));
    const create = nock(PDS).post('/xrpc/com.atproto.repo.createRecord').reply(200, fixture('create-record.json'));

    const error = await publish({
      text: 'too big for this PDS',
      media: [{ data: new Uint8Array(1_500_000), mimeType: 'image/jpeg', altText: 'big' }],
    }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'media_invalid', rule: 'bluesky.media.max_blob_bytes', field: 'media.0' });
    expect(upload.isDone(), 'no upload was attempted').toBe(false);
    expect(create.isDone()).toBe(false);
    nock.cleanAll();
  });

  test('images over the 2 MB lexicon limit are refused by the preflight', () => {
    const issues = validatePost({
      provider: testProvider(),
      post: { text: 'x', media: [{ data: new Uint8Array(2_000_001), mimeType: 'image/png' }] },
      options: {},
    });
    expect(issues).toEqual([expect.objectContaining({ rule: 'bluesky.media.max_bytes', field: 'media.0' })]);
  });

  test('with a link next to images the link goes into the text as a link facet', async () => {
    nock(PDS).get('/xrpc/com.atproto.server.describeServer').reply(200, fixture('describe-server.json'));
    nock(PDS).post('/xrpc/com.atproto.repo.uploadBlob').reply(200, fixture('upload-blob.json'));
    const bodies = expectCreateRecords({ count: 1 });
    const result = await publish({
      text: 'photo',
      link: 'https://example.com/x',
      media: [{ data: Buffer.from('jpeg'), mimeType: 'image/jpeg', altText: 'a photo' }],
    });
    expect(bodies[0]?.record.text).toBe('photo\n\nhttps://example.com/x');
    expect(bodies[0]?.record.facets).toEqual([
      { index: { byteStart: 7, byteEnd: 28 }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com/x' }] },
    ]);
    expect(result.warnings.map((warning) => warning.code)).toEqual(['bluesky.link.inlined']);
  });
});

describe('video', () => {
  const videoPost: Post = {
    text: 'a video',
    media: [{ data: Buffer.from('fake-mp4-bytes'), mimeType: 'video/mp4', altText: 'A cat', width: 1920, height: 1080, fileName: 'cat.mp4' }],
  };

  function expectVideoUpload() {
    nock(PDS)
      .get('/xrpc/com.atproto.server.getServiceAuth')
      .query({ aud: 'did:web:video.bsky.app', lxm: 'app.bsky.video.getUploadLimits' })
      .matchHeader('authorization', `Bearer ${session.accessJwt}`)
      .reply(200, { token: 'svc-limits-token' });
    nock(VIDEO)
      .get('/xrpc/app.bsky.video.getUploadLimits')
      .matchHeader('authorization', 'Bearer svc-limits-token')
      .reply(200, fixture('upload-limits.json'));
    nock(PDS)
      .get('/xrpc/com.atproto.server.getServiceAuth')
      // The upload token is for the PDS (the service writes the blob there), valid 30 minutes.
      .query({ aud: 'did:web:morel.us-east.host.bsky.network', lxm: 'com.atproto.repo.uploadBlob', exp: String(NOW / 1000 + 1800) })
      .matchHeader('authorization', `Bearer ${session.accessJwt}`)
      .reply(200, { token: 'svc-upload-token' });
    nock(VIDEO)
      .post('/xrpc/app.bsky.video.uploadVideo', 'fake-mp4-bytes')
      .query({ did: DID, name: 'cat.mp4' })
      .matchHeader('authorization', 'Bearer svc-upload-token')
      .matchHeader('content-type', 'video/mp4')
      .matchHeader('content-length', '14')
      .reply(200, fixture('upload-video.json'));
  }

  const videoEmbed = {
    $type: 'app.bsky.embed.video',
    video: fixture<{ jobStatus: { blob: unknown } }>('job-status-completed.json').jobStatus.blob,
    alt: 'A cat',
    aspectRatio: { width: 1920, height: 1080 },
  };

  test('goes through the video service, answers pending while it processes; checkStatus reads, finalize posts', async () => {
    const provider = testProvider();
    expectVideoUpload();

    const pending = await provider.publish({ post: videoPost, auth: accountAuth, options: {} });
    expect(pending).toEqual({
      status: 'pending',
      resume: expect.objectContaining({ v: 1, did: accountAuth.account.data?.did, items: [expect.objectContaining({ videoJobId: 'Zx3vQm9jb2JqNlhrTjRq' })] }),
      checkAfterMs: 1,
      warnings: [],
    });

    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query({ jobId: 'Zx3vQm9jb2JqNlhrTjRq' }).reply(200, fixture('job-status-encoding.json'));
    const still = await provider.checkStatus!({ auth: accountAuth, resume: pending.resume! });
    expect(still).toMatchObject({ status: 'pending', checkAfterMs: 1 });

    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query({ jobId: 'Zx3vQm9jb2JqNlhrTjRq' }).reply(200, fixture('job-status-completed.json'));
    const ready = await provider.checkStatus!({ auth: accountAuth, resume: pending.resume! });
    // Read-only: the blob is now in the state, and nothing was written.
    expect(ready).toEqual({
      status: 'ready',
      resume: expect.objectContaining({ items: [{ record: expect.objectContaining({ embed: videoEmbed }), rkey: expect.stringMatching(/^[234567a-z]{13}$/) }] }),
    });
    expect(nock.pendingMocks()).toEqual([]);

    const bodies = expectCreateRecords({ count: 1 });
    if (ready.status !== 'ready' || ready.resume === undefined) throw new Error('expected ready with resume state');
    // finalize first looks for the record at the key fixed when the publish went pending.
    nock(PDS).get('/xrpc/com.atproto.repo.getRecord').query(true).reply(400, { error: 'RecordNotFound', message: 'Could not locate record' });
    const done = await provider.finalize!({ auth: accountAuth, resume: ready.resume });

    expect(done).toMatchObject({ status: 'published', postId: ref(0).uri, url: webUrl(0) });
    expect(bodies[0]?.record).toEqual({ $type: COLLECTION, text: 'a video', createdAt: CREATED_AT, embed: videoEmbed });
  });

  test('finalize is idempotent: the record keys fixed when it went pending let a repeat find the post instead of writing it again', async () => {
    const provider = testProvider();
    expectVideoUpload();
    const pending = await provider.publish({ post: { ...videoPost, firstComment: 'first!' }, auth: accountAuth, options: {} });
    const state = pending.resume as { items: Array<{ rkey: string }>; firstCommentRkey: string };
    const [rootKey, commentKey] = [state.items[0]!.rkey, state.firstCommentRkey];
    expect(rootKey).toMatch(/^[234567a-z]{13}$/);
    expect(commentKey).toMatch(/^[234567a-z]{13}$/);
    expect(commentKey).not.toBe(rootKey);

    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query(true).reply(200, fixture('job-status-completed.json'));
    const ready = await provider.checkStatus!({ auth: accountAuth, resume: pending.resume! });
    if (ready.status !== 'ready' || ready.resume === undefined) throw new Error('expected ready with resume state');

    const recordAt = (rkey: string) => ({ uri: `at://${DID}/${COLLECTION}/${rkey}`, cid: `bafyreig${rkey}` });
    const lookUp = (rkey: string) => nock(PDS).get('/xrpc/com.atproto.repo.getRecord').query({ repo: DID, collection: COLLECTION, rkey });
    lookUp(rootKey).reply(400, { error: 'RecordNotFound', message: 'Could not locate record' });
    lookUp(commentKey).reply(400, { error: 'RecordNotFound', message: 'Could not locate record' });
    const written: Array<{ rkey?: string }> = [];
    for (const rkey of [rootKey, commentKey]) {
      nock(PDS)
        .post('/xrpc/com.atproto.repo.createRecord', (body: { rkey?: string } | undefined) => {
          if (body?.rkey !== rkey) return false;
          written.push(body);
          return true;
        })
        .reply(200, { ...recordAt(rkey), commit: { cid: 'bafyreihcommit', rev: '3ljxq6mcl4k2c' } });
    }
    const first = await provider.finalize!({ auth: accountAuth, resume: ready.resume });
    expect(first).toMatchObject({ status: 'published', postId: recordAt(rootKey).uri });
    expect(written.map((body) => body.rkey)).toEqual([rootKey, commentKey]);

    // Called again with the same state (a resume that crashed after writing): only reads.
    lookUp(rootKey).reply(200, { ...recordAt(rootKey), value: { $type: COLLECTION, text: 'a video', createdAt: CREATED_AT } });
    lookUp(commentKey).reply(200, { ...recordAt(commentKey), value: { $type: COLLECTION, text: 'first!', createdAt: CREATED_AT } });
    const second = await provider.finalize!({ auth: accountAuth, resume: ready.resume });
    expect(second).toEqual(first);
    expect(written).toHaveLength(2);
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('finalize looks at a running job once and answers pending instead of posting', async () => {
    const provider = testProvider();
    expectVideoUpload();
    const pending = await provider.publish({ post: videoPost, auth: accountAuth, options: {} });
    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query(true).reply(200, fixture('job-status-encoding.json'));
    const again = await provider.finalize!({ auth: accountAuth, resume: pending.resume! });
    expect(again).toMatchObject({ status: 'pending', resume: pending.resume });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('publishes at once when the job finishes within the wait budget', async () => {
    const provider = testProvider({ videoProcessing: { pollIntervalMs: 1, maxWaitMs: 3, sleep: async () => {} } });
    expectVideoUpload();
    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query(true).reply(200, fixture('job-status-encoding.json'));
    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query(true).reply(200, fixture('job-status-completed.json'));
    const bodies = expectCreateRecords({ count: 1 });
    const result = await provider.publish({ post: videoPost, auth: accountAuth, options: {} });
    expect(result.status).toBe('published');
    expect(bodies[0]?.record.embed).toEqual(videoEmbed);
  });

  test('a failed processing job is media_invalid and nothing is posted', async () => {
    const provider = testProvider({ videoProcessing: { pollIntervalMs: 1, maxWaitMs: 1, sleep: async () => {} } });
    expectVideoUpload();
    nock(VIDEO).get('/xrpc/app.bsky.video.getJobStatus').query(true).reply(200, fixture('job-status-failed.json'));
    const error = await provider.publish({ post: videoPost, auth: accountAuth, options: {} }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'bluesky.media.video_processing', field: 'media.0' });
  });

  test('an exhausted daily quota is quota_exceeded before the upload', async () => {
    nock(PDS).get('/xrpc/com.atproto.server.getServiceAuth').query(true).reply(200, { token: 'svc-limits-token' });
    nock(VIDEO)
      .get('/xrpc/app.bsky.video.getUploadLimits')
      .reply(200, { canUpload: false, remainingDailyVideos: 0, remainingDailyBytes: 0, message: 'You have reached your daily limit' });
    const error = await publish(videoPost).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'quota_exceeded', field: 'media.0' });
  });

  test('resume state of another account, or not from this provider, is refused', async () => {
    const provider = testProvider();
    expectVideoUpload();
    const pending = await provider.publish({ post: videoPost, auth: accountAuth, options: {} });
    const otherAccount = { ...accountAuth, account: { ...accountAuth.account, data: { did: BOB, handle: 'bob.example.net', pdsUrl: PDS } } };
    for (const method of ['checkStatus', 'finalize'] as const) {
      await expect(provider[method]!({ auth: otherAccount as never, resume: pending.resume! })).rejects.toMatchObject({
        code: 'validation_failed',
        field: 'resume',
      });
      await expect(provider[method]!({ auth: accountAuth, resume: 'garbage' })).rejects.toMatchObject({ code: 'validation_failed', field: 'resume' });
    }
  });
});

describe('threads and replies', () => {
  test('chains a three-item thread: every reply has the first post as root and the previous as parent', async () => {
    nock(PDS).get('/xrpc/com.atproto.identity.resolveHandle').query(true).reply(200, { did: BOB }).persist(false);
    const bodies = expectCreateRecords({ count: 3 });
    const result = await publish({ text: '日本 #thread 1/3', thread: [{ text: 'two @bob.example.net' }, { text: 'three' }] });

    expect(bodies.map((body) => body.record)).toEqual([
      {
        $type: COLLECTION,
        text: '日本 #thread 1/3',
        createdAt: CREATED_AT,
        facets: [{ index: { byteStart: 7, byteEnd: 14 }, features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'thread' }] }],
      },
      {
        $type: COLLECTION,
        text: 'two @bob.example.net',
        createdAt: CREATED_AT,
        facets: [{ index: { byteStart: 4, byteEnd: 20 }, features: [{ $type: 'app.bsky.richtext.facet#mention', did: BOB }] }],
        reply: { root: ref(0), parent: ref(0) },
      },
      { $type: COLLECTION, text: 'three', createdAt: CREATED_AT, reply: { root: ref(0), parent: ref(1) } },
    ]);
    expect(result).toEqual({
      status: 'published',
      postId: ref(0).uri,
      url: webUrl(0),
      items: [0, 1, 2].map((index) => ({ index, status: 'published', postId: ref(index).uri, url: webUrl(index) })),
      warnings: [],
    });
  });

  test('a thread item that may or may not have posted stops the thread with status unknown', async () => {
    const bodies = expectCreateRecords({ count: 2, replies: [[200, ref(0)], [502, { error: 'UpstreamFailure', message: 'bad gateway' }]] });
    const result = await publish({ text: 'one', thread: [{ text: 'two' }, { text: 'three' }] });
    expect(bodies).toHaveLength(2);
    expect(result.status).toBe('unknown');
    expect(result.postId).toBe(ref(0).uri);
    expect(result.error).toMatchObject({ code: 'publish_outcome_unknown' });
    expect(result.items?.map((item) => [item.index, item.status, item.error?.code])).toEqual([
      [0, 'published', undefined],
      [1, 'unknown', 'publish_outcome_unknown'],
      [2, 'failed', 'publish_outcome_unknown'],
    ]);
  });

  test('replies to one of our own posts read from the PDS, keeping the thread root', async () => {
    nock(PDS)
      .get('/xrpc/com.atproto.repo.getRecord')
      .query({ repo: DID, collection: COLLECTION, rkey: '3ljwzzparent2' })
      .reply(200, fixture('get-record-reply.json'));
    const bodies = expectCreateRecords({ count: 2 });
    await publish({ text: 'a reply', thread: [{ text: 'and more' }], replyTo: `at://${DID}/${COLLECTION}/3ljwzzparent2` });
    const stored = fixture<{ uri: string; cid: string; value: { reply: { root: unknown } } }>('get-record-reply.json');
    expect(bodies.map((body) => body.record.reply)).toEqual([
      { root: stored.value.reply.root, parent: { uri: stored.uri, cid: stored.cid } },
      { root: stored.value.reply.root, parent: ref(0) },
    ]);
  });

  test("replies to someone else's post given as a bsky.app URL, through the AppView", async () => {
    nock(PDS).get('/xrpc/com.atproto.identity.resolveHandle').query({ handle: 'bob.bsky.social' }).reply(200, { did: BOB });
    nock(APPVIEW)
      .get('/xrpc/app.bsky.feed.getPosts')
      .query({ uris: `at://${BOB}/${COLLECTION}/3ljvbobpost22` })
      .reply(200, fixture('get-posts.json'));
    const bodies = expectCreateRecords({ count: 1 });
    await publish({ text: 'nice', replyTo: 'https://bsky.app/profile/bob.bsky.social/post/3ljvbobpost22' });
    const bobPost = { uri: `at://${BOB}/${COLLECTION}/3ljvbobpost22`, cid: 'bafyreibobpostbobpostbobpostbobpostbobpostbobpostbobpostaa' };
    expect(bodies[0]?.record.reply).toEqual({ root: bobPost, parent: bobPost });
  });

  test('a missing post to reply to is not_found on replyTo, and nothing is posted', async () => {
    nock(PDS)
      .get('/xrpc/com.atproto.repo.getRecord')
      .query(true)
      .reply(400, { error: 'RecordNotFound', message: `Could not locate record: at://${DID}/${COLLECTION}/3ljwzzgone222` });
    await expect(publish({ text: 'reply', replyTo: `at://${DID}/${COLLECTION}/3ljwzzgone222` })).rejects.toMatchObject({
      code: 'not_found',
      field: 'replyTo',
    });
  });

  test('the first comment replies to the new post', async () => {
    const bodies = expectCreateRecords({ count: 2 });
    const result = await publish({ text: 'main', firstComment: 'details below' });
    expect(bodies[1]?.record).toEqual({ $type: COLLECTION, text: 'details below', createdAt: CREATED_AT, reply: { root: ref(0), parent: ref(0) } });
    expect(result.items).toHaveLength(1);
  });
});

describe('deletePost', () => {
  test('deletes the record named by the AT URI', async () => {
    nock(PDS)
      .post('/xrpc/com.atproto.repo.deleteRecord', { repo: DID, collection: COLLECTION, rkey: '3ljxq6mckzs2c' })
      .matchHeader('authorization', `Bearer ${session.accessJwt}`)
      .reply(200, { commit: { cid: 'bafyreidelete', rev: '3ljxq7aaaaa2c' } });
    await testProvider().deletePost!({ auth: accountAuth, postId: `at://${DID}/${COLLECTION}/3ljxq6mckzs2c` });
  });

  test("refuses another account's post and malformed ids without a request", async () => {
    const provider = testProvider();
    await expect(provider.deletePost!({ auth: accountAuth, postId: `at://${BOB}/${COLLECTION}/3ljxq6mckzs2c` })).rejects.toMatchObject({
      code: 'permission_denied',
    });
    await expect(provider.deletePost!({ auth: accountAuth, postId: '12345' })).rejects.toMatchObject({ code: 'validation_failed', field: 'postId' });
  });
});

describe('pass-per-request credentials', () => {
  const didDocument = fixture('plc-did-document.json');
  const resolveTxt = async () => [[`did=${DID}`]];

  function expectLogin(times = 1) {
    nock(PLC).get(`/${DID}`).times(times).reply(200, didDocument);
    nock(PDS)
      .post('/xrpc/com.atproto.server.createSession', { identifier: HANDLE, password: CANARY_APP_PASSWORD })
      .times(times)
      .reply(200, fixture('create-session.json'));
  }

  test('two publishes reuse one session: one createSession, not one per post', async () => {
    const provider = testProvider({ resolveTxt });
    expectLogin(1);
    expectCreateRecords({ count: 2 });
    for (const text of ['first', 'second']) {
      const result = await provider.publish({ post: { text }, auth: { type: 'credentials', credentials }, options: {} });
      expect(result.status).toBe('published');
      expect(exposedText(result)).not.toContain(CANARY_APP_PASSWORD);
      expect(exposedText(result)).not.toContain(session.accessJwt);
    }
  });

  test('a rate-limited login is rate_limited with the reset time, and nothing is posted', async () => {
    const provider = testProvider({ resolveTxt });
    nock(PLC).get(`/${DID}`).reply(200, didDocument);
    nock(PDS)
      .post('/xrpc/com.atproto.server.createSession')
      .reply(429, fixture('error-rate-limit.json'), { 'ratelimit-remaining': '0', 'ratelimit-reset': String(NOW / 1000 + 300) });
    const error = await provider
      .publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials }, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 300_000 });
    expect(exposedText(error)).not.toContain(CANARY_APP_PASSWORD);
  });

  test('concurrent publishes share a single login', async () => {
    const provider = testProvider({ resolveTxt });
    expectLogin(1);
    expectCreateRecords({ count: 2 });
    const results = await Promise.all(
      ['a', 'b'].map((text) => provider.publish({ post: { text }, auth: { type: 'credentials', credentials }, options: {} })),
    );
    expect(results.map((result) => result.status)).toEqual(['published', 'published']);
  });

  test('with sessionCache: false every publish logs in', async () => {
    const provider = testProvider({ resolveTxt, sessionCache: false });
    expectLogin(2);
    expectCreateRecords({ count: 2 });
    for (const text of ['first', 'second']) await provider.publish({ post: { text }, auth: { type: 'credentials', credentials }, options: {} });
  });

  test('an access token that expires mid-publish is refreshed and the call repeated once', async () => {
    const provider = testProvider({ resolveTxt });
    expectLogin(1);
    expectCreateRecords({ count: 1, replies: [[400, fixture('error-expired-token.json')]] });
    nock(PDS)
      .post('/xrpc/com.atproto.server.refreshSession')
      .matchHeader('authorization', `Bearer ${session.refreshJwt}`)
      .reply(200, fixture('refresh-session.json'));
    const bodies = expectCreateRecords({ count: 1, accessJwt: refreshed.accessJwt });
    const result = await provider.publish({ post: { text: 'hello' }, auth: { type: 'credentials', credentials }, options: {} });
    expect(result.status).toBe('published');
    expect(bodies).toHaveLength(1);
  });

  test('malformed credentials are validation_failed without a request and without echoing the password', async () => {
    const error = await testProvider()
      .publish({ post: { text: 'x' }, auth: { type: 'credentials', credentials: { identifier: HANDLE, appPassword: 'my-Real-Password!' } } as never, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', field: 'credentials.appPassword' });
    expect(exposedText(error)).not.toContain('my-Real-Password!');
  });
});

afterAll(() => {
  // Contract: every record sent above is valid under the official app.bsky.feed.post lexicon
  // (and the facet, embed and strongRef lexicons it references).
  const validator = createLexiconValidator();
  expect(sentRecords.length).toBeGreaterThanOrEqual(20);
  for (const record of sentRecords) {
    expect(validator.validateRecord({ nsid: COLLECTION, record }), JSON.stringify(record)).toEqual([]);
  }
});
