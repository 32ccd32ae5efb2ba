import { createHash, randomBytes } from 'node:crypto';
import type { ClientCredentials, PublishAuth, TokenSet } from '@letmepost/core';
import { createInstagram, INSTAGRAM_EXTENDED_SCOPES, INSTAGRAM_WRITE_SCOPES, type InstagramCredentials } from '@letmepost/provider-instagram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instagramUser } from './sandbox-instagram.js';
import { startSandbox, type Sandbox } from './sandbox-server.js';

// The real Instagram provider, pointed at the sandbox only through apiBaseUrl.

const redirectUri = 'http://127.0.0.1:3000/v1/accounts/oauth/instagram/callback';
const client: ClientCredentials = { clientId: 'ig-app', clientSecret: 'ig-secret' };
const DAY = 86_400_000;

let sandbox: Sandbox;
let now: number;
beforeEach(async () => {
  now = Date.now();
  sandbox = await startSandbox({ now: () => now, apps: [{ platform: 'instagram', ...client, clientSecret: 'ig-secret', redirectUris: [redirectUri] }] });
});
afterEach(async () => sandbox.close());

function provider() {
  return createInstagram({
    ...client,
    ...sandbox.endpoints.instagram,
    allowPrivateNetwork: true,
    clock: { now: () => now },
    containerWait: { intervalMs: 0, maxWaitMs: 0 },
    http: { retry: { maxAttempts: 1 } },
  });
}

async function connect(scopes: readonly string[] = INSTAGRAM_WRITE_SCOPES): Promise<TokenSet> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorizeUrl = await provider().authorizationUrl!({ client, redirectUri, state, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), scopes });
  const page = await fetch(authorizeUrl);
  const consentId = /name="consent_id" value="([^"]+)"/.exec(await page.text())?.[1];
  const answer = await fetch(new URL('consent', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId!, decision: 'approve' }),
  });
  // Instagram appends `#_` to the redirect.
  const callbackUrl = new URL(`${answer.headers.get('location')!}#_`);
  return provider().exchangeCode!({ client, redirectUri, callbackUrl, state, codeVerifier: verifier });
}

async function account(scopes?: readonly string[]): Promise<PublishAuth<InstagramCredentials>> {
  const tokens = await connect(scopes);
  const [listed] = await provider().listAccounts!({ tokens, client });
  return { type: 'account', account: listed!, tokens };
}

const image = (name: string) => ({ url: `${sandbox.url}/media/${name}.jpg`, mimeType: 'image/jpeg' });
const video = (name: string) => ({ url: `${sandbox.url}/media/${name}.mp4`, mimeType: 'video/mp4' });

describe('Instagram against the sandbox', () => {
  it('connects: code exchange in Instagram’s own shape, then the 60-day token; the account is the professional user_id', async () => {
    const tokens = await connect();
    expect(tokens.expiresAt! - now).toBe(60 * DAY);
    expect(tokens.scopes).toEqual([...INSTAGRAM_WRITE_SCOPES]);
    expect(sandbox.state.events.filter((event) => event.platform === 'instagram' && event.kind === 'token').map((event) => event.summary)).toEqual([
      'grant_type=authorization_code',
      'grant_type=ig_exchange_token',
    ]);
    const [listed] = await provider().listAccounts!({ tokens, client });
    expect(listed).toMatchObject({ platformAccountId: instagramUser.id, username: instagramUser.username, data: { igUserId: instagramUser.id } });
  });

  it('publishes an image with alt text and a first comment, a mixed carousel and a Story', async () => {
    const auth = await account(INSTAGRAM_EXTENDED_SCOPES);
    const single = await provider().publish({ post: { text: 'Sourdough at 7', media: [{ ...image('loaf'), altText: 'A loaf' }], firstComment: 'Order online' }, auth, options: {} });
    expect(single).toMatchObject({ status: 'published', url: sandbox.postUrl({ platform: 'instagram', postId: single.postId! }), warnings: [] });
    const comment = sandbox.state.posts.find((post) => post.replyTo === single.postId);
    expect(comment?.text).toBe('Order online');

    // A carousel with a video: the item processes for a few reads, then the carousel publishes.
    const carousel = await createInstagram({ ...client, ...sandbox.endpoints.instagram, allowPrivateNetwork: true, clock: { now: () => now }, containerWait: { intervalMs: 1, maxWaitMs: 10 } }).publish({
      post: { text: 'Morning bake', media: [image('a'), video('b'), image('c')] },
      auth,
      options: {},
    });
    expect(carousel.status).toBe('published');
    expect(sandbox.state.posts.find((post) => post.id === carousel.postId)?.mediaIds).toHaveLength(3);

    const story = await provider().publish({ post: { text: '', media: [image('story')] }, auth, options: { placement: 'story' } });
    expect(story.status).toBe('published');
  });

  it('a Reel still processing ends pending; checkStatus reads, finalize publishes once, a second finalize reports the same post', async () => {
    const auth = await account();
    const pending = await provider().publish({ post: { text: 'Shaping', media: [video('reel')] }, auth, options: {} });
    expect(pending.status).toBe('pending');
    expect(await provider().checkStatus!({ auth, resume: pending.resume! })).toMatchObject({ status: 'ready' });
    const first = await provider().finalize!({ auth, resume: pending.resume! });
    const second = await provider().finalize!({ auth, resume: pending.resume! });
    expect(first.status).toBe('published');
    expect(second).toMatchObject({ status: 'published', postId: first.postId });
    expect(sandbox.state.posts.filter((post) => post.platform === 'instagram' && !post.replyTo)).toHaveLength(1);
  });

  it('refuses a new container once the 24-hour publishing limit is used up (quota_exceeded, nothing created)', async () => {
    const auth = await account();
    for (let index = 0; index < 100; index += 1) sandbox.meta.countPublish({ key: `instagram:${instagramUser.id}`, limit: 1000, platform: 'instagram' });
    const error = await provider().publish({ post: { text: 'one more', media: [image('x')] }, auth, options: {} }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'quota_exceeded', rule: 'instagram.publish.limit_reached' });
    expect(sandbox.meta.containers.size).toBe(0);
  });

  it('a container Instagram cannot process fails media_invalid and is never published', async () => {
    const auth = await account();
    sandbox.meta.setContainerFault('instagram', { kind: 'error' });
    const error = await provider().publish({ post: { text: 'broken', media: [image('x')] }, auth, options: {} }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'instagram.container.error' });
    expect(sandbox.state.posts.filter((post) => post.platform === 'instagram')).toHaveLength(0);
  });

  it('refreshes the 60-day token once it is a day old; a younger one is kept without a request', async () => {
    const tokens = await connect();
    expect(await provider().refresh!({ tokens, client })).toEqual(tokens);
    now += 2 * DAY;
    const refreshed = await provider().refresh!({ tokens, client });
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.expiresAt).toBe(now + 60 * DAY);
    expect(sandbox.state.refreshCount).toBe(1);
  });
});
