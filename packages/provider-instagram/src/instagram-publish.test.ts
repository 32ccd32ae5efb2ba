import { LetmepostError, type Post, type PublishAuth } from '@letmepost/core';
import { describe, expect, it } from 'vitest';
import commentCreated from './__fixtures__/comment-created.json' with { type: 'json' };
import containerCreated from './__fixtures__/container-created.json' with { type: 'json' };
import containerError from './__fixtures__/container-error.json' with { type: 'json' };
import containerFinished from './__fixtures__/container-finished.json' with { type: 'json' };
import containerInProgress from './__fixtures__/container-in-progress.json' with { type: 'json' };
import containerPublished from './__fixtures__/container-published.json' with { type: 'json' };
import error10Permission from './__fixtures__/error-10-permission.json' with { type: 'json' };
import error190Expired from './__fixtures__/error-190-expired.json' with { type: 'json' };
import error190Revoked from './__fixtures__/error-190-revoked.json' with { type: 'json' };
import error1Unknown from './__fixtures__/error-1-unknown.json' with { type: 'json' };
import error2207042Limit from './__fixtures__/error-2207042-limit.json' with { type: 'json' };
import error36003Aspect from './__fixtures__/error-36003-aspect.json' with { type: 'json' };
import error4RateLimit from './__fixtures__/error-4-rate-limit.json' with { type: 'json' };
import error9004Fetch from './__fixtures__/error-9004-fetch.json' with { type: 'json' };
import error9007NotReady from './__fixtures__/error-9007-not-ready.json' with { type: 'json' };
import mediaList from './__fixtures__/media-list.json' with { type: 'json' };
import mediaPublished from './__fixtures__/media-published.json' with { type: 'json' };
import permalink from './__fixtures__/permalink.json' with { type: 'json' };
import publishingLimitFull from './__fixtures__/publishing-limit-full.json' with { type: 'json' };
import publishingLimit from './__fixtures__/publishing-limit.json' with { type: 'json' };
import type { InstagramCredentials } from './instagram-credentials.js';
import type { InstagramOptions } from './instagram-options.js';
import { createInstagram } from './instagram-provider.js';
import { expectConformingRequests, type InstagramNodeKind } from './test-support/instagram-contract.js';
import { ACCESS_TOKEN, answer, createGraphMock, IG_USER_ID, NOW } from './test-support/instagram-graph-mock.js';

const auth: PublishAuth<InstagramCredentials> = { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN, instagramAccountId: IG_USER_ID } };
const CAPTION = mediaList.data[0]!.caption;
const IMAGE = { url: 'https://media.letmepost.dev/bakery/sourdough.jpg', mimeType: 'image/jpeg', altText: 'A loaf of sourdough on a board' };
const VIDEO = { url: 'https://media.letmepost.dev/bakery/shaping.mp4', mimeType: 'video/mp4', durationSeconds: 24 };
const CONTAINER = containerCreated.id;
const MEDIA = mediaPublished.id;
const CHILDREN = ['17880000000000011', '17880000000000012'];
const CAROUSEL = '17880000000000019';
const ids: Record<string, InstagramNodeKind> = {
  [IG_USER_ID]: 'user',
  [CONTAINER]: 'container',
  [CHILDREN[0]!]: 'container',
  [CHILDREN[1]!]: 'container',
  [CAROUSEL]: 'container',
  [MEDIA]: 'media',
};

function setup(options: { publicHosts?: boolean } = {}) {
  const mock = createGraphMock();
  const sleeps: number[] = [];
  const provider = createInstagram({
    dispatcher: mock.agent,
    clock: { now: () => NOW },
    containerWait: { intervalMs: 1_000, maxWaitMs: 2_000, sleep: async ({ ms }) => void sleeps.push(ms) },
    lookupHost: async ({ hostname }) => (options.publicHosts === false || hostname.startsWith('internal') ? ['10.0.0.7'] : ['151.101.1.1']),
  });
  const publish = (post: Post, options: InstagramOptions = {}) => provider.publish({ post, auth, options });
  const posts = (path: string) => mock.recorded().filter((request) => request.method === 'POST' && request.path === path);
  return { ...mock, provider, publish, posts, sleeps };
}

function quota(agent: ReturnType<typeof createGraphMock>['agent'], body: unknown = publishingLimit): void {
  answer({ agent, method: 'GET', path: `${IG_USER_ID}/content_publishing_limit`, body });
}

/** A publish that goes through: the limit, one container, FINISHED, media_publish and the permalink. */
function answerPublish(agent: ReturnType<typeof createGraphMock>['agent']): void {
  quota(agent);
  answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated });
  answer({ agent, method: 'GET', path: CONTAINER, body: containerFinished });
  answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, body: mediaPublished });
  answer({ agent, method: 'GET', path: MEDIA, body: permalink });
}

async function failure(promise: Promise<unknown>): Promise<LetmepostError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(LetmepostError.isInstance(error), String(error)).toBe(true);
  return error as LetmepostError;
}

describe('Instagram publish at the wire', () => {
  it('publishes one image: limit read, container with caption and alt text, FINISHED, media_publish once, permalink', async () => {
    const { agent, recorded, publish, posts } = setup();
    answerPublish(agent);

    const result = await publish({ text: CAPTION, media: [IMAGE] }, { locationId: '110843418940484', collaborators: ['letmepost.cafe'] });

    expect(result).toMatchObject({ status: 'published', postId: MEDIA, url: permalink.permalink, warnings: [] });
    expect(recorded().map((request) => `${request.method} ${request.path}`)).toEqual([
      `GET ${IG_USER_ID}/content_publishing_limit`,
      `POST ${IG_USER_ID}/media`,
      `GET ${CONTAINER}`,
      `POST ${IG_USER_ID}/media_publish`,
      `GET ${MEDIA}`,
    ]);
    expect(posts(`${IG_USER_ID}/media`)[0]?.params).toEqual({
      access_token: ACCESS_TOKEN,
      image_url: IMAGE.url,
      caption: CAPTION,
      alt_text: IMAGE.altText,
      location_id: '110843418940484',
      collaborators: '["letmepost.cafe"]',
    });
    expect(posts(`${IG_USER_ID}/media_publish`)[0]?.params).toEqual({ access_token: ACCESS_TOKEN, creation_id: CONTAINER });
    expect(recorded()[2]?.params.fields).toBe('status_code,status');
    expectConformingRequests({ recorded: recorded(), ids });
    agent.assertNoPendingInterceptors();
  });

  it('publishes a mixed carousel: one item container each, waits for all, then the CAROUSEL container with the children in order', async () => {
    const { agent, recorded, publish, posts } = setup();
    quota(agent);
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: { id: CHILDREN[0] } });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: { id: CHILDREN[1] } });
    answer({ agent, method: 'GET', path: CHILDREN[0]!, body: { ...containerFinished, id: CHILDREN[0] } });
    answer({ agent, method: 'GET', path: CHILDREN[1]!, body: { ...containerInProgress, id: CHILDREN[1] } });
    answer({ agent, method: 'GET', path: CHILDREN[1]!, body: { ...containerFinished, id: CHILDREN[1] } });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: { id: CAROUSEL } });
    answer({ agent, method: 'GET', path: CAROUSEL, body: { ...containerFinished, id: CAROUSEL } });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, body: mediaPublished });
    answer({ agent, method: 'GET', path: MEDIA, body: permalink });

    const result = await publish({ text: CAPTION, media: [IMAGE, VIDEO] });

    expect(result).toMatchObject({ status: 'published', postId: MEDIA });
    const containers = posts(`${IG_USER_ID}/media`).map((request) => request.params);
    expect(containers).toEqual([
      { access_token: ACCESS_TOKEN, is_carousel_item: 'true', image_url: IMAGE.url, alt_text: IMAGE.altText },
      { access_token: ACCESS_TOKEN, is_carousel_item: 'true', media_type: 'VIDEO', video_url: VIDEO.url },
      { access_token: ACCESS_TOKEN, media_type: 'CAROUSEL', children: CHILDREN.join(','), caption: CAPTION },
    ]);
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(1);
    expect(posts(`${IG_USER_ID}/media_publish`)[0]?.params.creation_id).toBe(CAROUSEL);
    expectConformingRequests({ recorded: recorded(), ids });
  });

  it('publishes a single video as a Reel (REELS, never the retired VIDEO type) with its Reel options', async () => {
    const { agent, recorded, publish, posts } = setup();
    answerPublish(agent);

    await publish({ text: CAPTION, media: [VIDEO] }, { shareToFeed: false, coverUrl: 'https://media.letmepost.dev/bakery/cover.jpg', thumbOffsetMs: 1500 });

    expect(posts(`${IG_USER_ID}/media`)[0]?.params).toEqual({
      access_token: ACCESS_TOKEN,
      media_type: 'REELS',
      video_url: VIDEO.url,
      caption: CAPTION,
      share_to_feed: 'false',
      cover_url: 'https://media.letmepost.dev/bakery/cover.jpg',
      thumb_offset: '1500',
    });
    expectConformingRequests({ recorded: recorded(), ids });
  });

  it('publishes a Story (STORIES, no caption) and looks Stories up under /stories when the container was already published', async () => {
    const { agent, recorded, publish, posts } = setup();
    answerPublish(agent);

    await publish({ text: '', media: [{ url: IMAGE.url, mimeType: 'image/jpeg' }] }, { placement: 'story' });

    expect(posts(`${IG_USER_ID}/media`)[0]?.params).toEqual({ access_token: ACCESS_TOKEN, media_type: 'STORIES', image_url: IMAGE.url });
    expectConformingRequests({ recorded: recorded(), ids });
  });

  it('adds the first comment on the published media, and keeps the post when the comment is refused (a warning)', async () => {
    const ok = setup();
    answerPublish(ok.agent);
    answer({ agent: ok.agent, method: 'POST', path: `${MEDIA}/comments`, body: commentCreated });
    const result = await ok.publish({ text: CAPTION, media: [IMAGE], firstComment: 'Order at letmepost.dev/bakery' });
    expect(result).toMatchObject({ status: 'published', warnings: [] });
    expect(ok.posts(`${MEDIA}/comments`)[0]?.params).toEqual({ access_token: ACCESS_TOKEN, message: 'Order at letmepost.dev/bakery' });
    expectConformingRequests({ recorded: ok.recorded(), ids });

    const refused = setup();
    answerPublish(refused.agent);
    answer({ agent: refused.agent, method: 'POST', path: `${MEDIA}/comments`, status: 403, body: { error: { message: '(#200) Permissions error', type: 'OAuthException', code: 200 } } });
    const kept = await refused.publish({ text: CAPTION, media: [IMAGE], firstComment: 'Order now' });
    expect(kept.status).toBe('published');
    expect(kept.warnings.map((warning) => warning.code)).toEqual(['instagram.first_comment.failed']);
    expect(kept.warnings[0]?.message).toContain('instagram_business_manage_comments');
  });

  it('answers pending with resume state when the container is still processing after the wait budget; nothing is published', async () => {
    const { agent, publish, posts, sleeps } = setup();
    quota(agent);
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated });
    answer({ agent, method: 'GET', path: CONTAINER, body: containerInProgress, persist: true });

    const result = await publish({ text: CAPTION, media: [VIDEO] });

    expect(result).toMatchObject({ status: 'pending', checkAfterMs: 30_000 });
    expect(result.resume).toEqual({ v: 1, igUserId: IG_USER_ID, shape: 'reel', stage: 'container', containerId: CONTAINER, caption: CAPTION, createdAt: NOW, warnings: [] });
    expect(JSON.stringify(result.resume)).not.toContain(ACCESS_TOKEN);
    expect(sleeps).toEqual([1_000, 1_000]);
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(0);
  });

  it('resumes: checkStatus only reads (pending, then ready); finalize publishes once; a second finalize finds the container PUBLISHED and reports the same post', async () => {
    const { agent, provider, posts, recorded } = setup();
    const resume = { v: 1, igUserId: IG_USER_ID, shape: 'reel', stage: 'container', containerId: CONTAINER, caption: CAPTION, createdAt: NOW - 60_000, warnings: [] };
    answer({ agent, method: 'GET', path: CONTAINER, body: containerInProgress });
    answer({ agent, method: 'GET', path: CONTAINER, body: containerFinished, times: 2 });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, body: mediaPublished });
    answer({ agent, method: 'GET', path: MEDIA, body: permalink });
    answer({ agent, method: 'GET', path: CONTAINER, body: containerPublished });
    answer({ agent, method: 'GET', path: `${IG_USER_ID}/media`, body: mediaList });

    expect(await provider.checkStatus!({ auth, resume })).toMatchObject({ status: 'pending' });
    expect(await provider.checkStatus!({ auth, resume })).toMatchObject({ status: 'ready' });
    expect(recorded().every((request) => request.method === 'GET')).toBe(true);

    const first = await provider.finalize!({ auth, resume });
    const second = await provider.finalize!({ auth, resume });

    expect(first).toMatchObject({ status: 'published', postId: MEDIA, url: permalink.permalink });
    expect(second).toMatchObject({ status: 'published', postId: MEDIA, url: mediaList.data[0]!.permalink });
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(1);
    expectConformingRequests({ recorded: recorded(), ids });
  });

  it('answers unknown, never publishing again, when a PUBLISHED container’s post cannot be told apart', async () => {
    const { agent, provider, posts } = setup();
    answer({ agent, method: 'GET', path: CONTAINER, body: containerPublished });
    answer({ agent, method: 'GET', path: `${IG_USER_ID}/media`, body: { data: [mediaList.data[0], { ...mediaList.data[0], id: '17918195224117999' }] } });
    const result = await provider.finalize!({
      auth,
      resume: { v: 1, igUserId: IG_USER_ID, shape: 'image', stage: 'container', containerId: CONTAINER, caption: CAPTION, createdAt: NOW - 60_000, warnings: [] },
    });
    expect(result.status).toBe('unknown');
    expect(result.error?.code).toBe('publish_outcome_unknown');
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(0);
  });

  it('finishes carousel items that were still processing: the CAROUSEL container is made at finalize', async () => {
    const { agent, provider, posts } = setup();
    const resume = { v: 1, igUserId: IG_USER_ID, shape: 'carousel', stage: 'children', children: CHILDREN, caption: CAPTION, createdAt: NOW, warnings: [] };
    for (const child of CHILDREN) answer({ agent, method: 'GET', path: child, body: { ...containerFinished, id: child } });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: { id: CAROUSEL } });
    answer({ agent, method: 'GET', path: CAROUSEL, body: { ...containerFinished, id: CAROUSEL } });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, body: mediaPublished });
    answer({ agent, method: 'GET', path: MEDIA, body: permalink });
    expect(await provider.finalize!({ auth, resume })).toMatchObject({ status: 'published', postId: MEDIA });
    expect(posts(`${IG_USER_ID}/media`)[0]?.params).toMatchObject({ media_type: 'CAROUSEL', children: CHILDREN.join(',') });
  });

  it('ends a finalize whose container failed as failed media_invalid, with nothing published', async () => {
    const { agent, provider, posts } = setup();
    answer({ agent, method: 'GET', path: CONTAINER, body: containerError });
    const result = await provider.finalize!({
      auth,
      resume: { v: 1, igUserId: IG_USER_ID, shape: 'reel', stage: 'container', containerId: CONTAINER, createdAt: NOW, warnings: [] },
    });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'media_invalid', rule: 'instagram.container.error' } });
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(0);
  });

  it('refuses resume state that is not its own with validation_failed', async () => {
    const { provider } = setup();
    const error = await failure(provider.finalize!({ auth, resume: { v: 1, stage: 'container' } }));
    expect([error.code, error.field]).toEqual(['validation_failed', 'resume']);
  });

  it('checks the 24-hour publishing limit first: a full quota is quota_exceeded and no container is made', async () => {
    const { agent, publish, recorded } = setup();
    quota(agent, publishingLimitFull);
    const error = await failure(publish({ text: CAPTION, media: [IMAGE] }));
    expect([error.code, error.rule]).toEqual(['quota_exceeded', 'instagram.publish.limit_reached']);
    expect(recorded().map((request) => request.method)).toEqual(['GET']);
  });

  it('refuses a media host that resolves to a private address before any request (media_unreachable)', async () => {
    const { publish, recorded } = setup({ publicHosts: false });
    const error = await failure(publish({ text: CAPTION, media: [IMAGE] }));
    expect([error.code, error.rule, error.field]).toEqual(['media_unreachable', 'instagram.media.url_not_public', 'post.media.0.url']);
    expect(recorded()).toEqual([]);
  });

  it('refuses bytes given straight to the provider (core stages them through mediaStaging) before any request', async () => {
    const { publish, recorded } = setup();
    const error = await failure(publish({ text: CAPTION, media: [{ data: new Uint8Array([0xff, 0xd8, 0xff]), mimeType: 'image/jpeg' }] }));
    expect([error.code, error.rule]).toEqual(['validation_failed', 'media.staging_not_configured']);
    expect(recorded()).toEqual([]);
  });

  it('answers pending when media_publish says the media is not ready yet (9007), without an error', async () => {
    const { agent, publish } = setup();
    quota(agent);
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated });
    answer({ agent, method: 'GET', path: CONTAINER, body: containerFinished });
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, status: 400, body: error9007NotReady });
    const result = await publish({ text: CAPTION, media: [IMAGE] });
    expect(result).toMatchObject({ status: 'pending', resume: { containerId: CONTAINER } });
  });

  it('fails a container Instagram could not process (ERROR) with media_invalid and never calls media_publish', async () => {
    const { agent, publish, posts } = setup();
    quota(agent);
    answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated });
    answer({ agent, method: 'GET', path: CONTAINER, body: containerError });
    const error = await failure(publish({ text: CAPTION, media: [VIDEO] }));
    expect([error.code, error.rule]).toEqual(['media_invalid', 'instagram.container.error']);
    expect(error.message).toContain('2207026');
    expect(posts(`${IG_USER_ID}/media_publish`)).toHaveLength(0);
  });

  it.each([
    { name: 'media fetch failed (9004/2207052) at the container', where: 'container', status: 400, body: error9004Fetch, code: 'media_invalid' },
    { name: 'aspect ratio (36003/2207009) at the container', where: 'container', status: 400, body: error36003Aspect, code: 'media_invalid' },
    { name: 'expired token (190/463)', where: 'container', status: 400, body: error190Expired, code: 'auth_expired' },
    { name: 'app removed (190/458)', where: 'container', status: 400, body: error190Revoked, code: 'reauth_required' },
    { name: 'restricted account (10/2207050)', where: 'container', status: 400, body: error10Permission, code: 'permission_denied' },
    { name: 'throttled (4)', where: 'container', status: 400, body: error4RateLimit, code: 'rate_limited' },
    { name: 'publishing limit (9/2207042) at media_publish', where: 'publish', status: 400, body: error2207042Limit, code: 'quota_exceeded' },
    { name: 'a refusal in a 200 body at media_publish', where: 'publish', status: 200, body: error9004Fetch, code: 'media_invalid' },
    // A 500 after media_publish was sent may have published: unknown, never retried.
    { name: 'unknown error (1) answered 500 at media_publish', where: 'publish', status: 500, body: error1Unknown, code: 'publish_outcome_unknown' },
    { name: 'unknown error (1) at the container', where: 'container', status: 400, body: error1Unknown, code: 'platform_unavailable' },
  ] as const)('maps $name to $code without leaking the token', async ({ where, status, body, code }) => {
    const { agent, publish, posts } = setup();
    quota(agent);
    if (where === 'container') {
      answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, status, body });
    } else {
      answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated });
      answer({ agent, method: 'GET', path: CONTAINER, body: containerFinished });
      answer({ agent, method: 'POST', path: `${IG_USER_ID}/media_publish`, status, body });
    }
    const error = await failure(publish({ text: CAPTION, media: [IMAGE] }));
    expect(error.code).toBe(code);
    expect(error.platform).toBe('instagram');
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
    expect(error.message).not.toContain(ACCESS_TOKEN);
    expect(posts(`${IG_USER_ID}/media_publish`).length).toBeLessThanOrEqual(1);
  });
});
