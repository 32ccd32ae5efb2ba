import { createHash, randomBytes } from 'node:crypto';
import type { ClientCredentials, TokenSet } from '@letmepost/core';
import { createFacebook, FACEBOOK_WRITE_SCOPES } from '@letmepost/provider-facebook';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveSandboxConsent } from './sandbox-consent.js';
import { facebookPages } from './sandbox-facebook.js';
import { startSandbox, type Sandbox } from './sandbox-server.js';

// The real Facebook provider, pointed at the sandbox only through its base-URL settings.

const redirectUri = 'http://127.0.0.1:3000/v1/accounts/oauth/facebook/callback';
const client: ClientCredentials = { clientId: 'fb-app', clientSecret: 'fb-secret' };

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await startSandbox({ apps: [{ platform: 'facebook', ...client, clientSecret: 'fb-secret', redirectUris: [redirectUri] }] });
});
afterEach(async () => sandbox.close());

function provider() {
  return createFacebook({ ...client, ...sandbox.endpoints.facebook, http: { retry: { maxAttempts: 1 } } });
}

async function connect(options: { scopes: readonly string[] } = { scopes: FACEBOOK_WRITE_SCOPES }): Promise<TokenSet> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorizeUrl = await provider().authorizationUrl!({ client, redirectUri, state, codeChallenge: createHash('sha256').update(verifier).digest('base64url'), scopes: options.scopes });
  expect(authorizeUrl.pathname).toBe('/facebook/www/v26.0/dialog/oauth');
  const callbackUrl = await approveSandboxConsent({ authorizeUrl });
  return provider().exchangeCode!({ client, redirectUri, callbackUrl, state, codeVerifier: verifier });
}

async function firstPage() {
  const tokens = await connect();
  const accounts = await provider().listAccounts!({ tokens, client });
  const account = accounts[0]!;
  return { type: 'account' as const, account, tokens: account.tokens! };
}

describe('Facebook against the sandbox', () => {
  it('one login yields a long-lived user token and every Page, Business Portfolio Pages included', async () => {
    const tokens = await connect();
    expect(tokens.expiresAt! - Date.now()).toBeGreaterThan(59 * 86_400_000);
    expect(sandbox.state.events.filter((event) => event.platform === 'facebook' && event.kind === 'token').map((event) => event.summary)).toEqual([
      'grant_type=authorization_code',
      'grant_type=fb_exchange_token',
    ]);
    const accounts = await provider().listAccounts!({ tokens, client });
    expect(accounts.map((account) => account.platformAccountId)).toEqual(facebookPages.map((page) => page.id));
    expect(accounts.every((account) => account.tokens?.secrets?.appsecretProof !== undefined)).toBe(true);
  });

  it('a login without pages_show_list lists nothing, and says which permission is missing', async () => {
    const tokens = await connect({ scopes: ['pages_manage_posts', 'pages_read_engagement'] });
    await expect(provider().listAccounts!({ tokens, client })).rejects.toMatchObject({ code: 'permission_denied', rule: 'facebook.accounts.permission_not_granted' });
  });

  it('publishes text, link, several photos, a streamed video and a Reel, with a first comment, then deletes', async () => {
    const auth = await firstPage();
    const facebook = provider();
    const text = await facebook.publish({ post: { text: 'Fresh bread', link: 'https://letmepost.dev', firstComment: 'Menu inside' }, auth, options: {} });
    expect(text).toMatchObject({ status: 'published', warnings: [] });
    const photos = await facebook.publish({
      post: { text: 'Two loaves', media: [{ url: 'https://media.example/1.jpg', mimeType: 'image/jpeg' }, { data: new Uint8Array(randomBytes(3000)), mimeType: 'image/png' }] },
      auth,
      options: {},
    });
    const video = await facebook.publish({
      post: {
        text: 'Counter',
        media: [
          {
            stream: (async function* () {
              for (let index = 0; index < 4; index += 1) yield new Uint8Array(randomBytes(64 * 1024));
            })(),
            size: 4 * 64 * 1024,
            mimeType: 'video/mp4',
          },
        ],
      },
      auth,
      options: {},
    });
    const reel = await facebook.publish({ post: { text: 'Reel', media: [{ data: new Uint8Array(randomBytes(5000)), mimeType: 'video/mp4' }] }, auth, options: { videoFormat: 'reel' } });
    const posts = sandbox.state.posts.filter((post) => post.platform === 'facebook');
    expect(posts.map((post) => post.id)).toEqual([text.postId, expect.stringMatching(/_/), photos.postId, video.postId, reel.postId]);
    expect(posts[1]).toMatchObject({ text: 'Menu inside', replyTo: text.postId });
    expect(posts[2]!.mediaIds).toHaveLength(2);
    await facebook.deletePost!({ auth, postId: text.postId! });
    expect(sandbox.state.posts.find((post) => post.id === text.postId)?.deleted).toBe(true);
  });

  it('maps the sandbox’s Graph errors: duplicate, throttling with its usage header, a token of another Page', async () => {
    const auth = await firstPage();
    const facebook = provider();
    await facebook.publish({ post: { text: 'Same again' }, auth, options: {} });
    await expect(facebook.publish({ post: { text: 'Same again' }, auth, options: {} })).rejects.toMatchObject({ code: 'duplicate_content' });
    sandbox.setFault('facebook', { kind: 'rate_limit', resetSeconds: 120, remaining: 1 });
    await expect(facebook.publish({ post: { text: 'Later' }, auth, options: {} })).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 120_000 });
    const otherPage = { ...auth, account: { ...auth.account, platformAccountId: '880002', data: { pageId: '880002' } } };
    await expect(facebook.publish({ post: { text: 'Wrong token' }, auth: otherPage, options: {} })).rejects.toMatchObject({ code: 'permission_denied' });
  });

  it('refuses a wrong appsecret_proof, as Graph does for apps that require it', async () => {
    const auth = await firstPage();
    const forged = { ...auth, tokens: { ...auth.tokens, secrets: { appsecretProof: 'f'.repeat(64) } } };
    await expect(provider().publish({ post: { text: 'x' }, auth: forged, options: {} })).rejects.toMatchObject({ code: 'platform_rejected' });
  });
});
