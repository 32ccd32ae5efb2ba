import type { PublishAuth } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import containerError from './__fixtures__/container-error.json' with { type: 'json' };
import containerExpired from './__fixtures__/container-expired.json' with { type: 'json' };
import containerFinished from './__fixtures__/container-finished.json' with { type: 'json' };
import containerInProgress from './__fixtures__/container-in-progress.json' with { type: 'json' };
import containerPublished from './__fixtures__/container-published.json' with { type: 'json' };
import deleted from './__fixtures__/deleted.json' with { type: 'json' };
import permalink from './__fixtures__/permalink.json' with { type: 'json' };
import publishingLimitExhausted from './__fixtures__/publishing-limit-exhausted.json' with { type: 'json' };
import publishingLimit from './__fixtures__/publishing-limit.json' with { type: 'json' };
import { interceptThreads, type ThreadsReply, type WireCall } from './test-support/threads-wire.js';
import type { ThreadsCredentials } from './threads-credentials.js';
import { createThreads } from './threads-provider.js';

const USER_ID = '17841400000000001';
const ACCESS_TOKEN = 'THQVJwireTokenc4n4ry-77aa';
const auth: PublishAuth<ThreadsCredentials> = { type: 'account', account: { platformAccountId: USER_ID, username: 'letmepost' }, tokens: { accessToken: ACCESS_TOKEN } };
const noWait = async () => {};

function threads(options: { maxWaitMs?: number } = {}) {
  return createThreads({ containerWait: { intervalMs: 10, maxWaitMs: options.maxWaitMs ?? 30, sleep: noWait } });
}

/** A stateful Threads: containers get ids in order, each publish returns the next media id. */
function threadsServer(options: { calls: WireCall[]; statuses?: Record<string, ThreadsReply['body'][]>; limit?: unknown }) {
  let nextContainer = 100;
  let nextMedia = 500;
  const statusCalls = new Map<string, number>();
  const answer = (handle: (fields: { path: string; query: URLSearchParams; form: Record<string, string> }) => unknown) => async (request: Request) => {
    const url = new URL(request.url);
    const form = Object.fromEntries(new URLSearchParams(await request.text()));
    options.calls.push({ method: request.method, path: url.pathname + url.search, headers: Object.fromEntries(request.headers.entries()), form });
    return [200, JSON.stringify(handle({ path: url.pathname, query: url.searchParams, form })), { 'content-type': 'application/json' }] as [number, string, Record<string, string>];
  };
  const pathOf = (path: string) => path.split('?')[0]!;
  return nock('https://graph.threads.net')
    .persist()
    .get((path) => pathOf(path) === `/v1.0/${USER_ID}/threads_publishing_limit`)
    .reply(answer(() => options.limit ?? publishingLimit))
    .post((path) => pathOf(path) === `/v1.0/${USER_ID}/threads`, () => true)
    .reply(
      answer(() => {
        nextContainer += 1;
        return { id: `${nextContainer}` };
      }),
    )
    .post((path) => pathOf(path) === `/v1.0/${USER_ID}/threads_publish`, () => true)
    .reply(
      answer(() => {
        nextMedia += 1;
        return { id: `${nextMedia}` };
      }),
    )
    .get((path) => /^\/v1\.0\/\d+$/.test(pathOf(path)))
    .reply(
      answer(({ path, query }) => {
        const id = path.split('/').pop()!;
        if (query.get('fields') === 'id,permalink') return { id, permalink: `https://www.threads.com/@letmepost/post/${id}` };
        const sequence = options.statuses?.[id] ?? [containerFinished];
        const seen = statusCalls.get(id) ?? 0;
        statusCalls.set(id, seen + 1);
        return { ...(sequence[Math.min(seen, sequence.length - 1)] as object), id };
      }),
    );
}

const pathname = (call: WireCall) => call.path.split('?')[0]!;
const creates = (calls: WireCall[]) => calls.filter((call) => call.method === 'POST' && pathname(call).endsWith('/threads')).map((call) => call.form);
const publishes = (calls: WireCall[]) => calls.filter((call) => pathname(call).endsWith('/threads_publish')).map((call) => call.form.creation_id);

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

describe('publishing shapes at the wire', () => {
  it('text: a TEXT container with the bearer token, waited for, then threads_publish and the permalink', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'GET', path: `/v1.0/${USER_ID}/threads_publishing_limit`, reply: { status: 200, body: publishingLimit } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads`, reply: { status: 200, body: { id: '101' } } });
    interceptThreads({ calls, method: 'GET', path: '/v1.0/101', reply: { status: 200, body: containerFinished } });
    interceptThreads({ calls, method: 'POST', path: `/v1.0/${USER_ID}/threads_publish`, reply: { status: 200, body: { id: permalink.id } } });
    interceptThreads({ calls, method: 'GET', path: `/v1.0/${permalink.id}`, reply: { status: 200, body: permalink } });
    const result = await threads().publish({ post: { text: 'Hello Threads' }, auth, options: { replyControl: 'accounts_you_follow', topicTag: 'letmepost' } });
    expect(result).toMatchObject({ status: 'published', postId: permalink.id, url: permalink.permalink });
    expect(calls.map((call) => `${call.method} ${call.path.split('?')[0]}`)).toEqual([
      `GET /v1.0/${USER_ID}/threads_publishing_limit`,
      `POST /v1.0/${USER_ID}/threads`,
      'GET /v1.0/101',
      `POST /v1.0/${USER_ID}/threads_publish`,
      `GET /v1.0/${permalink.id}`,
    ]);
    expect(new URL(calls[0]!.path, 'https://x').searchParams.get('fields')).toBe('quota_usage,config,reply_quota_usage,reply_config');
    expect(calls[1]!.form).toEqual({ media_type: 'TEXT', text: 'Hello Threads', reply_control: 'accounts_you_follow', topic_tag: 'letmepost' });
    expect(new URL(calls[2]!.path, 'https://x').searchParams.get('fields')).toBe('status,error_message');
    expect(calls[3]!.form).toEqual({ creation_id: '101' });
    // The token travels as Threads documents it, `access_token`, and no app secret proof.
    for (const call of calls) {
      const query = new URL(call.path, 'https://x').searchParams;
      expect(query.get('access_token')).toBe(ACCESS_TOKEN);
      expect(query.has('appsecret_proof')).toBe(false);
    }
  });

  it('link: a text post carries the link as link_attachment (the preview card)', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls });
    await threads().publish({ post: { text: 'Read this', link: 'https://letmepost.dev/a' }, auth, options: {} });
    expect(creates(calls)).toEqual([{ media_type: 'TEXT', text: 'Read this', link_attachment: 'https://letmepost.dev/a' }]);
  });

  it('image: an IMAGE container with image_url and alt_text; the link goes into the text', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls });
    await threads().publish({
      post: { text: 'A photo', link: 'https://letmepost.dev/b', media: [{ url: 'https://cdn.example/p.jpg', mimeType: 'image/jpeg', altText: 'A cat' }] },
      auth,
      options: {},
    });
    expect(creates(calls)).toEqual([{ media_type: 'IMAGE', image_url: 'https://cdn.example/p.jpg', alt_text: 'A cat', text: 'A photo\n\nhttps://letmepost.dev/b' }]);
  });

  it('video: a VIDEO container polled through IN_PROGRESS until FINISHED, then published', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerInProgress, containerInProgress, containerFinished] } });
    const result = await threads().publish({ post: { text: 'A clip', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] }, auth, options: {} });
    expect(result).toMatchObject({ status: 'published', postId: '501' });
    expect(creates(calls)).toEqual([{ media_type: 'VIDEO', video_url: 'https://cdn.example/v.mp4', text: 'A clip' }]);
    expect(calls.filter((call) => call.path.startsWith('/v1.0/101?'))).toHaveLength(3);
    expect(calls.some((call) => call.path.startsWith('/v1.0/501?') && call.path.includes('fields=id%2Cpermalink'))).toBe(true);
    expect(publishes(calls)).toEqual(['101']);
  });

  it('carousel: each child with is_carousel_item, every child FINISHED before the CAROUSEL container lists them', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '102': [containerInProgress, containerFinished] } });
    await threads().publish({
      post: {
        text: 'Three things',
        media: [
          { url: 'https://cdn.example/1.png', mimeType: 'image/png' },
          { url: 'https://cdn.example/2.mp4', mimeType: 'video/mp4', altText: 'Two' },
          { url: 'https://cdn.example/3.jpg', mimeType: 'image/jpeg' },
        ],
      },
      auth,
      options: {},
    });
    expect(creates(calls)).toEqual([
      { media_type: 'IMAGE', image_url: 'https://cdn.example/1.png', is_carousel_item: 'true' },
      { media_type: 'VIDEO', video_url: 'https://cdn.example/2.mp4', is_carousel_item: 'true', alt_text: 'Two' },
      { media_type: 'IMAGE', image_url: 'https://cdn.example/3.jpg', is_carousel_item: 'true' },
      { media_type: 'CAROUSEL', children: '101,102,103', text: 'Three things' },
    ]);
    const order = calls.map((call) => `${call.method} ${call.path.split('?')[0]}`);
    expect(order.lastIndexOf('GET /v1.0/102')).toBeLessThan(order.indexOf(`POST /v1.0/${USER_ID}/threads`, 3 + 3));
    expect(publishes(calls)).toEqual(['104']);
  });

  it('reply: reply_to_id names the post replied to', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls });
    await threads().publish({ post: { text: 'Agreed', replyTo: '18000000000000001' }, auth, options: {} });
    expect(creates(calls)).toEqual([{ media_type: 'TEXT', text: 'Agreed', reply_to_id: '18000000000000001' }]);
  });

  it('thread: each post replies to the one before; the first comment replies to the root', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls });
    const result = await threads().publish({ post: { text: 'One', thread: [{ text: 'Two' }, { text: 'Three' }], firstComment: 'Links below' }, auth, options: {} });
    expect(creates(calls).map((form) => [form.text, form.reply_to_id])).toEqual([
      ['One', undefined],
      ['Two', '501'],
      ['Three', '502'],
      ['Links below', '501'],
    ]);
    expect(result).toMatchObject({ status: 'published', postId: '501', items: [{ index: 0, postId: '501' }, { index: 1, postId: '502' }, { index: 2, postId: '503' }] });
  });

  it('a thread item that fails after the root is published is reported per item, nothing thrown', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '102': [containerError] } });
    const result = await threads().publish({
      post: { text: 'One', thread: [{ text: 'Two', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] }, { text: 'Three' }] },
      auth,
      options: {},
    });
    expect(result.status).toBe('failed');
    expect(result.postId).toBe('501');
    expect(result.items?.map((item) => item.status)).toEqual(['published', 'failed', 'failed']);
    expect(result.items?.[1]?.error).toMatchObject({ code: 'media_invalid', rule: 'threads.container.error' });
    expect(publishes(calls)).toEqual(['101']);
  });
});

describe('limits and container failures', () => {
  it('refuses with quota_exceeded before any container when the 250 posts of 24 h are used', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, limit: publishingLimitExhausted });
    const error = await threads()
      .publish({ post: { text: 'One more' }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'quota_exceeded', rule: 'threads.quota.posts', platform: 'threads' });
    expect(creates(calls)).toEqual([]);
  });

  it('counts a reply against the reply quota, not the post quota', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, limit: publishingLimitExhausted });
    await threads().publish({ post: { text: 'A reply', replyTo: '18000000000000001' }, auth, options: {} });
    const nearlyFull = { data: [{ quota_usage: 0, config: { quota_total: 250 }, reply_quota_usage: 999, reply_config: { quota_total: 1000 } }] };
    nock.cleanAll();
    threadsServer({ calls, limit: nearlyFull });
    const error = await threads()
      .publish({ post: { text: 'Root', thread: [{ text: 'Two' }, { text: 'Three' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'quota_exceeded', rule: 'threads.quota.replies' });
  });

  it('a container in ERROR fails the publish as media_invalid with nothing published', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerError] } });
    const error = await threads()
      .publish({ post: { text: 'Broken', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'threads.container.error' });
    expect(publishes(calls)).toEqual([]);
  });

  it('an EXPIRED container is media_invalid with its own rule', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerExpired] } });
    const error = await threads()
      .publish({ post: { text: 'Late', media: [{ url: 'https://cdn.example/p.png', mimeType: 'image/png' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'threads.container.expired' });
  });

  it('refuses bytes without media staging, naming the option, before any request', async () => {
    const error = await threads()
      .publish({ post: { text: 'Bytes', media: [{ data: new Uint8Array([1, 2, 3]), mimeType: 'image/png' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', rule: 'media.staging_not_configured', field: 'media.0' });
    expect((error as Error).message).toContain('mediaStaging');
  });
});

describe('pending containers and resume', () => {
  const video = { text: 'A long video', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] };

  it('a container still IN_PROGRESS after the wait ends pending with resume state and no secret', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerInProgress] } });
    const result = await threads({ maxWaitMs: 20 }).publish({ post: video, auth, options: {} });
    expect(result.status).toBe('pending');
    expect(result.checkAfterMs).toBe(60_000);
    expect(result.resume).toMatchObject({ v: 1, userId: USER_ID, items: [{ kind: 'post', containerId: '101' }] });
    expect(JSON.stringify(result)).not.toContain(ACCESS_TOKEN);
    expect(publishes(calls)).toEqual([]);
  });

  it('one wait budget for the whole publish: a second video waits only for what the first left', async () => {
    const calls: WireCall[] = [];
    // 30 ms at 10 ms a look: the first container takes three looks (20 ms), the second gets 10 ms (two looks).
    threadsServer({ calls, statuses: { '101': [containerInProgress, containerInProgress, containerFinished], '102': [containerInProgress, containerInProgress, containerFinished] } });
    const clip = { url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' };
    const result = await threads({ maxWaitMs: 30 }).publish({ post: { text: 'One', media: [clip], thread: [{ text: 'Two', media: [clip] }] }, auth, options: {} });
    expect(result.status).toBe('pending');
    expect(result.resume).toMatchObject({ items: [{ postId: '501' }, { containerId: '102' }] });
    expect(calls.filter((call) => call.path.startsWith('/v1.0/102?'))).toHaveLength(2);
    expect(publishes(calls)).toEqual(['101']);
  });

  it('checkStatus only reads; finalize publishes the container once, and a second finalize does not publish again', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerInProgress, containerInProgress, containerInProgress, containerFinished, containerFinished, containerPublished] } });
    const provider = threads({ maxWaitMs: 20 });
    const pending = await provider.publish({ post: video, auth, options: {} });
    expect(await provider.checkStatus!({ auth, resume: pending.resume! })).toMatchObject({ status: 'ready' });
    expect(calls.filter((call) => call.method === 'POST')).toHaveLength(1);
    const first = await provider.finalize!({ auth, resume: pending.resume! });
    expect(first).toMatchObject({ status: 'published', postId: '501' });
    const second = await provider.finalize!({ auth, resume: pending.resume! });
    expect(second.status).toBe('published');
    expect(second.warnings.map((warning) => warning.code)).toEqual(['threads.post_id_unknown']);
    expect(publishes(calls)).toEqual(['101']);
  });

  it('checkStatus reports a container that failed while waiting as failed', async () => {
    const calls: WireCall[] = [];
    threadsServer({ calls, statuses: { '101': [containerInProgress, containerInProgress, containerInProgress, containerError] } });
    const provider = threads({ maxWaitMs: 20 });
    const pending = await provider.publish({ post: video, auth, options: {} });
    expect(await provider.checkStatus!({ auth, resume: pending.resume! })).toMatchObject({ status: 'failed', error: { code: 'media_invalid' } });
  });

  it('refuses resume state of another account', async () => {
    const error = await threads()
      .finalize!({ auth, resume: { v: 1, userId: '999', items: [{ kind: 'post', text: 'x', media: [] }] } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', field: 'resume' });
  });
});

describe('delete', () => {
  it('sends DELETE /v1.0/{media-id} with the token', async () => {
    const calls: WireCall[] = [];
    interceptThreads({ calls, method: 'DELETE', path: '/v1.0/18050206876707110', reply: { status: 200, body: deleted } });
    await threads().deletePost!({ auth, postId: '18050206876707110' });
    expect(calls).toHaveLength(1);
    expect(new URL(calls[0]!.path, 'https://x').searchParams.get('access_token')).toBe(ACCESS_TOKEN);
  });

  it('refuses a post id that is not a Threads media id without a request', async () => {
    await expect(threads().deletePost!({ auth, postId: '../me' })).rejects.toMatchObject({ code: 'validation_failed', field: 'postId' });
  });
});
