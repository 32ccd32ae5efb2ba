import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLetmepost, type Account, type Letmepost, type PlatformId, type TokenStore } from '@letmepost/core';
import { expect } from 'vitest';
import { appendStderr, createWorkerGroup, deadline, type WorkerGroup, type WorkerHandle } from './child-processes.js';
import { startLoopbackPlatform, type LoopbackPlatform, type LoopbackPlatformStats } from './loopback-platform.js';
import { createLoopbackProvider, type LoopbackProviderSettings } from './loopback-provider.js';
import type { LetmepostWorkerConfig, LetmepostWorkerResult, WorkerPublishOutcome } from './letmepost-worker.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

export interface MultiProcessLetmepostOptions extends StoreModuleReference {
  /** Processes publishing at once. Default 4. */
  processes?: number;
  /** Concurrent publishes in each process. Default 25. */
  publishesPerProcess?: number;
  /** For the whole scenario. Default 120 000 ms (the lock-holder scenarios wait out a lease). */
  timeoutMs?: number;
}

export interface MultiProcessLetmepostReport {
  stats: LoopbackPlatformStats;
  outcomes: WorkerPublishOutcome[];
}

const workerUrl = (): URL => new URL('./letmepost-worker.js', import.meta.url);
const BASE_URL = 'https://app.example';

interface Scenario {
  platform: LoopbackPlatform;
  group: WorkerGroup;
  store: TokenStore;
  letmepost: Letmepost;
  account: Account;
  /** Every account the consent yielded (one grant); `account` is the first. */
  accounts: Account[];
  timeout: ReturnType<typeof deadline>;
  config(overrides?: Omit<Partial<LetmepostWorkerConfig>, 'provider'> & { provider?: Partial<LoopbackProviderSettings> }): LetmepostWorkerConfig;
  /** Races `promise` against the scenario deadline. */
  within<T>(promise: Promise<T>): Promise<T>;
}

/**
 * Starts the loopback platform, opens the store in this process, builds a `createLetmepost` on it
 * and connects one account through the real OAuth flow (authorize redirect, code + PKCE
 * exchange), exactly as a host would. Workers are then forked with `config()`; everything is torn
 * down afterwards whatever happens.
 */
async function withScenario<T>(
  options: MultiProcessLetmepostOptions,
  setup: {
    platformId: PlatformId;
    initialExpiresInSeconds: number;
    refreshDelayMs?: number;
    launchCaps?: LetmepostWorkerConfig['launchCaps'];
    /** Accounts the one consent yields. Default 1. */
    accounts?: number;
  },
  run: (scenario: Scenario) => Promise<T>,
): Promise<T> {
  const platform = await startLoopbackPlatform({
    initialExpiresInSeconds: setup.initialExpiresInSeconds,
    ...(setup.refreshDelayMs === undefined ? {} : { refreshDelayMs: setup.refreshDelayMs }),
  });
  const group = createWorkerGroup();
  const timeout = deadline(options.timeoutMs ?? 120_000, group.describeStderr);
  let store: TokenStore | undefined;
  try {
    store = await loadStore(options);
    const encryptionKey = randomBytes(32).toString('base64');
    const workspaceId = `ws-${randomUUID()}`;
    const provider: LoopbackProviderSettings = {
      id: setup.platformId,
      baseUrl: platform.url,
      clientId: platform.clientId,
      clientSecret: platform.clientSecret,
      ...(setup.accounts === undefined ? {} : { accounts: setup.accounts }),
    };
    const letmepost = createLetmepost({
      providers: [createLoopbackProvider(provider)],
      store,
      encryptionKey,
      baseUrl: BASE_URL,
      ...(setup.launchCaps === undefined ? {} : { launchCaps: setup.launchCaps }),
    });

    const { url } = await letmepost.connect.start({ workspaceId, platform: setup.platformId, allowQuickstartCreds: true });
    const consent = await fetch(url, { redirect: 'manual' });
    const callbackUrl = consent.headers.get('location');
    if (consent.status !== 302 || callbackUrl === null) throw new Error(`The loopback consent answered ${consent.status}.`);
    const accounts = await letmepost.connect.complete({ platform: setup.platformId, callbackUrl });
    const [account] = accounts;
    if (account === undefined) throw new Error('Connecting the loopback account returned no account.');

    const scenario: Scenario = {
      platform,
      group,
      store,
      letmepost,
      account,
      accounts,
      timeout,
      config: (overrides = {}) => ({
        storeModule: options.storeModule,
        storeFactory: options.storeFactory,
        storeOptions: options.storeOptions,
        encryptionKey,
        baseUrl: BASE_URL,
        workspaceId,
        accountId: account.id,
        publishes: options.publishesPerProcess ?? 25,
        ...(setup.launchCaps === undefined ? {} : { launchCaps: setup.launchCaps }),
        ...overrides,
        provider: { ...provider, ...overrides.provider },
      }),
      within: (promise) => Promise.race([promise, timeout.promise]),
    };
    return await run(scenario);
  } catch (error) {
    group.killAll();
    throw appendStderr(error, group);
  } finally {
    timeout.clear();
    group.killAll();
    await store?.close?.();
    await platform.close();
  }
}

/** Forks `count` workers, starts them together once all are ready, and collects their results. */
async function runTogether(scenario: Scenario, count: number, config: LetmepostWorkerConfig): Promise<LetmepostWorkerResult[]> {
  const workers: Array<WorkerHandle<LetmepostWorkerResult>> = Array.from({ length: count }, () =>
    scenario.group.start<LetmepostWorkerConfig, LetmepostWorkerResult>({ workerUrl: workerUrl(), config }),
  );
  await scenario.within(Promise.all(workers.map((worker) => worker.ready)));
  for (const worker of workers) worker.go();
  return scenario.within(Promise.all(workers.map((worker) => worker.done)));
}

const outcomesOf = (results: readonly LetmepostWorkerResult[]): WorkerPublishOutcome[] => results.flatMap((result) => result.results);

function expectAllPublished(outcomes: readonly WorkerPublishOutcome[], total: number): void {
  expect(outcomes).toHaveLength(total);
  const failures = outcomes.filter((outcome) => outcome.status !== 'published');
  expect(failures, 'every publish succeeds').toEqual([]);
  expect(new Set(outcomes.map((outcome) => outcome.postId)).size, 'each publish created its own post').toBe(total);
}

/**
 * Issue 5, end to end. One account whose access token has expired; `processes` Node processes
 * each build the store and `createLetmepost` and publish `publishesPerProcess` times at once. The
 * platform rotates refresh tokens and refuses a reused one, and accepts only the newest access
 * token. Asserts that exactly one refresh request reached the token endpoint and that every
 * publish succeeded with the new token.
 */
export async function runMultiProcessRefreshScenario(options: MultiProcessLetmepostOptions): Promise<MultiProcessLetmepostReport> {
  return withScenario(options, { platformId: 'mastodon', initialExpiresInSeconds: 1, refreshDelayMs: 250 }, async (scenario) => {
    // Let the seeded access token expire for real, not just enter the refresh margin.
    const expiresAt = scenario.account.expiresAt ?? Date.now();
    await sleep(Math.max(0, expiresAt - Date.now() + 20));
    const seededToken = scenario.platform.currentAccessToken();

    const processes = options.processes ?? 4;
    const perProcess = options.publishesPerProcess ?? 25;
    const outcomes = outcomesOf(await runTogether(scenario, processes, scenario.config()));
    const { stats } = scenario.platform;

    expect(stats.refreshRequests, 'refresh requests that reached the token endpoint').toBe(1);
    expect(stats.rotations).toBe(1);
    expect(stats.reusedRefreshTokens, 'nobody refreshed with a spent refresh token').toBe(0);
    expectAllPublished(outcomes, processes * perProcess);
    expect(stats.publishesAccepted).toBe(processes * perProcess);
    expect(stats.publishesRejected, 'no publish went out with the expired token').toBe(0);
    expect(scenario.platform.currentAccessToken()).not.toBe(seededToken);
    expect((await scenario.letmepost.accounts.get({ workspaceId: scenario.account.workspaceId, accountId: scenario.account.id }))?.status).toBe('active');
    return { stats: { ...stats }, outcomes };
  });
}

/**
 * Issue 9, shared grants. One consent yields `processes` accounts (a member and their pages)
 * drawing on one grant whose access token has expired; process `n` publishes only to account `n`.
 * The platform rotates refresh tokens and refuses a reused one, so a per-account lock would burn
 * the grant. Asserts that exactly one refresh reached the token endpoint and every publish, on
 * every sibling, went out with the new token.
 */
export async function runMultiProcessGrantSiblingsScenario(options: MultiProcessLetmepostOptions): Promise<MultiProcessLetmepostReport> {
  const processes = options.processes ?? 4;
  return withScenario(
    options,
    { platformId: 'mastodon', initialExpiresInSeconds: 1, refreshDelayMs: 250, accounts: processes },
    async (scenario) => {
      expect(scenario.accounts, 'one consent yields one account per process').toHaveLength(processes);
      const expiresAt = scenario.account.expiresAt ?? Date.now();
      await sleep(Math.max(0, expiresAt - Date.now() + 20));

      const perProcess = options.publishesPerProcess ?? 25;
      const outcomes = outcomesOf(
        await runTogether(scenario, processes, scenario.config({ accountIds: scenario.accounts.map((account) => account.id) })),
      );
      const { stats } = scenario.platform;
      expect(stats.refreshRequests, 'refresh requests that reached the token endpoint').toBe(1);
      expect(stats.reusedRefreshTokens, 'no sibling refreshed with a spent refresh token').toBe(0);
      expectAllPublished(outcomes, processes * perProcess);
      expect(stats.publishesRejected, 'no publish went out with the expired token').toBe(0);
      const listed = await scenario.letmepost.accounts.list({ workspaceId: scenario.account.workspaceId });
      expect(listed.map((account) => account.status)).toEqual(Array(processes).fill('active'));
      return { stats: { ...stats }, outcomes };
    },
  );
}

export interface RefreshLockHolderOptions extends MultiProcessLetmepostOptions {
  /**
   * `killed`: the holder is SIGKILLed while its refresh request is in flight (the platform never
   * processes it). `stalled`: the holder freezes past its lease with its refresh request
   * unanswered, and comes back after another process has refreshed.
   */
  holder: 'killed' | 'stalled';
}

export interface RefreshLockHolderReport extends MultiProcessLetmepostReport {
  /** How long after the holder's refresh request the followers' one arrived (the lease running out). */
  takeoverAfterMs: number;
  holder?: LetmepostWorkerResult;
}

/**
 * A process takes the account's refresh lock and dies (or freezes) in the middle of the refresh.
 * Asserts that the other processes wait for the lease to run out, then exactly one of them
 * refreshes and they all publish; that the account is never marked `reauth_required`; and, for a
 * frozen holder that wakes up to an `invalid_grant`, that its late write, fenced with its expired
 * lease, is rejected by the store.
 */
export async function runMultiProcessRefreshLockHolderScenario(options: RefreshLockHolderOptions): Promise<RefreshLockHolderReport> {
  return withScenario(options, { platformId: 'mastodon', initialExpiresInSeconds: 1 }, async (scenario) => {
    const expiresAt = scenario.account.expiresAt ?? Date.now();
    await sleep(Math.max(0, expiresAt - Date.now() + 20));
    const processes = options.processes ?? 4;
    const perProcess = options.publishesPerProcess ?? 25;
    const { platform } = scenario;

    const hold = platform.holdNextRefresh();
    const holder = scenario.group.start<LetmepostWorkerConfig, LetmepostWorkerResult>({
      workerUrl: workerUrl(),
      config: scenario.config({ publishes: 1, provider: options.holder === 'stalled' ? { ignoreRefreshAbort: true } : {} }),
    });
    await scenario.within(holder.ready);
    holder.go();
    // The holder is inside the refresh lock with its request at the token endpoint.
    await scenario.within(hold.received);

    if (options.holder === 'killed') {
      holder.child.kill('SIGKILL');
      await scenario.within(holder.exited);
      await scenario.within(hold.clientGone);
      hold.release();
    }

    const outcomes = outcomesOf(await runTogether(scenario, processes, scenario.config()));
    expectAllPublished(outcomes, processes * perProcess);

    let holderResult: LetmepostWorkerResult | undefined;
    if (options.holder === 'stalled') {
      // The frozen holder wakes up: its refresh token has been used since, so the platform
      // answers invalid_grant, and core tries to mark the account reauth_required under a lease
      // that expired long ago.
      hold.release();
      holderResult = await scenario.within(holder.done);
      expect(holderResult.results).toEqual([{ status: 'failed', code: 'reauth_required' }]);
      const rejectedWrite = holderResult.logs.find((line) => line.message === 'letmepost.account.status_write_failed');
      expect(rejectedWrite?.fields?.errorCode, "the dead holder's fenced write was rejected").toBe('store_conflict');
      expect(platform.stats.reusedRefreshTokens).toBe(1);
    } else {
      expect(platform.stats.abandonedRefreshes).toBe(1);
      expect(platform.stats.reusedRefreshTokens).toBe(0);
    }

    const { stats } = platform;
    expect(stats.refreshRequests, "the holder's request and exactly one follower's").toBe(2);
    expect(stats.rotations, 'exactly one refresh rotated the grant').toBe(1);
    expect(stats.publishesAccepted).toBe(processes * perProcess);

    // Still usable: not marked for reconnection, and a further publish goes out with the
    // followers' token without another refresh.
    expect((await scenario.letmepost.accounts.get({ workspaceId: scenario.account.workspaceId, accountId: scenario.account.id }))?.status).toBe('active');
    const [again] = await scenario.letmepost.publish({
      workspaceId: scenario.account.workspaceId,
      post: { text: 'after the takeover' },
      targets: [{ accountId: scenario.account.id }],
    });
    expect(again?.status).toBe('published');
    expect(platform.stats.rotations).toBe(1);

    const [holderArrival = 0, followerArrival = 0] = stats.refreshArrivals;
    return { stats: { ...platform.stats }, outcomes, takeoverAfterMs: followerArrival - holderArrival, holder: holderResult };
  });
}

/**
 * `processes` processes publish `publishesPerProcess` times at once to one X-like account
 * (platform `twitter`, whose launch cap core enforces) with a cap of `limit` billable posts.
 * Asserts that exactly `limit` publishes went out and every other one failed with
 * `launch_cap_reached` before reaching the platform.
 */
export async function runMultiProcessLaunchCapScenario(
  options: MultiProcessLetmepostOptions & { limit?: number },
): Promise<MultiProcessLetmepostReport> {
  const processes = options.processes ?? 4;
  const perProcess = options.publishesPerProcess ?? 25;
  const limit = options.limit ?? Math.floor((processes * perProcess) / 3);
  return withScenario(
    options,
    { platformId: 'twitter', initialExpiresInSeconds: 3600, launchCaps: { twitter: { limit } } },
    async (scenario) => {
      const outcomes = outcomesOf(await runTogether(scenario, processes, scenario.config()));
      const { stats } = scenario.platform;
      expect(outcomes).toHaveLength(processes * perProcess);
      const published = outcomes.filter((outcome) => outcome.status === 'published');
      expect(published, 'exactly `limit` publishes went out across all processes').toHaveLength(limit);
      expect(outcomes.filter((outcome) => outcome.status !== 'published')).toEqual(
        Array.from({ length: processes * perProcess - limit }, () => ({ status: 'failed', code: 'launch_cap_reached' })),
      );
      expect(stats.publishesAccepted, 'the platform received exactly `limit` creates').toBe(limit);
      expect(stats.publishesRejected).toBe(0);
      return { stats: { ...stats }, outcomes };
    },
  );
}

/**
 * Tenant isolation on a real store: a connected account answers only to its own workspace. A
 * publish naming no workspace, or another one, is refused before anything reaches the platform,
 * and removing it from another workspace is `not_found`.
 */
export async function runCrossTenantScenario(options: MultiProcessLetmepostOptions): Promise<{ stats: LoopbackPlatformStats }> {
  return withScenario(options, { platformId: 'mastodon', initialExpiresInSeconds: 3600 }, async (scenario) => {
    const { letmepost, account } = scenario;
    const post = { text: 'not your account' };
    const refusal = async (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

    expect(await refusal(letmepost.publish({ post, targets: [{ accountId: account.id }] }))).toMatchObject({
      code: 'validation_failed',
      field: 'workspaceId',
      rule: 'publish.workspace_required',
    });
    expect(await refusal(letmepost.publish({ workspaceId: `${account.workspaceId}-other`, post, targets: [{ accountId: account.id }] }))).toMatchObject({
      code: 'validation_failed',
      field: 'targets.0.accountId',
      rule: 'target.account_not_found',
    });
    expect(await refusal(letmepost.accounts.remove({ workspaceId: `${account.workspaceId}-other`, accountId: account.id }))).toMatchObject({
      code: 'not_found',
    });
    expect(scenario.platform.stats.publishesAccepted + scenario.platform.stats.publishesRejected, 'nothing reached the platform').toBe(0);

    const [own] = await letmepost.publish({ workspaceId: account.workspaceId, post: { text: 'my own account' }, targets: [{ accountId: account.id }] });
    expect(own?.status).toBe('published');
    return { stats: { ...scenario.platform.stats } };
  });
}
