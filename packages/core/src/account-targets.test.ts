import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LetmepostError } from './letmepost-error.js';
import { sendJson, startLoopback, type Loopback } from './test-support/loopback.js';
import { connectAccount, createHarness, createTestProvider, errorOf, type TestProvider } from './test-support/test-provider.js';

const open: Loopback[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

const BOARDS = [
  { id: 'b1', name: 'Recipes', privacy: 'PUBLIC' },
  { id: 'b2', name: 'Kitchen', privacy: 'SECRET' },
  { id: 'b3', name: 'Travel', privacy: 'PUBLIC' },
];

/** A Pinterest-like API: boards two per page with a bookmark, and a set of access tokens it accepts. */
async function startBoardsApi({ acceptedTokens }: { acceptedTokens: Set<string> }): Promise<Loopback> {
  const server = await startLoopback({
    handle(request, response) {
      const url = new URL(request.url, 'http://x');
      if (url.pathname !== '/v5/boards') return sendJson({ response, status: 404, body: {} });
      const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!acceptedTokens.has(token)) return sendJson({ response, status: 401, body: { code: 2, message: 'Authentication failed.' } });
      const start = Number(url.searchParams.get('bookmark') ?? '0');
      const items = BOARDS.slice(start, start + 2);
      const bookmark = start + 2 < BOARDS.length ? String(start + 2) : null;
      return sendJson({ response, body: { items, bookmark } });
    },
  });
  open.push(server);
  return server;
}

const boardOptionsSchema = z.object({ boardId: z.string().min(1) }).strict();

function pinterestLike({ base, options = {} }: { base: string; options?: Parameters<typeof createTestProvider>[0] }): TestProvider {
  return createTestProvider({
    id: 'pinterest',
    optionsSchema: boardOptionsSchema as never,
    async listTargets({ auth, cursor, signal }) {
      if (auth.type !== 'account') throw new Error('account auth expected');
      const url = new URL(`${base}/v5/boards`);
      url.searchParams.set('page_size', '2');
      if (cursor !== undefined) url.searchParams.set('bookmark', cursor);
      const response = await fetch(url, { headers: { authorization: `Bearer ${auth.tokens.accessToken}` }, ...(signal && { signal }) });
      if (response.status === 401) throw new LetmepostError({ code: 'auth_expired', platform: 'pinterest', status: 401, message: 'token rejected' });
      const body = z
        .object({ items: z.array(z.object({ id: z.string(), name: z.string(), privacy: z.string() })), bookmark: z.string().nullable() })
        .parse(await response.json());
      return {
        targets: body.items.map((board) => ({
          id: board.id,
          name: board.name,
          kind: 'board',
          options: { boardId: board.id } as never,
          details: { privacy: board.privacy },
        })),
        ...(body.bookmark !== null && { nextCursor: body.bookmark }),
      };
    },
    ...options,
  });
}

describe('accounts.listTargets', () => {
  it('lists targets page by page with the account token on the wire, options ready for publish', async () => {
    const server = await startBoardsApi({ acceptedTokens: new Set(['access-code-1']) });
    const provider = pinterestLike({ base: server.origin });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });

    const first = await harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id });
    expect(first).toEqual({
      accountId: account!.id,
      platform: 'pinterest',
      targets: [
        { id: 'b1', name: 'Recipes', kind: 'board', options: { boardId: 'b1' }, details: { privacy: 'PUBLIC' } },
        { id: 'b2', name: 'Kitchen', kind: 'board', options: { boardId: 'b2' }, details: { privacy: 'SECRET' } },
      ],
      nextCursor: '2',
    });
    const second = await harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id, cursor: first.nextCursor! });
    expect(second.targets.map((target) => target.id)).toEqual(['b3']);
    expect(second.nextCursor).toBeUndefined();

    expect(server.requests.map((request) => [request.method, request.url, request.headers.authorization])).toEqual([
      ['GET', '/v5/boards?page_size=2', 'Bearer access-code-1'],
      ['GET', '/v5/boards?page_size=2&bookmark=2', 'Bearer access-code-1'],
    ]);

    // What listTargets offers is what publish accepts.
    const [result] = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'pin' },
      targets: [{ accountId: account!.id, options: first.targets[1]!.options }],
    });
    expect(result?.status).toBe('published');
    expect(provider.calls.publish[0]?.options).toEqual({ boardId: 'b2' });
  });

  it('refreshes an expired token first, through the same refresher as publish', async () => {
    const server = await startBoardsApi({ acceptedTokens: new Set(['access-refreshed-1']) });
    const provider = pinterestLike({ base: server.origin });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });
    harness.clock.advance(2 * 60 * 60 * 1000);

    const page = await harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id });
    expect(page.targets).toHaveLength(2);
    expect(provider.calls.refresh).toHaveLength(1);
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(['Bearer access-refreshed-1']);
    // The rotated tokens were stored: the next publish uses them without another refresh.
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: account!.id, options: { boardId: 'b1' } }] });
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish[0]?.auth).toMatchObject({ tokens: { accessToken: 'access-refreshed-1' } });
  });

  it('refreshes once and retries when the platform rejects a token our clock thought valid', async () => {
    const server = await startBoardsApi({ acceptedTokens: new Set(['access-refreshed-1']) });
    const provider = pinterestLike({ base: server.origin });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });

    const page = await harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id });
    expect(page.targets.map((target) => target.id)).toEqual(['b1', 'b2']);
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(['Bearer access-code-1', 'Bearer access-refreshed-1']);
    expect(provider.calls.refresh).toHaveLength(1);
  });

  it('masks the tokens in a provider failure', async () => {
    const provider = createTestProvider({
      id: 'pinterest',
      async listTargets({ auth }) {
        throw new TypeError(`socket hang up while sending ${auth.type === 'account' ? auth.tokens.accessToken : ''}`);
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });
    const failure = await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id }));
    expect(failure.code).toBe('platform_unavailable');
    expect(failure.message).not.toContain('access-code-1');
  });

  it("refuses targets whose options the provider's own optionsSchema rejects", async () => {
    const provider = createTestProvider({
      id: 'pinterest',
      optionsSchema: boardOptionsSchema as never,
      listTargets: async () => ({ targets: [{ id: 'b1', name: 'Recipes', kind: 'board', options: { board: 'b1' } as never }] }),
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });
    const failure = await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id }));
    expect([failure.code, failure.retryable]).toEqual(['platform_unavailable', false]);
    expect(failure.issues.map((issue) => issue.field)).toContain('listTargets.targets.0.options.boardId');
  });

  it('is not_supported for platforms without destinations, and not_found across workspaces', async () => {
    const harness = createHarness({
      providers: [createTestProvider(), createTestProvider({ id: 'pinterest', listTargets: async () => ({ targets: [] }) })],
    });
    const [linkedin] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const unsupported = await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: linkedin!.id }));
    expect([unsupported.code, unsupported.platform]).toEqual(['not_supported', 'linkedin']);

    const [pinterest] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });
    const elsewhere = await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-2', accountId: pinterest!.id }));
    expect([elsewhere.code, elsewhere.field]).toEqual(['not_found', 'accountId']);
    const missingWorkspace = await errorOf(harness.letmepost.accounts.listTargets({ accountId: pinterest!.id } as never));
    expect([missingWorkspace.code, missingWorkspace.field]).toEqual(['validation_failed', 'workspaceId']);
  });

  it('refuses an account that must be reconnected, without calling the platform', async () => {
    const provider = createTestProvider({
      id: 'pinterest',
      listTargets: async () => ({ targets: [] }),
      refresh: async () => {
        throw new LetmepostError({ code: 'reauth_required', platform: 'pinterest', message: 'invalid_grant' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'pinterest' });
    harness.clock.advance(2 * 60 * 60 * 1000);
    expect((await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id }))).code).toBe('reauth_required');
    expect((await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: account!.id }))).code).toBe('reauth_required');
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.listTargets).toHaveLength(0);
  });
});
