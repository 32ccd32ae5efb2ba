import type { ServerResponse } from 'node:http';
import { createEnvelopeCipher, createLetmepost, memoryTokenStore, parseEncryptionKey, type StoreEntry, type TokenSet } from '@letmepost/core';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { afterEach, describe, expect, it } from 'vitest';
import createPost from './__fixtures__/create-post.json' with { type: 'json' };
import invalidRequest from './__fixtures__/token-invalid-request.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import usersMe from './__fixtures__/users-me.json' with { type: 'json' };
import { createTwitter } from './twitter-provider.js';

/**
 * Issue 11 #20, end to end: `createLetmepost` with the real X provider, whose token endpoint is a
 * `node:http` server on 127.0.0.1. Each case connects an account through the OAuth flow, lets the
 * access token expire, and publishes, so core refreshes through the provider against whatever
 * the token endpoint answers.
 */
const ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64');
const CLIENT = { clientId: 'loopback-x-client', clientSecret: 'loopback-x-secret-c4n4ry' };
const HOUR = 3_600_000;

type TokenAnswer = (request: RecordedRequest, response: ServerResponse) => void;

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup({ refreshAnswer }: { refreshAnswer: TokenAnswer }) {
  let now = Date.UTC(2026, 0, 15, 12);
  const clock = { now: () => now };
  const refreshRequests: RecordedRequest[] = [];
  let publishes = 0;
  server = await startLoopbackServer({
    handler: (request, response) => {
      const json = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (request.method === 'POST' && request.url === '/2/oauth2/token') {
        const form = new URLSearchParams(request.text());
        if (form.get('grant_type') === 'authorization_code') return json(200, tokenResponse);
        refreshRequests.push(request);
        return refreshAnswer(request, response);
      }
      if (request.method === 'GET' && request.url.startsWith('/2/users/me')) return json(200, usersMe);
      if (request.method === 'POST' && request.url === '/2/tweets') {
        publishes += 1;
        return json(201, createPost);
      }
      return json(404, { title: 'Not Found' });
    },
  });
  const twitter = createTwitter({
    ...CLIENT,
    apiBaseUrl: server.url,
    oauthAuthorizeUrl: `${server.url}/i/oauth2/authorize`,
    clock,
    allowPrivateNetwork: true,
    // A token endpoint that never answers is given up on quickly, as a real one would be later.
    http: { timeouts: { headersMs: 300, bodyMs: 300 }, retry: { maxAttempts: 1 } },
  });
  const store = memoryTokenStore({ clock });
  const letmepost = createLetmepost({ providers: [twitter], store, encryptionKey: ENCRYPTION_KEY, baseUrl: 'https://app.example', clock });
  const { url } = await letmepost.connect.start({ workspaceId: 'ws-1', platform: 'twitter', allowQuickstartCreds: true });
  const state = new URL(url).searchParams.get('state') ?? '';
  const [account] = await letmepost.connect.complete({
    platform: 'twitter',
    callbackUrl: `https://app.example/v1/accounts/oauth/twitter/callback?code=c0de&state=${state}`,
  });
  const grantEntry = async (): Promise<StoreEntry> => {
    const [entry] = await store.list('ws/ws-1/grants/');
    if (entry === undefined) throw new Error('no grant stored');
    return entry;
  };
  const before = await grantEntry();
  now += 3 * HOUR; // X access tokens last two hours
  const publish = async () =>
    (await letmepost.publish({ workspaceId: 'ws-1', post: { text: 'after expiry' }, targets: [{ accountId: account!.id }] }))[0]!;
  const status = async () => (await letmepost.accounts.get({ workspaceId: 'ws-1', accountId: account!.id })).status;
  const advance = (ms: number) => {
    now += ms;
  };
  return { publish, status, grantEntry, before, refreshRequests, publishes: () => publishes, advance };
}

const transient: Array<{ name: string; answer: TokenAnswer; code: string }> = [
  {
    name: '503',
    answer: (_request, response) => response.writeHead(503, { 'content-type': 'application/json' }).end('{"title":"Service Unavailable"}'),
    code: 'platform_unavailable',
  },
  {
    name: '500 without a body',
    answer: (_request, response) => response.writeHead(500).end(),
    code: 'platform_unavailable',
  },
  {
    name: '429',
    answer: (_request, response) =>
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' }).end('{"title":"Too Many Requests"}'),
    code: 'rate_limited',
  },
  {
    name: 'a timeout (no answer)',
    answer: () => undefined,
    code: 'platform_unavailable',
  },
  {
    name: 'a connection reset',
    answer: (request, response) => {
      void request;
      response.socket?.destroy();
    },
    code: 'platform_unavailable',
  },
];

describe('refresh failures are classified (X OAuth 2.0 against a loopback token endpoint)', () => {
  it.each(transient)('$name keeps the account active and the stored tokens untouched', async ({ answer, code }) => {
    const { publish, status, grantEntry, before, refreshRequests, publishes } = await setup({ refreshAnswer: answer });
    const result = await publish();
    expect(result).toMatchObject({ status: 'failed', error: { code } });
    expect(refreshRequests).toHaveLength(1);
    expect(publishes()).toBe(0);
    expect(await status()).toBe('active');
    // Not one byte of the grant changed: same sealed tokens, same version.
    expect(await grantEntry()).toEqual(before);
  });

  it('retries on the next publish after a 503 and then publishes with the new tokens', async () => {
    let calls = 0;
    const { publish, status, refreshRequests, publishes } = await setup({
      refreshAnswer: (_request, response) => {
        calls += 1;
        if (calls === 1) return void response.writeHead(503).end();
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ...tokenResponse, access_token: 'second-access', refresh_token: 'second-refresh' }));
      },
    });
    expect((await publish()).status).toBe('failed');
    expect((await publish()).status).toBe('published');
    expect(refreshRequests).toHaveLength(2);
    // Both attempts spent the same (still valid) refresh token: the first never changed it.
    expect(refreshRequests.map((request) => new URLSearchParams(request.text()).get('refresh_token'))).toEqual([
      tokenResponse.refresh_token,
      tokenResponse.refresh_token,
    ]);
    expect(publishes()).toBe(1);
    expect(await status()).toBe('active');
  });

  it('a permanent answer (X invalid_request for a spent refresh token) sets reauth_required and keeps the tokens', async () => {
    const { publish, status, grantEntry, before } = await setup({
      refreshAnswer: (_request, response) =>
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(invalidRequest)),
    });
    expect(await publish()).toMatchObject({ status: 'failed', error: { code: 'reauth_required' } });
    expect(await status()).toBe('reauth_required');
    const after = await grantEntry();
    expect(JSON.parse(after.value)).toMatchObject({ status: 'reauth_required', statusReason: 'reauth_required', hasRefreshToken: true });
    expect(after.version).toBe(before.version + 1);
  });

  it('an invalid_grant answer sets reauth_required', async () => {
    const { publish, status } = await setup({
      refreshAnswer: (_request, response) =>
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant","error_description":"revoked"}'),
    });
    expect(await publish()).toMatchObject({ status: 'failed', error: { code: 'reauth_required' } });
    expect(await status()).toBe('reauth_required');
  });

  it('an answer without a refresh token never erases the stored one', async () => {
    const { refresh_token: _omitted, ...withoutRefreshToken } = tokenResponse;
    let refreshedWith: string | null = null;
    const { publish, status, publishes, grantEntry, advance } = await setup({
      refreshAnswer: (request, response) => {
        refreshedWith = new URLSearchParams(request.text()).get('refresh_token');
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...withoutRefreshToken, access_token: 'only-access' }));
      },
    });
    expect((await publish()).status).toBe('published');
    expect(refreshedWith).toBe(tokenResponse.refresh_token);
    expect(publishes()).toBe(1);
    expect(await status()).toBe('active');
    const { key, value, version } = await grantEntry();
    const cipher = createEnvelopeCipher({ keyring: parseEncryptionKey(ENCRYPTION_KEY) });
    const sealed = (JSON.parse(value) as { tokens: string }).tokens;
    const stored = JSON.parse(cipher.decrypt({ ciphertext: sealed, associatedData: `${key}#tokens`, recordVersion: version })) as TokenSet;
    expect(stored).toMatchObject({ accessToken: 'only-access', refreshToken: tokenResponse.refresh_token });

    // And the next refresh sends it again.
    advance(3 * HOUR);
    expect((await publish()).status).toBe('published');
    expect(refreshedWith).toBe(tokenResponse.refresh_token);
  });
});
