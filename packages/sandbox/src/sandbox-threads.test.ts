import { createHash, randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore, type ClientCredentials, type MediaStaging, type PublishAuth } from '@letmepost/core';
import { createThreads, THREADS_WRITE_SCOPES, type ThreadsCredentials } from '@letmepost/provider-threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveSandboxConsent } from './sandbox-consent.js';
import { startSandbox, type Sandbox } from './sandbox-server.js';
import { threadsUser } from './sandbox-threads.js';

// The real Threads provider against the sandbox, moved there only by its base-URL settings.

const client: ClientCredentials = { clientId: 'threads-client', clientSecret: 'threads-secret' };
const redirectUri = 'http://127.0.0.1:3000/v1/accounts/oauth/threads/callback';
let sandbox: Sandbox;
let now = Date.UTC(2026, 10, 23, 12, 0, 0);

beforeEach(async () => {
  now = Date.UTC(2026, 10, 23, 12, 0, 0);
  sandbox = await startSandbox({ apps: [{ platform: 'threads', ...client, clientSecret: 'threads-secret', redirectUris: [redirectUri] }], now: () => now });
});
afterEach(async () => sandbox.close());

function threads() {
  return createThreads({
    ...client,
    ...sandbox.endpoints.threads,
    allowPrivateNetwork: true,
    clock: { now: () => now },
    containerWait: { intervalMs: 1, maxWaitMs: 10 },
  });
}

/** Consent as a browser would, then the code exchange with its long-lived swap. */
async function connect(scopes: readonly string[] = THREADS_WRITE_SCOPES) {
  const provider = threads();
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorizeUrl = await provider.authorizationUrl!({ client, redirectUri, state, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), scopes });
  const tokens = await provider.exchangeCode!({ client, redirectUri, callbackUrl: await approveSandboxConsent({ authorizeUrl }), state, codeVerifier: verifier });
  const [account] = await provider.listAccounts!({ tokens, client });
  const auth: PublishAuth<ThreadsCredentials> = { type: 'account', account: account!, tokens };
  return { provider, tokens, account: account!, auth };
}

const posts = () => sandbox.state.posts.filter((post) => post.platform === 'threads');

describe('Threads provider against the sandbox', () => {
  it('connects with a 60-day token and publishes text, link, image, video and carousel posts', async () => {
    const { provider, tokens, account, auth } = await connect();
    expect(account.platformAccountId).toBe(threadsUser.id);
    expect(tokens.expiresAt).toBe(now + 60 * 86_400_000);
    const image = { url: 'https://cdn.example/a.png', mimeType: 'image/png' };
    for (const post of [
      { text: 'Plain text' },
      { text: 'A link', link: 'https://letmepost.dev' },
      { text: 'An image', media: [image] },
      { text: 'A video', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] },
      { text: 'A carousel', media: [image, image, image] },
    ]) {
      expect(await provider.publish({ post, auth, options: {} })).toMatchObject({ status: 'published' });
    }
    expect(posts().map((post) => [post.text, post.mediaIds.length])).toEqual([
      ['Plain text', 0],
      ['A link', 0],
      ['An image', 1],
      ['A video', 1],
      ['A carousel', 3],
    ]);
  });

  it('chains a thread and its first comment, replies to a post, and deletes', async () => {
    const { provider, auth } = await connect();
    const result = await provider.publish({ post: { text: 'One', thread: [{ text: 'Two' }], firstComment: 'Comment' }, auth, options: {} });
    const [one, two, comment] = posts();
    expect(two!.replyTo).toBe(one!.id);
    expect(comment!.replyTo).toBe(one!.id);
    expect(result.url).toBe(sandbox.postUrl({ platform: 'threads', postId: one!.id }));
    await provider.publish({ post: { text: 'A reply', replyTo: two!.id }, auth, options: {} });
    expect(posts()[3]!.replyTo).toBe(two!.id);
    await provider.deletePost!({ auth, postId: one!.id });
    expect(posts()[0]!.deleted).toBe(true);
  });

  it('a slow container ends pending; checkStatus reads, finalize publishes it once', async () => {
    const { provider, auth } = await connect();
    // publish looks 11 times (10 ms budget, 1 ms apart); the two checkStatus calls take the last two reads.
    sandbox.meta.setContainerFault('threads', { kind: 'slow', reads: 13 });
    const pending = await provider.publish({ post: { text: 'Slow video', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] }, auth, options: {} });
    expect(pending.status).toBe('pending');
    expect(await provider.checkStatus!({ auth, resume: pending.resume! })).toMatchObject({ status: 'pending' });
    expect(await provider.checkStatus!({ auth, resume: pending.resume! })).toMatchObject({ status: 'ready' });
    expect(await provider.finalize!({ auth, resume: pending.resume! })).toMatchObject({ status: 'published' });
    expect(await provider.finalize!({ auth, resume: pending.resume! })).toMatchObject({ status: 'published', warnings: [{ code: 'threads.post_id_unknown' }] });
    expect(posts()).toHaveLength(1);
  });

  it('a container that fails is media_invalid; a token without threads_content_publish is permission_denied', async () => {
    const { provider, auth } = await connect();
    sandbox.meta.setContainerFault('threads', { kind: 'error', message: 'FAILED_DOWNLOADING_VIDEO' });
    await expect(provider.publish({ post: { text: 'x', media: [{ url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' }] }, auth, options: {} })).rejects.toMatchObject({
      code: 'media_invalid',
      rule: 'threads.container.error',
    });
    sandbox.meta.setContainerFault('threads', undefined);
    const basicOnly = await connect(['threads_basic']);
    await expect(basicOnly.provider.publish({ post: { text: 'x' }, auth: basicOnly.auth, options: {} })).rejects.toMatchObject({ code: 'permission_denied' });
  });

  it('refreshes the long-lived token once it is a day old', async () => {
    const { provider, tokens } = await connect();
    await expect(provider.refresh!({ tokens, client })).rejects.toMatchObject({ platform: 'threads' });
    now += 86_400_000 + 1;
    const refreshed = await provider.refresh!({ tokens, client });
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(refreshed.expiresAt).toBe(now + 60 * 86_400_000);
  });

  it('through core: bytes staged by mediaStaging, a pending video finished by resume, and a second resume sends nothing', async () => {
    const { tokens, account } = await connect();
    const staged: string[] = [];
    const released: string[] = [];
    const mediaStaging: MediaStaging = {
      stage: async ({ platform, media }) => {
        const url = `https://staging.example/${platform}/${staged.length + 1}.${media.mimeType.split('/')[1]}`;
        staged.push(url);
        return { url };
      },
      release: async ({ url }) => {
        released.push(url);
      },
    };
    const letmepost = createLetmepost({
      providers: [createThreads({ ...client, ...sandbox.endpoints.threads, clock: { now: () => now }, containerWait: { intervalMs: 1, maxWaitMs: 0 } })],
      store: memoryTokenStore(),
      encryptionKey: randomBytes(32).toString('base64'),
      baseUrl: 'https://app.example.com',
      mediaStaging,
    });
    const credentials = { accessToken: tokens.accessToken, threadsUserId: account.platformAccountId };
    // One look inside publish; the video needs two reads, so the publish ends pending.
    const [pending] = await letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'A staged video', media: [{ data: new Uint8Array(randomBytes(2048)), mimeType: 'video/mp4' }] },
      targets: [{ platform: 'threads', credentials }],
    });
    expect(pending).toMatchObject({ status: 'pending', resumeToken: expect.any(String) });
    expect([...sandbox.meta.containers.values()].map((container) => container.params.video_url)).toEqual([staged[0]]);

    let result = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    for (let attempt = 0; attempt < 3 && result.status === 'pending'; attempt += 1) {
      result = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: result.resumeToken!, credentials });
    }
    expect(result).toMatchObject({ status: 'published', platform: 'threads', postId: posts()[0]!.id });
    expect(released).toEqual(staged);
    const eventsBefore = sandbox.state.events.length;
    expect(await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials })).toEqual(result);
    expect(sandbox.state.events).toHaveLength(eventsBefore);
    expect(posts()).toHaveLength(1);
  });
});
