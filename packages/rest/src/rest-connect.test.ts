import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore, type AnyProvider, type PlatformId, type ProviderTargetPage } from '@letmepost/core';
import { createLoopbackProvider } from '@letmepost/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRestHandler } from './rest-handler.js';
import { authenticateTestKeys } from './test-support/authenticate.js';

const BASE = 'http://api.test';

interface Recorded {
  params: unknown[];
  targetCursors: Array<string | undefined>;
  publishedOptions: unknown[];
}

/**
 * A small OAuth provider behind the real contract (the testing kit's loopback provider, its
 * network methods replaced): two accounts per login, boards as targets.
 */
function oauthProvider({ id, recorded, extra = {} }: { id: PlatformId; recorded: Recorded; extra?: Partial<AnyProvider> }): AnyProvider {
  const base = createLoopbackProvider({ id, baseUrl: 'http://127.0.0.1:9', clientId: `${id}-client`, clientSecret: 'canary-rest-secret-0001' });
  return {
    ...base,
    auth: { kind: 'oauth2', scopes: { write: ['write'], extended: [] }, pkce: true, refresh: 'none' },
    optionsSchema: z.object({ boardId: z.string() }).strict().optional(),
    authorizationUrl({ client, redirectUri, state, params }) {
      recorded.params.push(params);
      const origin = (params as { instanceUrl?: string } | undefined)?.instanceUrl ?? `https://auth.${id}.test`;
      const url = new URL('/oauth/authorize', origin);
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      return url;
    },
    async exchangeCode() {
      return { accessToken: 'rest-access-token' };
    },
    async listAccounts() {
      return [
        { platformAccountId: 'acct-1', kind: 'person', displayName: 'Alice', avatarUrl: 'https://cdn.test/a.png' },
        { platformAccountId: 'acct-2', kind: 'page', displayName: 'Alice Bakery' },
      ];
    },
    async listTargets({ cursor }): Promise<ProviderTargetPage> {
      recorded.targetCursors.push(cursor);
      return cursor === undefined
        ? { targets: [{ id: 'b1', name: 'Recipes', kind: 'board', options: { boardId: 'b1' }, details: { isSecret: false } }], nextCursor: 'page-2' }
        : { targets: [{ id: 'b2', name: 'Travel', kind: 'board', options: { boardId: 'b2' } }] };
    },
    validate: () => [],
    async publish({ options }) {
      recorded.publishedOptions.push(options);
      return { status: 'published', postId: 'p1', warnings: [] };
    },
    ...extra,
  } as AnyProvider;
}

let recorded: Recorded;
let handler: (request: Request) => Promise<Response>;

beforeEach(() => {
  recorded = { params: [], targetCursors: [], publishedOptions: [] };
  const letmepost = createLetmepost({
    providers: [
      oauthProvider({ id: 'pinterest', recorded }),
      oauthProvider({
        id: 'mastodon',
        recorded,
        extra: {
          connectParamsSchema: z.object({ instanceUrl: z.url({ protocol: /^https$/ }) }),
          connectInstance: ({ params }: { params: { instanceUrl: string } }) => new URL(params.instanceUrl).host,
        } as Partial<AnyProvider>,
      }),
    ],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: BASE,
  });
  handler = createRestHandler({ letmepost, authenticate: authenticateTestKeys });
});

async function call(options: { method: string; path: string; key?: string; body?: unknown }) {
  const response = await handler(
    new Request(options.path.startsWith('http') ? options.path : `${BASE}${options.path}`, {
      method: options.method,
      headers: {
        authorization: `Bearer ${options.key ?? 'key-a'}`,
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    }),
  );
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

function callbackFor(url: string, platform = 'pinterest'): string {
  const state = new URL(url).searchParams.get('state') ?? '';
  return `${BASE}/v1/accounts/oauth/${platform}/callback?code=c1&state=${encodeURIComponent(state)}`;
}

describe('REST: account choice', () => {
  it('redirects the callback with a selection id; the host page reads the candidates and posts the choice', async () => {
    const session = await call({
      method: 'POST',
      path: '/v1/connect/sessions',
      body: { platform: 'pinterest', allow_quickstart_creds: true, choose_accounts: true, return_to: 'https://app.test/connected' },
    });
    expect(session.status).toBe(201);
    const callback = await handler(new Request(callbackFor(session.json!.url)));
    expect(callback.status).toBe(303);
    const location = new URL(callback.headers.get('location')!);
    expect(location.origin + location.pathname).toBe('https://app.test/connected');
    expect(location.searchParams.has('connected')).toBe(false);
    const selectionId = location.searchParams.get('selection')!;
    expect(selectionId).toMatch(/^sel_/);

    const shown = await call({ method: 'GET', path: `/v1/connect/selections/${selectionId}` });
    expect(shown.status).toBe(200);
    expect(shown.json!.data).toMatchObject({
      id: selectionId,
      expires_at: expect.any(String),
      candidates: [
        { platform: 'pinterest', platform_account_id: 'acct-1', kind: 'person', display_name: 'Alice', avatar_url: 'https://cdn.test/a.png' },
        { platform: 'pinterest', platform_account_id: 'acct-2', kind: 'page', display_name: 'Alice Bakery' },
      ],
    });
    expect((await call({ method: 'GET', path: '/v1/accounts' })).json!.data).toEqual([]);

    const otherTenant = await call({ method: 'GET', path: `/v1/connect/selections/${selectionId}`, key: 'key-b' });
    expect([otherTenant.status, otherTenant.json!.error.code]).toEqual([400, 'state_invalid']);

    const wrongId = await call({ method: 'POST', path: `/v1/connect/selections/${selectionId}`, body: { platform_account_ids: ['acct-9'] } });
    expect([wrongId.status, wrongId.json!.error.field]).toEqual([422, 'platform_account_ids.0']);

    const chosen = await call({ method: 'POST', path: `/v1/connect/selections/${selectionId}`, body: { platform_account_ids: ['acct-2'] } });
    expect(chosen.status).toBe(201);
    expect(chosen.json!.data).toMatchObject([{ platform: 'pinterest', platform_account_id: 'acct-2', status: 'active' }]);
    expect((await call({ method: 'GET', path: '/v1/accounts' })).json!.data).toHaveLength(1);

    const spent = await call({ method: 'POST', path: `/v1/connect/selections/${selectionId}`, body: { platform_account_ids: ['acct-1'] } });
    expect([spent.status, spent.json!.error.code]).toEqual([400, 'state_invalid']);
  });

  it('answers a callback without returnTo with the selection in JSON', async () => {
    const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'pinterest', allow_quickstart_creds: true, choose_accounts: true } });
    const callback = await handler(new Request(callbackFor(session.json!.url)));
    const body = (await callback.json()) as Record<string, any>;
    expect(callback.status).toBe(200);
    expect(body.data).toEqual([]);
    expect(body.selection.candidates.map((candidate: { platform_account_id: string }) => candidate.platform_account_id)).toEqual(['acct-1', 'acct-2']);
  });
});

describe('REST: connect params and per-instance app credentials', () => {
  it('passes snake_case params through, camelCased, and names a bad one in snake_case', async () => {
    const started = await call({
      method: 'POST',
      path: '/v1/connect/sessions',
      body: { platform: 'mastodon', allow_quickstart_creds: true, params: { instance_url: 'https://social.example' } },
    });
    expect(started.status).toBe(201);
    expect(new URL(started.json!.url).origin).toBe('https://social.example');
    expect(recorded.params).toEqual([{ instanceUrl: 'https://social.example' }]);

    const bad = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'mastodon', allow_quickstart_creds: true, params: {} } });
    expect([bad.status, bad.json!.error.code, bad.json!.error.field]).toEqual([422, 'validation_failed', 'params.instance_url']);
  });

  it('stores, lists and deletes app credentials per instance', async () => {
    const put = await call({
      method: 'POST',
      path: '/v1/platform-credentials',
      body: { platform: 'mastodon', instance: 'Social.Example', client_id: 'own', client_secret: 'canary-own-secret-77' },
    });
    expect(put.status).toBe(201);
    expect(put.json!.data).toMatchObject({ platform: 'mastodon', instance: 'social.example', client_id: 'own' });
    const started = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'mastodon', params: { instance_url: 'https://social.example' } } });
    expect(new URL(started.json!.url).searchParams.get('client_id')).toBe('own');

    const listed = await call({ method: 'GET', path: '/v1/platform-credentials' });
    expect(listed.json!.data).toMatchObject([{ platform: 'mastodon', instance: 'social.example', client_id: 'own' }]);
    expect(JSON.stringify(listed.json)).not.toContain('canary-own-secret-77');

    const removed = await handler(new Request(`${BASE}/v1/platform-credentials/mastodon?instance=social.example`, { method: 'DELETE', headers: { authorization: 'Bearer key-a' } }));
    expect(removed.status).toBe(204);
    expect((await call({ method: 'GET', path: '/v1/platform-credentials' })).json!.data).toEqual([]);
  });
});

describe('REST: GET /v1/accounts/{id}/targets', () => {
  async function connectPinterest(): Promise<string> {
    const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform: 'pinterest', allow_quickstart_creds: true } });
    const callback = await handler(new Request(callbackFor(session.json!.url)));
    return ((await callback.json()) as { data: Array<{ id: string }> }).data[0]!.id;
  }

  it('lists targets in snake_case with the next cursor, pages on, and the options publish as they are', async () => {
    const accountId = await connectPinterest();
    const first = await call({ method: 'GET', path: `/v1/accounts/${accountId}/targets` });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      data: [{ id: 'b1', name: 'Recipes', kind: 'board', options: { board_id: 'b1' }, details: { is_secret: false } }],
      meta: { next_cursor: 'page-2' },
    });
    const second = await call({ method: 'GET', path: `/v1/accounts/${accountId}/targets?cursor=page-2` });
    expect(second.json).toMatchObject({ data: [{ id: 'b2', options: { board_id: 'b2' } }], meta: { next_cursor: null } });
    expect(recorded.targetCursors).toEqual([undefined, 'page-2']);

    const posted = await call({
      method: 'POST',
      path: '/v1/posts',
      body: { post: { text: 'pin' }, targets: [{ account_id: accountId, options: first.json!.data[0].options }] },
    });
    expect(posted.json!.data[0].status).toBe('published');
    expect(recorded.publishedOptions).toEqual([{ boardId: 'b1' }]);
  });

  it("answers 404 for another workspace's account and 401 without a key", async () => {
    const accountId = await connectPinterest();
    const other = await call({ method: 'GET', path: `/v1/accounts/${accountId}/targets`, key: 'key-b' });
    expect([other.status, other.json!.error.code]).toEqual([404, 'not_found']);
    const anonymous = await call({ method: 'GET', path: `/v1/accounts/${accountId}/targets`, key: 'nobody' });
    expect(anonymous.status).toBe(401);
  });
});
