import { LetmepostError, type PublishAuth } from '@letmepost/core';
import nock from 'nock';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import createPostFixture from './__fixtures__/create-post.json' with { type: 'json' };
import deletePostFixture from './__fixtures__/delete-post.json' with { type: 'json' };
import error400 from './__fixtures__/error-400-invalid-request.json' with { type: 'json' };
import error401 from './__fixtures__/error-401-unauthorized.json' with { type: 'json' };
import error402 from './__fixtures__/error-402-credits-depleted.json' with { type: 'json' };
import errorClientForbidden from './__fixtures__/error-403-client-forbidden.json' with { type: 'json' };
import errorDuplicate from './__fixtures__/error-403-duplicate.json' with { type: 'json' };
import errorForbidden from './__fixtures__/error-403-forbidden.json' with { type: 'json' };
import errorReplyRestricted from './__fixtures__/error-403-reply-restricted.json' with { type: 'json' };
import error404 from './__fixtures__/error-404-not-found.json' with { type: 'json' };
import errorRateLimit from './__fixtures__/error-429-rate-limit.json' with { type: 'json' };
import errorUsageCapped from './__fixtures__/error-429-usage-capped.json' with { type: 'json' };
import error503 from './__fixtures__/error-503.json' with { type: 'json' };
import { interceptX, parseOAuthHeader, referenceOAuth1Signature, type WireCall } from './test-support/x-wire.js';
import type { TwitterCredentials } from './twitter-credentials.js';
import { createTwitter } from './twitter-provider.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ACCESS_TOKEN = 'x-access-token-c4n4ry-6d41f2';
const REFRESH_TOKEN = 'x-refresh-token-c4n4ry-0b93aa';
const CONSUMER_SECRET = 'x-consumer-secret-c4n4ry-77e1';
const TOKEN_SECRET = 'x-token-secret-c4n4ry-a09c3e';
const OAUTH1_ACCESS_TOKEN = '370773112-oauth1-access-c4n4ry-5f0e';
const CANARIES = [ACCESS_TOKEN, REFRESH_TOKEN, CONSUMER_SECRET, TOKEN_SECRET, OAUTH1_ACCESS_TOKEN];

const accountAuth: PublishAuth<TwitterCredentials> = {
  type: 'account',
  account: { platformAccountId: '1346889436626259968', username: 'letmepost_demo' },
  tokens: { accessToken: ACCESS_TOKEN, refreshToken: REFRESH_TOKEN, tokenType: 'bearer', expiresAt: NOW + 7_200_000 },
};

const credentialsAuth: PublishAuth<TwitterCredentials> = {
  type: 'credentials',
  credentials: {
    consumerKey: 'xvz1evFS4wEEPTGEFPHBog',
    consumerSecret: CONSUMER_SECRET,
    accessToken: OAUTH1_ACCESS_TOKEN,
    accessTokenSecret: TOKEN_SECRET,
  },
};

const provider = () =>
  createTwitter({ clientId: 'client-id', clientSecret: 'client-secret', clock: { now: () => NOW }, http: { retry: { sleep: async () => {} } } });

const created = (id: string, text = 'text') => ({ status: 201, body: { data: { id, text, edit_history_post_ids: [id] } } });

let calls: WireCall[];

beforeEach(() => {
  calls = [];
  nock.disableNetConnect();
});

afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  nock.enableNetConnect();
  vi.useRealTimers();
  expect(pending, 'every registered X answer was used').toEqual([]);
});

function expectNoSecrets(value: unknown): void {
  const rendered = [JSON.stringify(value), inspect(value, { depth: 8 }), value instanceof Error ? value.message : ''].join('\n');
  for (const canary of CANARIES) expect(rendered).not.toContain(canary);
}

async function publishError(options: Parameters<ReturnType<typeof provider>['publish']>[0]): Promise<LetmepostError> {
  try {
    await provider().publish(options);
  } catch (error) {
    expect(LetmepostError.isInstance(error), `expected a LetmepostError, got ${String(error)}`).toBe(true);
    expectNoSecrets(error);
    return error as LetmepostError;
  }
  throw new Error('publish resolved; expected it to throw');
}

describe('publish: text posts', () => {
  it('creates a post with the bearer token and reports its URL under the handle', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 201, body: createPostFixture } });

    const result = await provider().publish({ post: { text: 'Shipping letmepost today' }, auth: accountAuth, options: {} });

    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe('POST');
    expect(calls[0]!.path).toBe('/2/tweets');
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[0]!.text)).toEqual({ text: 'Shipping letmepost today' });
    expect(result).toEqual({
      status: 'published',
      postId: '1445880548472328192',
      url: 'https://x.com/letmepost_demo/status/1445880548472328192',
      items: [
        {
          index: 0,
          status: 'published',
          postId: '1445880548472328192',
          url: 'https://x.com/letmepost_demo/status/1445880548472328192',
        },
      ],
      warnings: [],
    });
  });

  it('appends the link on its own paragraph and sends the post options on the root only', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1445880548472328192') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1445880548472328193') });

    await provider().publish({
      post: { text: 'Release notes', link: 'https://letmepost.dev/changelog', thread: [{ text: 'Details below' }] },
      auth: accountAuth,
      options: { replySettings: 'following', madeWithAi: false, paidPartnership: true },
    });

    expect(calls.map((call) => JSON.parse(call.text))).toEqual([
      {
        text: 'Release notes\n\nhttps://letmepost.dev/changelog',
        reply_settings: 'following',
        made_with_ai: false,
        paid_partnership: true,
      },
      { text: 'Details below', reply: { in_reply_to_tweet_id: '1445880548472328192' } },
    ]);
  });

  it('signs per-request OAuth 1.0a credentials (JSON body unsigned) and uses the handle-free URL', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 201, body: createPostFixture } });

    const result = await provider().publish({ post: { text: 'Hello Ladies + Gentlemen, a signed OAuth request!' }, auth: credentialsAuth, options: {} });

    const header = calls[0]!.headers.authorization!;
    expect(header.startsWith('OAuth ')).toBe(true);
    const parameters = parseOAuthHeader(header);
    expect(parameters).toMatchObject({
      oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
      oauth_token: OAUTH1_ACCESS_TOKEN,
      oauth_signature_method: 'HMAC-SHA1',
      oauth_version: '1.0',
      oauth_timestamp: String(NOW / 1000),
    });
    expect(parameters.oauth_nonce).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(parameters.oauth_signature).toBe(
      referenceOAuth1Signature({
        method: 'POST',
        url: 'https://api.x.com/2/tweets',
        oauthParameters: parameters,
        consumerSecret: CONSUMER_SECRET,
        tokenSecret: TOKEN_SECRET,
      }),
    );
    expect(result.url).toBe('https://x.com/i/web/status/1445880548472328192');
  });

  it('checks signatures with a reference signer that reproduces X’s documented vector', () => {
    // developer.x.com "Creating a signature" (the 1.1 URL, a form body and a query parameter).
    expect(
      referenceOAuth1Signature({
        method: 'POST',
        url: 'https://api.twitter.com/1.1/statuses/update.json?include_entities=true',
        oauthParameters: {
          oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
          oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
          oauth_signature_method: 'HMAC-SHA1',
          oauth_timestamp: '1318622958',
          oauth_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
          oauth_version: '1.0',
        },
        bodyParameters: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' },
        consumerSecret: 'kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw',
        tokenSecret: 'LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE',
      }),
    ).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it('refuses malformed per-request credentials naming the field, before any request', async () => {
    const error = await publishError({
      post: { text: 'hi' },
      auth: { type: 'credentials', credentials: { consumerKey: 'key', consumerSecret: CONSUMER_SECRET, accessToken: OAUTH1_ACCESS_TOKEN } as TwitterCredentials },
      options: {},
    });
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe('credentials.accessTokenSecret');
    expect(calls).toEqual([]);
  });

  it('refuses an invalid post with every issue before any request', async () => {
    const error = await publishError({
      post: { text: 'x'.repeat(281), thread: [{ text: '' }] },
      auth: accountAuth,
      options: {},
    });
    // The same answer core's preflight gives: the declared capabilities, then X's own rules.
    expect(error.code).toBe('preflight_failed');
    expect(error.rule).toBe('twitter.text.required');
    expect(error.issues.map((issue) => [issue.rule, issue.field])).toEqual([
      ['twitter.text.required', 'thread.0.text'],
      ['twitter.text.max_length', 'text'],
    ]);
    expect(calls).toEqual([]);
  });
});

describe('publish: threads and replies', () => {
  it('chains a 3-item thread as replies to the account’s own posts, in order', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000001') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000002') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000003') });

    const result = await provider().publish({
      post: { text: 'A thread 🧵 1/3', thread: [{ text: '2/3' }, { text: '3/3' }] },
      auth: accountAuth,
      options: {},
    });

    expect(calls.map((call) => [call.method, call.path, call.headers.authorization])).toEqual([
      ['POST', '/2/tweets', `Bearer ${ACCESS_TOKEN}`],
      ['POST', '/2/tweets', `Bearer ${ACCESS_TOKEN}`],
      ['POST', '/2/tweets', `Bearer ${ACCESS_TOKEN}`],
    ]);
    expect(calls.map((call) => JSON.parse(call.text))).toEqual([
      { text: 'A thread 🧵 1/3' },
      { text: '2/3', reply: { in_reply_to_tweet_id: '1800000000000000001' } },
      { text: '3/3', reply: { in_reply_to_tweet_id: '1800000000000000002' } },
    ]);
    expect(result.status).toBe('published');
    expect(result.postId).toBe('1800000000000000001');
    expect(result.items).toEqual([
      { index: 0, status: 'published', postId: '1800000000000000001', url: 'https://x.com/letmepost_demo/status/1800000000000000001' },
      { index: 1, status: 'published', postId: '1800000000000000002', url: 'https://x.com/letmepost_demo/status/1800000000000000002' },
      { index: 2, status: 'published', postId: '1800000000000000003', url: 'https://x.com/letmepost_demo/status/1800000000000000003' },
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('reports a reply X rejects mid-thread as that item’s failure, keeps the root, and does not send the rest', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000001') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 403, body: errorReplyRestricted } });

    const result = await provider().publish({
      post: { text: '1/3', thread: [{ text: '2/3' }, { text: '3/3' }] },
      auth: accountAuth,
      options: {},
    });

    expect(calls).toHaveLength(2);
    expect(JSON.parse(calls[1]!.text)).toEqual({ text: '2/3', reply: { in_reply_to_tweet_id: '1800000000000000001' } });
    expect(result.status).toBe('published');
    expect(result.postId).toBe('1800000000000000001');
    const [root, rejected, notSent] = result.items!;
    expect(root).toEqual({ index: 0, status: 'published', postId: '1800000000000000001', url: 'https://x.com/letmepost_demo/status/1800000000000000001' });
    expect(rejected).toMatchObject({ index: 1, status: 'failed' });
    expect(rejected!.error).toMatchObject({ code: 'permission_denied', rule: 'twitter.reply.restricted', status: 403, platform: 'twitter' });
    expect(notSent).toMatchObject({ index: 2, status: 'failed' });
    expect(notSent!.error).toMatchObject({ code: 'permission_denied', rule: 'twitter.thread.not_sent' });
    expect(result.warnings).toEqual([
      {
        code: 'twitter.thread.partial',
        message: '1 of 3 posts were published on X; item 1 failed (permission_denied) and the items after it were not sent.',
      },
    ]);
    expectNoSecrets(result);
  });

  it('reports a reply whose outcome is unknown as `unknown`, never re-sending it', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000001') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 500, body: { title: 'Internal Server Error', type: 'about:blank', status: 500 } } });

    const result = await provider().publish({ post: { text: '1/2', thread: [{ text: '2/2' }] }, auth: accountAuth, options: {} });

    expect(calls).toHaveLength(2);
    expect(result.items![1]).toMatchObject({ index: 1, status: 'unknown' });
    expect(result.items![1]!.error!.code).toBe('publish_outcome_unknown');
  });

  it('posts the first comment as a reply to the root after the thread', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000001') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000002') });
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000003') });

    const result = await provider().publish({
      post: { text: 'root', thread: [{ text: 'second' }], firstComment: 'Links in the comments: https://letmepost.dev' },
      auth: accountAuth,
      options: {},
    });

    expect(calls.map((call) => JSON.parse(call.text))).toEqual([
      { text: 'root' },
      { text: 'second', reply: { in_reply_to_tweet_id: '1800000000000000001' } },
      { text: 'Links in the comments: https://letmepost.dev', reply: { in_reply_to_tweet_id: '1800000000000000001' } },
    ]);
    expect(result.items!.map((item) => [item.index, item.status, item.postId])).toEqual([
      [0, 'published', '1800000000000000001'],
      [1, 'published', '1800000000000000002'],
      [2, 'published', '1800000000000000003'],
    ]);
  });

  it('replies to an existing post given by URL', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: created('1800000000000000009') });

    await provider().publish({
      post: { text: '@someone thanks!', replyTo: 'https://x.com/someone/status/1799999999999999999?s=20' },
      auth: accountAuth,
      options: {},
    });

    expect(JSON.parse(calls[0]!.text)).toEqual({ text: '@someone thanks!', reply: { in_reply_to_tweet_id: '1799999999999999999' } });
  });

  it('throws the reply restriction when the root itself is a refused reply (nothing was posted)', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 403, body: errorReplyRestricted } });

    const error = await publishError({ post: { text: 'hello', replyTo: '1799999999999999999' }, auth: accountAuth, options: {} });

    expect(error.code).toBe('permission_denied');
    expect(error.rule).toBe('twitter.reply.restricted');
    expect(error.remediation).toContain('mentioned or quoted');
  });
});

describe('publish: error mapping from X’s structured answers', () => {
  const cases: Array<{
    name: string;
    reply: { status: number; body: unknown; headers?: Record<string, string> };
    expected: Partial<LetmepostError>;
  }> = [
    { name: '401 → auth_expired', reply: { status: 401, body: error401 }, expected: { code: 'auth_expired', status: 401, retryable: false } },
    {
      name: '403 duplicate content → duplicate_content',
      reply: { status: 403, body: errorDuplicate },
      expected: { code: 'duplicate_content', rule: 'twitter.post.duplicate', status: 403 },
    },
    {
      name: '403 about:blank → permission_denied',
      reply: { status: 403, body: errorForbidden },
      expected: { code: 'permission_denied', rule: undefined, status: 403 },
    },
    {
      name: '403 client-forbidden problem → permission_denied with the app rule',
      reply: { status: 403, body: errorClientForbidden },
      expected: { code: 'permission_denied', rule: 'twitter.app.client_forbidden' },
    },
    {
      name: '402 credits depleted → quota_exceeded',
      reply: { status: 402, body: error402 },
      expected: { code: 'quota_exceeded', rule: 'twitter.usage.capped', retryable: false, status: 402 },
    },
    {
      name: '429 usage-capped problem → quota_exceeded, not retryable',
      reply: { status: 429, body: errorUsageCapped, headers: { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(NOW / 1000 + 60) } },
      expected: { code: 'quota_exceeded', retryable: false, status: 429 },
    },
    {
      name: '429 → rate_limited with retryAfterMs from x-rate-limit-reset',
      reply: {
        status: 429,
        body: errorRateLimit,
        headers: { 'x-rate-limit-limit': '100', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(NOW / 1000 + 754) },
      },
      expected: { code: 'rate_limited', retryable: true, retryAfterMs: 754_000, status: 429 },
    },
    {
      name: '429 with remaining budget still waits for the reset',
      reply: { status: 429, body: errorRateLimit, headers: { 'x-rate-limit-reset': String(NOW / 1000 + 30) } },
      expected: { code: 'rate_limited', retryAfterMs: 30_000 },
    },
    {
      name: '400 invalid-request → platform_rejected',
      reply: { status: 400, body: error400 },
      expected: { code: 'platform_rejected', rule: 'twitter.request.invalid', status: 400 },
    },
    {
      name: '503 → platform_unavailable (X answered: nothing was created)',
      reply: { status: 503, body: error503 },
      expected: { code: 'platform_unavailable', retryable: true },
    },
    {
      name: '500 on a create → publish_outcome_unknown (never re-sent)',
      reply: { status: 500, body: { title: 'Internal Server Error', type: 'about:blank', status: 500 } },
      expected: { code: 'publish_outcome_unknown', retryable: false },
    },
  ];

  it.each(cases)('$name', async ({ reply, expected }) => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply });

    const error = await publishError({ post: { text: 'hello' }, auth: accountAuth, options: {} });

    expect(error).toMatchObject({ platform: 'twitter', ...expected });
    expect(calls).toHaveLength(1);
  });

  it('keeps X’s problem in platformResponse, with secrets masked', async () => {
    interceptX({ calls, method: 'POST', path: '/2/tweets', reply: { status: 403, body: { ...errorForbidden, detail: `token ${ACCESS_TOKEN} refused` } } });

    const error = await publishError({ post: { text: 'hello' }, auth: accountAuth, options: {} });

    expect(error.platformResponse).toMatchObject({ status: 403, body: { title: 'Forbidden', type: 'about:blank' } });
  });
});

describe('deletePost', () => {
  it('deletes with DELETE /2/tweets/{id}', async () => {
    interceptX({ calls, method: 'DELETE', path: '/2/tweets/1445880548472328192', reply: { status: 200, body: deletePostFixture } });

    await provider().deletePost!({ auth: accountAuth, postId: '1445880548472328192' });

    expect(calls).toEqual([
      expect.objectContaining({ method: 'DELETE', path: '/2/tweets/1445880548472328192', text: '' }),
    ]);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
  });

  it('accepts a post URL and maps 404 to not_found', async () => {
    interceptX({ calls, method: 'DELETE', path: '/2/tweets/1445880548472328199', reply: { status: 404, body: error404 } });

    const error = await provider()
      .deletePost!({ auth: accountAuth, postId: 'https://x.com/letmepost_demo/status/1445880548472328199' })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'not_found', status: 404, platform: 'twitter' });
    expectNoSecrets(error);
  });

  it('refuses a post id that is not one, before any request', async () => {
    const error = await provider().deletePost!({ auth: accountAuth, postId: '../users/me' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', field: 'postId' });
    expect(calls).toEqual([]);
  });
});
