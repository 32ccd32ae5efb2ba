import { afterEach, describe, expect, it } from 'vitest';
import type { TokenSet } from './account.js';
import { LetmepostError } from './letmepost-error.js';
import { sendJson, startLoopback, type Loopback } from './test-support/loopback.js';
import {
  connectAccount,
  createHarness,
  createTestProvider,
  errorOf,
  type Harness,
  type TestProvider,
} from './test-support/test-provider.js';

const DAY = 24 * 60 * 60 * 1000;
const TOKEN_LIFETIME = 60 * DAY;

/**
 * A platform shaped like Meta's long-lived tokens: a token lives 60 days, and the only way to keep
 * it is to exchange the still-valid token for a fresh one (`grant_type=ig_refresh_token`); an
 * expired token cannot be refreshed. It reads the harness's clock, so 70 days pass in a test.
 */
async function startMetaLikePlatform({ now }: { now: () => number }) {
  const live = new Map<string, number>();
  let issued = 0;
  let failNextRefreshWith: number | undefined;
  const issue = (): { access_token: string; expires_in: number } => {
    issued += 1;
    const token = `long-lived-${issued}`;
    live.set(token, now() + TOKEN_LIFETIME);
    return { access_token: token, expires_in: TOKEN_LIFETIME / 1000 };
  };
  const isLive = (token: string): boolean => (live.get(token) ?? 0) > now();
  const server: Loopback = await startLoopback({
    handle: (request, response) => {
      const url = new URL(request.url, 'http://127.0.0.1');
      if (request.method === 'GET' && url.pathname === '/refresh_access_token') {
        if (failNextRefreshWith !== undefined) {
          const status = failNextRefreshWith;
          failNextRefreshWith = undefined;
          return sendJson({ response, status, body: { error: { message: 'Service temporarily unavailable', code: 2 } } });
        }
        const token = url.searchParams.get('access_token') ?? '';
        if (url.searchParams.get('grant_type') !== 'ig_refresh_token' || !isLive(token)) {
          return sendJson({ response, status: 400, body: { error: { message: 'Session has expired', code: 190 } } });
        }
        return sendJson({ response, body: { ...issue(), token_type: 'bearer' } });
      }
      if (request.method === 'POST' && url.pathname === '/me/media_publish') {
        const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
        if (!isLive(token)) return sendJson({ response, status: 401, body: { error: { message: 'Session has expired', code: 190 } } });
        return sendJson({ response, body: { id: `media-${now()}` } });
      }
      return sendJson({ response, status: 404, body: { error: { message: 'unknown', code: 100 } } });
    },
  });
  return {
    server,
    issue,
    failNextRefresh: ({ status }: { status: number }) => {
      failNextRefreshWith = status;
    },
    refreshRequests: () => server.requests.filter((request) => request.url.startsWith('/refresh_access_token')),
  };
}

type Platform = Awaited<ReturnType<typeof startMetaLikePlatform>>;

/** The provider side: what an Instagram-style provider does, against the loopback platform. */
function metaLikeProvider({ platform, harness }: { platform: Platform; harness: () => Harness }): TestProvider {
  const toTokens = (body: { access_token: string; expires_in: number }): TokenSet => ({
    accessToken: body.access_token,
    expiresAt: harness().clock.now() + body.expires_in * 1000,
  });
  return createTestProvider({
    auth: { kind: 'oauth2', scopes: { write: ['instagram_business_content_publish'], extended: [] }, pkce: false, refresh: 'none' },
    exchangeCode: async () => toTokens(platform.issue()),
    refresh: async ({ tokens, signal }) => {
      const url = new URL('/refresh_access_token', platform.server.origin);
      url.searchParams.set('grant_type', 'ig_refresh_token');
      url.searchParams.set('access_token', tokens.accessToken);
      const response = await fetch(url, { signal: signal ?? null });
      const body = (await response.json()) as { access_token: string; expires_in: number; error?: { code: number } };
      if (response.ok) return toTokens(body);
      // Structured fields only: 190 is a dead session, anything else is the platform's trouble.
      throw new LetmepostError({
        code: body.error?.code === 190 ? 'reauth_required' : 'platform_unavailable',
        platform: 'instagram',
        status: response.status,
        message: `The token endpoint answered ${response.status}.`,
      });
    },
    publish: async ({ auth }) => {
      const token = auth.type === 'account' ? auth.tokens.accessToken : '';
      const response = await fetch(new URL('/me/media_publish', platform.server.origin), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { id?: string };
      if (response.status === 401) throw new LetmepostError({ code: 'auth_expired', platform: 'instagram', message: 'expired' });
      return { status: 'published', postId: body.id as string, warnings: [] };
    },
  });
}

async function setup() {
  let harness: Harness | undefined;
  const platform = await startMetaLikePlatform({ now: () => (harness as Harness).clock.now() });
  const provider = metaLikeProvider({ platform, harness: () => harness as Harness });
  harness = createHarness({ providers: [provider] });
  const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
  return { harness, platform, provider, accountId: account!.id };
}

describe('accounts.refreshDue', () => {
  const servers: Loopback[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('keeps a 60-day token alive over 70 days with a daily run, and the account publishes on day 70', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);

    for (let day = 1; day <= 70; day++) {
      harness.clock.advance(DAY);
      await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    }

    // The first token enters the 7-day window on day 53 and is exchanged then; its successor
    // would not be due before day 106, so 70 days take exactly one exchange.
    expect(platform.refreshRequests()).toHaveLength(1);
    const [refresh] = platform.refreshRequests();
    expect(refresh?.method).toBe('GET');
    expect(refresh?.url).toBe('/refresh_access_token?grant_type=ig_refresh_token&access_token=long-lived-1');

    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'day 70' }, targets: [{ accountId }] });
    expect(result).toMatchObject({ status: 'published', accountId });
    expect(platform.server.requests.at(-1)).toMatchObject({ method: 'POST', url: '/me/media_publish' });
    expect(platform.server.requests.at(-1)?.headers.authorization).toBe('Bearer long-lived-2');
    expect((await harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId })).status).toBe('active');
  });

  it('without it, the unused token dies after 60 days and the account must be reconnected', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);

    harness.clock.advance(70 * DAY);
    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'day 70' }, targets: [{ accountId }] });

    expect(result?.status).toBe('failed');
    expect(result?.error?.code).toBe('reauth_required');
    expect((await harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId })).status).toBe('reauth_required');
  });

  it('reports what it did: refreshed grants with their accounts, and nothing for grants not yet due', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);

    harness.clock.advance(10 * DAY);
    const early = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(early).toEqual({ checked: 1, refreshed: [], failed: [], notRefreshable: [], needsReconnect: [] });
    expect(platform.refreshRequests()).toHaveLength(0);

    harness.clock.advance(45 * DAY); // day 55: five days left
    const { grantId } = await harness.grantOf({ workspaceId: 'ws-1', accountId });
    const due = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(due).toEqual({
      checked: 1,
      refreshed: [
        { workspaceId: 'ws-1', grantId, platform: 'linkedin', accountIds: [accountId], expiresAt: harness.clock.now() + TOKEN_LIFETIME },
      ],
      failed: [],
      notRefreshable: [],
      needsReconnect: [],
    });
  });

  it('a token endpoint failing with 5xx one day leaves the grant active and untouched; the next run recovers', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);
    const before = await harness.grantOf({ workspaceId: 'ws-1', accountId });

    harness.clock.advance(55 * DAY);
    platform.failNextRefresh({ status: 503 });
    const failedRun = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(failedRun.failed).toEqual([
      { workspaceId: 'ws-1', grantId: before.grantId, platform: 'linkedin', accountIds: [accountId], code: 'platform_unavailable', reauthRequired: false },
    ]);
    const afterFailure = await harness.grantOf({ workspaceId: 'ws-1', accountId });
    expect(afterFailure.record.status).toBe('active');
    expect(afterFailure.record.tokens).toBe(before.record.tokens);

    harness.clock.advance(DAY);
    const nextRun = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(nextRun.refreshed).toHaveLength(1);
    expect(platform.refreshRequests()).toHaveLength(2);
    expect(((await harness.open({ key: before.key, field: 'tokens' })) as TokenSet).accessToken).toBe('long-lived-2');
  });

  it('a permanent refusal marks the grant for reconnection and later runs list it without calling the platform', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);
    const { grantId } = await harness.grantOf({ workspaceId: 'ws-1', accountId });

    harness.clock.advance(61 * DAY); // already dead: the exchange is refused with code 190
    const first = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(first.failed).toEqual([
      { workspaceId: 'ws-1', grantId, platform: 'linkedin', accountIds: [accountId], code: 'reauth_required', reauthRequired: true },
    ]);
    const second = await harness.letmepost.accounts.refreshDue({ within: 7 * DAY });
    expect(second.needsReconnect).toEqual([{ workspaceId: 'ws-1', grantId, platform: 'linkedin', accountIds: [accountId] }]);
    expect(platform.refreshRequests()).toHaveLength(1);
  });

  it('covers every workspace by default and one when asked, and lists grants it cannot refresh', async () => {
    const provider = createTestProvider({ without: ['refresh'] });
    const harness = createHarness({ providers: [provider] });
    const [first] = await connectAccount({ harness, workspaceId: 'ws-a', code: 'a' });
    const [second] = await connectAccount({ harness, workspaceId: 'ws-b', code: 'b' });
    harness.clock.advance(30 * 60 * 1000); // the test provider's tokens last an hour

    const all = await harness.letmepost.accounts.refreshDue({ within: DAY });
    expect(all.checked).toBe(2);
    expect(all.notRefreshable.map((grant) => [grant.workspaceId, grant.accountIds])).toEqual([
      ['ws-a', [first!.id]],
      ['ws-b', [second!.id]],
    ]);

    const one = await harness.letmepost.accounts.refreshDue({ within: DAY, workspaceId: 'ws-b' });
    expect(one.checked).toBe(1);
    expect(one.notRefreshable.map((grant) => grant.workspaceId)).toEqual(['ws-b']);
  });

  it('shares one refresh with a publish racing it (single flight), so a rotating token is spent once', async () => {
    const { harness, platform, accountId } = await setup();
    servers.push(platform.server);
    harness.clock.advance(60 * DAY - 30_000); // inside the publish-time skew too

    const [report, [published]] = await Promise.all([
      harness.letmepost.accounts.refreshDue({ within: 7 * DAY }),
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'racing' }, targets: [{ accountId }] }),
    ]);
    expect(platform.refreshRequests()).toHaveLength(1);
    expect(report.refreshed).toHaveLength(1);
    expect(published?.status).toBe('published');
  });

  it('names a bad window before touching anything', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const error = await errorOf(harness.letmepost.accounts.refreshDue({ within: -1 }));
    expect(error.code).toBe('validation_failed');
    expect(error.issues.map((issue) => issue.field)).toEqual(['within']);
  });
});
