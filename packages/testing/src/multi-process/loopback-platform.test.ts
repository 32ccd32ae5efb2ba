import { createHash } from 'node:crypto';
import { LetmepostError, type ClientCredentials, type TokenSet } from '@letmepost/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoopbackPlatform, type LoopbackPlatform } from './loopback-platform.js';
import { createLoopbackProvider } from './loopback-provider.js';

/**
 * The loopback platform is the referee of the multi-process scenarios: if it were lenient (a
 * reused refresh token accepted, an old access token let through), those scenarios could pass
 * with a broken store. These tests hold it to the strictness the scenarios rely on.
 */
describe('loopback platform and provider', () => {
  let platform: LoopbackPlatform | undefined;
  afterEach(async () => {
    await platform?.close();
    platform = undefined;
  });

  const redirectUri = 'https://app.example/v1/accounts/oauth/mastodon/callback';
  const verifier = 'a-verifier-that-is-long-enough-for-pkce-0123456789';
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  async function connect(started: LoopbackPlatform): Promise<{ tokens: TokenSet; client: ClientCredentials }> {
    const provider = createLoopbackProvider({ id: 'mastodon', baseUrl: started.url, clientId: started.clientId, clientSecret: started.clientSecret });
    const client = { clientId: started.clientId, clientSecret: started.clientSecret };
    const url = await provider.authorizationUrl!({ client, redirectUri, state: 'state-0123456789', codeChallenge: challenge, scopes: ['write'] });
    const consent = await fetch(url, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callbackUrl = new URL(consent.headers.get('location')!);
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(redirectUri);
    const tokens = await provider.exchangeCode!({ client, redirectUri, callbackUrl, state: 'state-0123456789', codeVerifier: verifier });
    return { tokens, client };
  }

  it('exchanges a code only with the matching PKCE verifier, once', async () => {
    platform = await startLoopbackPlatform();
    const provider = createLoopbackProvider({ id: 'mastodon', baseUrl: platform.url, clientId: platform.clientId, clientSecret: platform.clientSecret });
    const client = { clientId: platform.clientId, clientSecret: platform.clientSecret };
    const url = await provider.authorizationUrl!({ client, redirectUri, state: 'state-abcdefgh', codeChallenge: challenge, scopes: ['write'] });
    const callbackUrl = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
    await expect(
      provider.exchangeCode!({ client, redirectUri, callbackUrl, state: 'state-abcdefgh', codeVerifier: `${verifier}-wrong` }),
    ).rejects.toMatchObject({ code: 'platform_auth_failed' });
    // The failed attempt spent the code.
    await expect(provider.exchangeCode!({ client, redirectUri, callbackUrl, state: 'state-abcdefgh', codeVerifier: verifier })).rejects.toMatchObject({
      code: 'platform_auth_failed',
    });
  });

  it('rotates refresh tokens and answers a reused one with invalid_grant (reauth_required)', async () => {
    platform = await startLoopbackPlatform();
    const { tokens, client } = await connect(platform);
    const provider = createLoopbackProvider({ id: 'mastodon', baseUrl: platform.url, clientId: platform.clientId, clientSecret: platform.clientSecret });

    const refreshed = await provider.refresh!({ tokens, client });
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(refreshed.accessToken).toBe(platform.currentAccessToken());

    const reused = await provider.refresh!({ tokens, client }).catch((error: unknown) => error);
    expect(LetmepostError.isInstance(reused) && reused.code).toBe('reauth_required');
    expect(platform.stats).toMatchObject({ refreshRequests: 2, rotations: 1, reusedRefreshTokens: 1 });
  });

  it('accepts a create only with the newest access token', async () => {
    platform = await startLoopbackPlatform();
    const { tokens, client } = await connect(platform);
    const provider = createLoopbackProvider({ id: 'mastodon', baseUrl: platform.url, clientId: platform.clientId, clientSecret: platform.clientSecret });
    const account = { platformAccountId: 'loopback-user-1' };
    const post = { text: 'hello' };

    const first = await provider.publish({ post, options: {}, auth: { type: 'account', account, tokens } });
    expect(first).toMatchObject({ status: 'published', postId: 'post-1' });

    const refreshed = await provider.refresh!({ tokens, client });
    const stale = await provider.publish({ post, options: {}, auth: { type: 'account', account, tokens } }).catch((error: unknown) => error);
    expect(LetmepostError.isInstance(stale) && stale.code).toBe('auth_expired');
    const fresh = await provider.publish({ post, options: {}, auth: { type: 'account', account, tokens: refreshed } });
    expect(fresh).toMatchObject({ status: 'published', postId: 'post-2' });
    expect(platform.stats).toMatchObject({ publishesAccepted: 2, publishesRejected: 1 });
  });

  it('holds a refresh until released and judges it against the grant at that moment', async () => {
    platform = await startLoopbackPlatform();
    const { tokens, client } = await connect(platform);
    const provider = createLoopbackProvider({ id: 'mastodon', baseUrl: platform.url, clientId: platform.clientId, clientSecret: platform.clientSecret });

    const hold = platform.holdNextRefresh();
    const held = provider.refresh!({ tokens, client }).catch((error: unknown) => error);
    await hold.received;
    // Another caller refreshes with the same token while the first is held: it wins.
    await provider.refresh!({ tokens, client });
    hold.release();
    const late = await held;
    expect(LetmepostError.isInstance(late) && late.code).toBe('reauth_required');
    expect(platform.stats).toMatchObject({ refreshRequests: 2, rotations: 1, reusedRefreshTokens: 1 });
  });
});
