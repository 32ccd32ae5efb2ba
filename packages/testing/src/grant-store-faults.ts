import { randomBytes } from 'node:crypto';
import {
  createLetmepost,
  LetmepostError,
  type Letmepost,
  type LogLevel,
  type ProviderV2,
  type StoreEntry,
  type TokenSet,
  type TokenStore,
} from '@letmepost/core';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TEXT_ONLY_CAPABILITIES } from './multi-process/loopback-provider.js';

export interface GrantStoreFaultSuiteOptions {
  /** Suite title, e.g. `postgres`. */
  name: string;
  /** A fresh store handle on a dedicated key space; the suite closes it. */
  openStore: () => Promise<TokenStore> | TokenStore;
  /**
   * Kills the store's live connections from the outside (PostgreSQL `pg_terminate_backend`,
   * Redis `CLIENT KILL`), as a failover or a restarted server would. Omitted for stores without
   * connections (SQLite).
   */
  breakConnections?: (store: TokenStore) => Promise<void>;
  cleanup?: () => Promise<void> | void;
}

const HOUR = 3_600_000;
/** The suite's outage outlasts core's write retries (8 s) before the store comes back. */
const HELD_TOKENS_TIMEOUT_MS = 30_000;

interface RotatingPlatform {
  provider: ProviderV2<{ accessToken: string }, Record<string, never>>;
  refreshCalls: number;
  /** Publishes refused because they carried anything but the newest access token. */
  staleTokenPublishes: number;
  /** Refreshes refused because their refresh token was already spent. */
  reusedRefreshTokens: number;
  /** Runs inside the next refresh, after the platform rotated the grant. */
  duringNextRefresh?: () => Promise<void>;
}

/**
 * A platform that rotates refresh tokens and accepts only the newest access token, as an
 * in-process provider: what these checks exercise is the store under core, not HTTP.
 */
function rotatingPlatform({ now }: { now: () => number }): RotatingPlatform {
  let generation = 0;
  let current = { accessToken: 'access-0', refreshToken: 'refresh-0' };
  const platform: RotatingPlatform = {
    refreshCalls: 0,
    staleTokenPublishes: 0,
    reusedRefreshTokens: 0,
    provider: {
      specificationVersion: 'v2',
      id: 'mastodon',
      displayName: 'Rotating test platform',
      auth: { kind: 'credentials' },
      credentialSchema: z.object({ accessToken: z.string() }),
      accountSchema: z.looseObject({}),
      optionsSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
      capabilities: TEXT_ONLY_CAPABILITIES,
      connectWithCredentials: async () => ({
        account: { platformAccountId: 'rotating-user', kind: 'person' },
        tokens: { ...current, expiresAt: now() + HOUR },
      }),
      refresh: async ({ tokens }): Promise<TokenSet> => {
        platform.refreshCalls += 1;
        if (tokens.refreshToken !== current.refreshToken) {
          platform.reusedRefreshTokens += 1;
          throw new LetmepostError({ code: 'reauth_required', platform: 'mastodon', message: 'invalid_grant: refresh token already used' });
        }
        generation += 1;
        current = { accessToken: `access-${generation}`, refreshToken: `refresh-${generation}` };
        const during = platform.duringNextRefresh;
        platform.duringNextRefresh = undefined;
        await during?.();
        return { ...current, expiresAt: now() + HOUR };
      },
      validate: () => [],
      publish: async ({ auth }) => {
        const presented = auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken;
        if (presented !== current.accessToken) {
          platform.staleTokenPublishes += 1;
          throw new LetmepostError({ code: 'auth_expired', platform: 'mastodon', status: 401, message: 'invalid_token' });
        }
        return { status: 'published', postId: `post-${randomBytes(4).toString('hex')}`, warnings: [] };
      },
    },
  };
  return platform;
}

/** Makes grant writes fail with a retryable `store_unavailable` while `failing()` says so. */
function withFailingGrantWrites(inner: TokenStore, failing: () => boolean): TokenStore {
  return {
    get: (key) => inner.get(key),
    set: async (key, value, options) => {
      if (key.includes('/grants/') && failing()) {
        throw new LetmepostError({ code: 'store_unavailable', message: 'Could not reach the store (ECONNRESET).', retryable: true });
      }
      return inner.set(key, value, options);
    },
    delete: (key, options) => inner.delete(key, options),
    list: (prefix, options) => inner.list(prefix, options),
    increment: (key, options) => inner.increment(key, options),
    withLock: (key, fn, options) => inner.withLock(key, fn, options),
  };
}

interface Setup {
  letmepost: Letmepost;
  platform: RotatingPlatform;
  accountId: string;
  workspaceId: string;
  logs: Array<{ level: LogLevel; message: string }>;
  grantEntry(): Promise<StoreEntry>;
  publish(): Promise<{ status: string; code?: string }>;
}

/**
 * Registers the checks of issue 11 #3 and #4 against one store: rotated tokens survive a store
 * that fails or loses its connections in the middle of a refresh, and a replayed older grant
 * record is refused instead of reviving spent tokens.
 */
export function runGrantStoreFaultSuite(options: GrantStoreFaultSuiteOptions): void {
  const opened: TokenStore[] = [];
  describe(`grants on the ${options.name} store under faults`, () => {
    afterAll(async () => {
      for (const store of opened) await store.close?.();
      await options.cleanup?.();
    });

    async function prepare({ wrap }: { wrap?: (store: TokenStore) => TokenStore } = {}): Promise<Setup> {
      const raw = await options.openStore();
      opened.push(raw);
      const store = wrap === undefined ? raw : wrap(raw);
      let now = Date.now();
      const platform = rotatingPlatform({ now: () => now });
      const logs: Setup['logs'] = [];
      const letmepost = createLetmepost({
        providers: [platform.provider],
        store,
        encryptionKey: randomBytes(32).toString('base64'),
        baseUrl: 'https://app.example',
        clock: { now: () => now },
        logger: { log: (level, message) => void logs.push({ level, message }) },
      });
      const workspaceId = `ws-faults-${randomBytes(6).toString('hex')}`;
      const account = await letmepost.connect.withCredentials({ workspaceId, platform: 'mastodon', credentials: { accessToken: 'x' } });
      now += 2 * HOUR; // the access token has expired
      return {
        letmepost,
        platform,
        accountId: account.id,
        workspaceId,
        logs,
        grantEntry: async () => {
          const [entry] = await raw.list(`ws/${workspaceId}/grants/`);
          if (entry === undefined) throw new Error('no grant stored');
          return entry;
        },
        publish: async () => {
          const [result] = await letmepost.publish({ workspaceId, post: { text: 'hello' }, targets: [{ accountId: account.id }] });
          return { status: result?.status ?? 'missing', ...(result?.error === undefined ? {} : { code: result.error.code }) };
        },
      };
    }

    async function expectRotatedAndUsable(setup: Setup): Promise<void> {
      expect(setup.platform.reusedRefreshTokens, 'no refresh spent an old refresh token').toBe(0);
      expect(await setup.publish()).toEqual({ status: 'published' });
      expect(setup.platform.refreshCalls, 'the stored tokens are the rotated ones').toBe(1);
      expect((await setup.letmepost.accounts.get({ workspaceId: setup.workspaceId, accountId: setup.accountId })).status).toBe('active');
    }

    it('rotated tokens are written when the store fails the first writes after a refresh', async () => {
      let failures = 0;
      const setup = await prepare({ wrap: (store) => withFailingGrantWrites(store, () => failures-- > 0) });
      failures = 3;
      expect(await setup.publish()).toEqual({ status: 'published' });
      expect(setup.platform.refreshCalls).toBe(1);
      expect(setup.logs.filter((line) => line.message === 'letmepost.grant.write_retry')).toHaveLength(3);
      await expectRotatedAndUsable(setup);
    });

    it(
      'rotated tokens are held through a longer outage and written by the next publish, without a second refresh',
      async () => {
        let down = false;
        const setup = await prepare({ wrap: (store) => withFailingGrantWrites(store, () => down) });
        down = true;
        expect(await setup.publish()).toEqual({ status: 'failed', code: 'store_unavailable' });
        expect(setup.platform.refreshCalls).toBe(1);
        down = false;
        await expectRotatedAndUsable(setup);
        expect(setup.logs.some((line) => line.message === 'letmepost.grant.held_tokens_written')).toBe(true);
      },
      HELD_TOKENS_TIMEOUT_MS,
    );

    if (options.breakConnections !== undefined) {
      const breakConnections = options.breakConnections;
      it('rotated tokens are written when the store loses its connections in the middle of the refresh', async () => {
        const setup = await prepare();
        const raw = opened[opened.length - 1]!;
        setup.platform.duringNextRefresh = () => breakConnections(raw);
        expect(await setup.publish()).toEqual({ status: 'published' });
        expect(setup.platform.refreshCalls).toBe(1);
        await expectRotatedAndUsable(setup);
      });
    }

    it('a replayed older grant record is refused with decryption_failed', async () => {
      const setup = await prepare();
      const captured = await setup.grantEntry();
      expect(await setup.publish()).toEqual({ status: 'published' }); // refreshes: the grant is rewritten
      const store = opened[opened.length - 1]!;
      await store.set(captured.key, captured.value);
      expect(await setup.publish()).toEqual({ status: 'failed', code: 'decryption_failed' });
      expect(setup.platform.refreshCalls).toBe(1);
      expect(setup.platform.staleTokenPublishes).toBe(0);
    });
  });
}
