import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createEnvelopeCipher,
  createLetmepost,
  isCiphertext,
  keyIdOf,
  LetmepostError,
  parseEncryptionKey,
  PLATFORM_IDS,
  rotateEncryptionKey,
  type Account,
  type EncryptionKeyInput,
  type EnvelopeCipher,
  type Letmepost,
  type PlatformId,
  type RotateEncryptionKeyProgress,
  type RotateEncryptionKeyResult,
  type TokenStore,
} from '@letmepost/core';
import { expect } from 'vitest';
import { appendStderr, createWorkerGroup, deadline } from './child-processes.js';
import type { KeyRotationProgressMessage, KeyRotationWorkerConfig, KeyRotationWorkerResult } from './key-rotation-worker.js';
import { startLoopbackPlatform, type LoopbackPlatform } from './loopback-platform.js';
import { createLoopbackProvider } from './loopback-provider.js';
import { loadStore, type StoreModuleReference } from './store-module.js';

export interface KeyRotationScenarioOptions extends StoreModuleReference {
  /**
   * Records holding sealed secrets when the rotation starts (connected accounts, workspace OAuth
   * apps, a pending connect session; the bulk are workspace OAuth apps). Default 10 000.
   */
  records?: number;
  /** Entries per `list` page in every rotation run. Default 250. */
  batchSize?: number;
  /**
   * The first run is SIGKILLed half a page after its first progress report with at least this
   * many records re-wrapped. Default 30 % of `records`.
   */
  interruptAfter?: number;
  /** For the whole scenario. Default 120 000 ms. */
  timeoutMs?: number;
}

export interface KeyRotationScenarioReport {
  keyIds: { old: string; new: string };
  /** Records holding sealed secrets; the rotation's subject. */
  records: number;
  /** Every entry in the store, sealed or not (indexes hold no secrets). */
  entries: number;
  interrupted: {
    /** The last progress the killed process reported before it died. */
    lastProgress: RotateEncryptionKeyProgress;
    progressReports: number;
    /** Records found under each key once the process was dead. */
    recordsUnderNewKey: number;
    recordsUnderOldKey: number;
    /** Records the process re-wrapped after its last report: the page it was killed in. */
    rewrappedAfterLastReport: number;
  };
  /** The second process, resuming after the last reported key. */
  resumed: RotateEncryptionKeyResult;
  /** A full pass with only the new key in the keyring, after the resumed run. */
  confirmation: RotateEncryptionKeyResult;
  timings: {
    /** Connecting the accounts and writing every record through `createLetmepost`. */
    seedMs: number;
    /** From releasing the first process until it was killed. */
    interruptedRunMs: number;
    /** The resumed rotation inside its process (without process start). */
    resumedRunMs: number;
    confirmationRunMs: number;
    /** Reading every record four times: after seeding, after the kill and after the rotation (opening each), at the end. */
    storeScansMs: number;
    /** Accounts, publishes and connect flows through `createLetmepost` with only the new key. */
    letmepostChecksMs: number;
    totalMs: number;
  };
}

const BASE_URL = 'https://app.example';
const SEED_CONCURRENCY = 16;
/** How far the TTL of a re-written entry may drift: the time one `set` takes, generously. */
const TTL_TOLERANCE_MS = 1_000;
/**
 * After the kill, how long to let a write the dying process had already handed to the server
 * (a PostgreSQL statement, a Redis script) land before the store is read.
 */
const SETTLE_AFTER_KILL_MS = 250;
const POLL_INTERVAL_MS = 2;

/**
 * The accounts connected through the real OAuth flow, each on its own loopback platform (each
 * platform honours only its newest grant). The Mastodon one holds an access token that expires
 * after a second, so its first publish after the rotation must refresh with the sealed refresh
 * token and the sealed OAuth app.
 */
const CONNECTED: ReadonlyArray<{ platform: PlatformId; expiresInSeconds: number }> = [
  { platform: 'mastodon', expiresInSeconds: 1 },
  { platform: 'linkedin', expiresInSeconds: 3600 },
  { platform: 'pinterest', expiresInSeconds: 3600 },
];
/** The platform whose connect session is left pending (sealed, with a TTL) across the rotation. */
const PENDING_PLATFORM: PlatformId = 'linkedin';
/** Each connected workspace holds its OAuth app and the account; one session is pending. */
const CONNECTED_SEALED_RECORDS = CONNECTED.length * 2 + 1;

const workerUrl = (): URL => new URL('./key-rotation-worker.js', import.meta.url);

/**
 * Issue requirement: "`rotateEncryptionKey()` over 10,000 records, interrupted and resumed,
 * leaves every record readable under the new key", on the store under test, with real processes.
 *
 * 1. Seeds the store through `createLetmepost` under the old key: accounts connected through the
 *    real OAuth flow (loopback platforms), their workspaces' OAuth apps, a pending connect session
 *    (a TTL entry), and workspace OAuth apps in bulk up to `records` sealed records, so every
 *    envelope is sealed by core itself with core's associated data.
 * 2. Runs the rotation (new key current, old key previous) in a child process; once it has
 *    reported `interruptAfter` records re-wrapped and the store shows it half way through the
 *    next page, SIGKILLs it among that page's writes. Every record must then open under the
 *    mixed keyring, each wholly under one key, the re-wrapped ones exactly those up to where
 *    the process died.
 * 3. Resumes in a second child process after the last reported key, then checks that every
 *    envelope in the store carries the new key id, that every record opens with a keyring holding
 *    only the new key to the same plaintext as before, that nothing else in any record changed
 *    and each was written exactly once, that TTLs carried over, and that `createLetmepost` with
 *    only the new key lists the accounts, refreshes, publishes and completes the pending session.
 *
 * The store must be dedicated to the run (a fresh file, schema or key prefix): the rotation
 * covers every entry in it.
 */
export async function runKeyRotationScenario(options: KeyRotationScenarioOptions): Promise<KeyRotationScenarioReport> {
  const { records, batchSize, interruptAfter, timeoutMs } = parseScenarioOptions(options);
  const storeReference: StoreModuleReference = {
    storeModule: options.storeModule,
    storeFactory: options.storeFactory,
    storeOptions: options.storeOptions,
  };
  const startedAt = performance.now();
  const group = createWorkerGroup();
  const timeout = deadline(timeoutMs, group.describeStderr);
  const within = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, timeout.promise]);
  const platforms = new Map<PlatformId, LoopbackPlatform>();
  let store: TokenStore | undefined;
  let storeScansMs = 0;
  const scan = async (cipher?: EnvelopeCipher): Promise<StoreSnapshot> => {
    const scanStartedAt = performance.now();
    const snapshot = await within(
      scanStore({ store: store!, batchSize, maxEntries: records * 2 + 10_000, ...(cipher === undefined ? {} : { cipher }) }),
    );
    storeScansMs += performance.now() - scanStartedAt;
    return snapshot;
  };

  try {
    for (const { platform, expiresInSeconds } of CONNECTED) {
      platforms.set(platform, await startLoopbackPlatform({ initialExpiresInSeconds: expiresInSeconds }));
    }
    store = await within(loadStore(storeReference));
    const existing = await within(store.list('', { limit: 1 }));
    if (existing.length > 0) {
      throw new Error(
        'runKeyRotationScenario needs a store of its own (a fresh file, schema or key prefix): it rotates every entry, and this one already holds some.',
      );
    }

    const oldKey = { id: `old-${randomBytes(3).toString('hex')}`, key: randomBytes(32).toString('base64') };
    const newKey = { id: `new-${randomBytes(3).toString('hex')}`, key: randomBytes(32).toString('base64') };
    const mixedKeyring = { current: newKey, previous: [oldKey] };
    const providers = PLATFORM_IDS.map((id) => {
      // Platforms without a connected account are only named in OAuth apps and authorization URLs.
      const platform = platforms.get(id) ?? platforms.values().next().value!;
      return createLoopbackProvider({ id, baseUrl: platform.url, clientId: platform.clientId, clientSecret: platform.clientSecret });
    });
    const letmepostWith = (encryptionKey: EncryptionKeyInput): Letmepost =>
      createLetmepost({ providers, store: store!, encryptionKey, baseUrl: BASE_URL });

    // 1. Seed under the old key.
    const seedStartedAt = performance.now();
    const bulkRecords = records - CONNECTED_SEALED_RECORDS;
    const bulkWorkspaces = Math.ceil(bulkRecords / PLATFORM_IDS.length);
    const seeded = await within(
      seedConnectedAccounts({ letmepost: letmepostWith({ current: oldKey }), platforms, bulkWorkspaces }),
    );
    const bulk = await within(seedWorkspaceApps({ letmepost: letmepostWith({ current: oldKey }), count: bulkRecords }));
    const seedMs = performance.now() - seedStartedAt;

    // Not opened here: an envelope whose sealed data is kept byte for byte (checked below) and
    // that opens afterwards under the same associated data holds the same plaintext.
    const before = await scan();
    expectNone('records that are not laid out as core lays them out after seeding', before.failures);
    expect(before.sealed, 'records holding sealed secrets after seeding').toBe(records);
    expect(before.recordsByKeyId).toEqual({ [oldKey.id]: records });

    // 2. Rotate in a child process and kill it in the middle.
    const first = group.start<KeyRotationWorkerConfig, KeyRotationWorkerResult>({
      workerUrl: workerUrl(),
      config: { ...storeReference, encryptionKey: mixedKeyring, batchSize },
    });
    await within(first.ready);
    let lastProgress: RotateEncryptionKeyProgress | undefined;
    let progressReports = 0;
    const thresholdReached = new Promise<RotateEncryptionKeyProgress>((resolve) => {
      first.child.on('message', (message: unknown) => {
        if (!isProgressMessage(message)) return;
        progressReports += 1;
        lastProgress = message.progress;
        if (message.progress.rewrapped >= interruptAfter) resolve(message.progress);
      });
    });
    const releasedAt = performance.now();
    first.go();
    const threshold = await within(Promise.race([thresholdReached, first.done.then(() => undefined)]));
    // The kill must land among the writes of the page after the report, not while the process
    // lists it: wait until the record half a page further on is re-wrapped, then kill at once.
    const sealedKeys = [...before.entries].filter(([, entry]) => entry.keyId !== undefined).map(([key]) => key);
    const target = threshold === undefined ? undefined : sealedKeys[Math.min(threshold.rewrapped + Math.floor(batchSize / 2), records - 1)]!;
    if (target !== undefined) {
      // A store that lost that write must not hold the scenario until its deadline: the next
      // report ends the wait too.
      await within(untilRewrapped({ store, key: target, keyId: newKey.id, child: first.child, movedOn: () => lastProgress !== threshold }));
    }
    const finished = threshold === undefined || first.child.exitCode !== null;
    first.child.kill('SIGKILL');
    const killedAt = performance.now();
    if (finished) {
      throw new Error(
        `The first rotation run finished before it could be interrupted at ${interruptAfter} records; lower interruptAfter or raise records.`,
      );
    }
    await within(first.exited);
    expect(first.child.signalCode, 'the first rotation process died by SIGKILL').toBe('SIGKILL');
    await sleep(SETTLE_AFTER_KILL_MS);
    const reported = lastProgress!;
    expect(reported.alreadyCurrent, 'a first run finds nothing under the new key').toBe(0);

    const midway = await scan(createEnvelopeCipher({ keyring: parseEncryptionKey(mixedKeyring) }));
    expectNone('records that do not open under { current: new, previous: [old] } after the kill', midway.failures);
    expectNone('workspace OAuth apps whose sealed secret is not the one given to appCredentials.put', wrongSecrets({ snapshot: midway, bulk }));
    expectNone('records changed by the interrupted run beyond re-wrapping', compareSnapshots({ before, after: midway, newKeyId: newKey.id }));
    const underNew = midway.recordsByKeyId[newKey.id] ?? 0;
    const underOld = midway.recordsByKeyId[oldKey.id] ?? 0;
    expect(underNew + underOld, 'every record under exactly one key, none half re-wrapped').toBe(records);
    expect(underNew, 'the process died inside a page, after re-wrapping part of it beyond its last report').toBeGreaterThan(reported.rewrapped);
    expect(underOld, 'the kill left records under the old key').toBeGreaterThan(0);
    expectNone('records out of rotation order after the kill', rotationOrderBreaks({ snapshot: midway, newKeyId: newKey.id, lastKey: reported.lastKey }));

    // 3. Resume in another process, after the last key the first one reported.
    const second = group.start<KeyRotationWorkerConfig, KeyRotationWorkerResult>({
      workerUrl: workerUrl(),
      config: { ...storeReference, encryptionKey: mixedKeyring, batchSize, after: reported.lastKey },
    });
    await within(second.ready);
    second.go();
    const resumed = await within(second.done);
    expect(resumed.result.rewrapped + resumed.result.alreadyCurrent, 'the resumed run covers every record after the last reported key').toBe(
      records - reported.rewrapped,
    );
    expect(resumed.result.rewrapped, 'the resumed run re-wrapped what the kill left under the old key').toBeLessThanOrEqual(underOld);
    expect(resumed.result.alreadyCurrent, 'the resumed run skipped what the killed one had already re-wrapped').toBeGreaterThanOrEqual(
      underNew - reported.rewrapped,
    );

    const newOnly = parseEncryptionKey({ current: newKey });
    const after = await scan(createEnvelopeCipher({ keyring: newOnly }));
    expectNone('records that do not open with only the new key', after.failures);
    expectNone('workspace OAuth apps whose sealed secret is not the one given to appCredentials.put', wrongSecrets({ snapshot: after, bulk }));
    expect(after.recordsByKeyId, 'every envelope in the store carries the new key id').toEqual({ [newKey.id]: records });
    expect(after.envelopesByKeyId[oldKey.id], 'envelopes left under the old key').toBeUndefined();
    expectNone('records changed by the rotation beyond re-wrapping, or written more than once', compareSnapshots({ before, after, newKeyId: newKey.id }));
    expectNone('records changed by the resumed run beyond re-wrapping', compareSnapshots({ before: midway, after, newKeyId: newKey.id }));

    const confirmationStartedAt = performance.now();
    const confirmation = await within(rotateEncryptionKey({ store, keyring: newOnly, batchSize }));
    const confirmationRunMs = performance.now() - confirmationStartedAt;
    expect(confirmation, 'a further pass with only the new key has nothing left to do').toEqual({
      scanned: before.entries.size,
      rewrapped: 0,
      alreadyCurrent: records,
    });

    // The host restarted with only the new key: everything still works through core.
    const checksStartedAt = performance.now();
    await within(checkThroughLetmepost({ letmepost: letmepostWith({ current: newKey }), platforms, seeded }));
    const letmepostChecksMs = performance.now() - checksStartedAt;
    // What core wrote since (refreshed tokens, the completed session, a new session) is under the new key too.
    const final = await scan();
    expectNone('records that are not laid out as core lays them out after using them', final.failures);
    expect(Object.keys(final.envelopesByKeyId), 'key ids in the store after using it').toEqual([newKey.id]);

    return {
      keyIds: { old: oldKey.id, new: newKey.id },
      records,
      entries: before.entries.size,
      interrupted: {
        lastProgress: reported,
        progressReports,
        recordsUnderNewKey: underNew,
        recordsUnderOldKey: underOld,
        rewrappedAfterLastReport: underNew - reported.rewrapped,
      },
      resumed: resumed.result,
      confirmation,
      timings: {
        seedMs: Math.round(seedMs),
        interruptedRunMs: Math.round(killedAt - releasedAt),
        resumedRunMs: Math.round(resumed.elapsedMs),
        confirmationRunMs: Math.round(confirmationRunMs),
        storeScansMs: Math.round(storeScansMs),
        letmepostChecksMs: Math.round(letmepostChecksMs),
        totalMs: Math.round(performance.now() - startedAt),
      },
    };
  } catch (error) {
    group.killAll();
    throw appendStderr(error, group);
  } finally {
    timeout.clear();
    group.killAll();
    await store?.close?.();
    for (const platform of platforms.values()) await platform.close();
  }
}

function parseScenarioOptions(options: KeyRotationScenarioOptions): {
  records: number;
  batchSize: number;
  interruptAfter: number;
  timeoutMs: number;
} {
  const records = options.records ?? 10_000;
  const batchSize = options.batchSize ?? 250;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const invalid = (field: string, message: string): LetmepostError => new LetmepostError({ code: 'validation_failed', field, message });
  // Bulk OAuth apps fill whole workspaces (one per platform); the connected ones need a place between them.
  const minimumRecords = CONNECTED_SEALED_RECORDS + PLATFORM_IDS.length * 4;
  if (!Number.isSafeInteger(records) || records < minimumRecords || records > 1_000_000) {
    throw invalid('records', `records must be an integer from ${minimumRecords} to 1000000.`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw invalid('batchSize', 'batchSize must be an integer from 1 to 10000.');
  }
  const interruptAfter = options.interruptAfter ?? Math.floor(records * 0.3);
  // The kill lands while the process works on the page after the report, so that page and one
  // more must still be left, or the run could finish first.
  if (!Number.isSafeInteger(interruptAfter) || interruptAfter < 1 || interruptAfter > records - 2 * batchSize) {
    throw invalid('interruptAfter', `interruptAfter must be an integer from 1 to records - 2 × batchSize (${records - 2 * batchSize}).`);
  }
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw invalid('timeoutMs', 'timeoutMs must be a positive integer.');
  }
  return { records, batchSize, interruptAfter, timeoutMs };
}

/** Polls one record until it is wrapped with `keyId`, the rotation reports again, or its process has ended. */
async function untilRewrapped({
  store,
  key,
  keyId,
  child,
  movedOn,
}: {
  store: TokenStore;
  key: string;
  keyId: string;
  child: ChildProcess;
  movedOn: () => boolean;
}): Promise<void> {
  // Bounded by the scenario deadline the caller races this against; the count is a backstop.
  for (let attempt = 0; attempt < 1_000_000; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null || movedOn()) return;
    const entry = await store.get(key);
    if (entry?.value.includes(`lmp1.${keyId}.`) || entry?.value.includes(`lmp2.${keyId}.`)) return;
    await sleep(POLL_INTERVAL_MS);
  }
}

function isProgressMessage(message: unknown): message is KeyRotationProgressMessage {
  return (
    message !== null &&
    typeof message === 'object' &&
    (message as { type?: unknown }).type === 'progress' &&
    typeof (message as { progress?: unknown }).progress === 'object'
  );
}

interface SeededAccounts {
  accounts: Array<{ platform: PlatformId; account: Account }>;
  /** The authorization URL of the connect session left pending across the rotation. */
  pendingSessionUrl: string;
  /** A workspace with bulk OAuth apps, to start a connect session from after the rotation. */
  bulkWorkspaceId: string;
}

const bulkWorkspaceId = (index: number): string => `workspace-${String(index).padStart(6, '0')}`;

/**
 * Connects one account per `CONNECTED` platform through the full OAuth flow, with the
 * workspace's own OAuth app (sealed by `appCredentials.put`), and leaves one more connect session
 * pending. The workspaces are named to sort between the bulk ones, so the interrupted run
 * re-wraps some real records and the resumed run the others.
 */
async function seedConnectedAccounts({
  letmepost,
  platforms,
  bulkWorkspaces,
}: {
  letmepost: Letmepost;
  platforms: ReadonlyMap<PlatformId, LoopbackPlatform>;
  bulkWorkspaces: number;
}): Promise<SeededAccounts> {
  const accounts: SeededAccounts['accounts'] = [];
  let pendingSessionUrl: string | undefined;
  for (const [index, { platform }] of CONNECTED.entries()) {
    const loopback = platforms.get(platform)!;
    const position = Math.floor((bulkWorkspaces * (2 * index + 1)) / (2 * CONNECTED.length));
    const workspaceId = `${bulkWorkspaceId(position)}-${platform}`;
    await letmepost.appCredentials.put({ workspaceId, platform, clientId: loopback.clientId, clientSecret: loopback.clientSecret });
    if (platform === PENDING_PLATFORM) {
      // Started first: the platform honours only its newest grant, and this one completes last.
      pendingSessionUrl = (await letmepost.connect.start({ workspaceId, platform })).url;
    }
    const { url } = await letmepost.connect.start({ workspaceId, platform });
    const [account] = await letmepost.connect.complete({ platform, callbackUrl: await consent(url) });
    if (account === undefined) throw new Error(`Connecting the ${platform} loopback account returned no account.`);
    accounts.push({ platform, account });
  }
  return { accounts, pendingSessionUrl: pendingSessionUrl!, bulkWorkspaceId: bulkWorkspaceId(0) };
}

/** Follows an authorization URL to the loopback platform's consent, which redirects straight back. */
async function consent(url: string): Promise<string> {
  const answer = await fetch(url, { redirect: 'manual' });
  await answer.body?.cancel();
  const location = answer.headers.get('location');
  if (answer.status !== 302 || location === null) throw new Error(`The loopback consent answered ${answer.status}.`);
  return location;
}

/**
 * Stores `count` workspace OAuth apps through `appCredentials.put`, one per platform per
 * workspace, so core seals each secret itself. Returns each record's store key (core's layout:
 * `ws/<workspace>/app-credentials/<platform>`) with a digest of what its sealed field must open to.
 */
async function seedWorkspaceApps({ letmepost, count }: { letmepost: Letmepost; count: number }): Promise<Array<{ key: string; digest: string }>> {
  const seeded: Array<{ key: string; digest: string }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < count) {
        const index = next++;
        const workspaceId = bulkWorkspaceId(Math.floor(index / PLATFORM_IDS.length));
        const platform = PLATFORM_IDS[index % PLATFORM_IDS.length]!;
        const clientSecret = `secret-${randomBytes(16).toString('base64url')}`;
        await letmepost.appCredentials.put({ workspaceId, platform, clientId: `client-${workspaceId}-${platform}`, clientSecret });
        seeded.push({ key: `ws/${encodeURIComponent(workspaceId)}/app-credentials/${platform}`, digest: digestOf(JSON.stringify(clientSecret)) });
      }
    }),
  );
  return seeded;
}

/**
 * With only the new key: each connected account is listed and read, and publishes (the expired
 * one after refreshing with its sealed refresh token and OAuth app); the session left pending
 * before the rotation completes; a bulk workspace's sealed OAuth app opens for a new session.
 */
async function checkThroughLetmepost({
  letmepost,
  platforms,
  seeded,
}: {
  letmepost: Letmepost;
  platforms: ReadonlyMap<PlatformId, LoopbackPlatform>;
  seeded: SeededAccounts;
}): Promise<void> {
  for (const { platform, account } of seeded.accounts) {
    const { workspaceId, id: accountId } = account;
    const listed = await letmepost.accounts.list({ workspaceId });
    expect(listed.map((item) => [item.id, item.platform, item.status])).toEqual([[accountId, platform, 'active']]);
    expect(await letmepost.accounts.get({ workspaceId, accountId })).toMatchObject({ id: accountId, platform, status: 'active' });
    const [result] = await letmepost.publish({ workspaceId, post: { text: `after the key rotation (${platform})` }, targets: [{ accountId }] });
    expect({ status: result?.status, error: result?.error?.code }, `publish to the ${platform} account`).toEqual({ status: 'published', error: undefined });
  }
  for (const { platform, expiresInSeconds } of CONNECTED) {
    const { stats } = platforms.get(platform)!;
    expect(stats.publishesAccepted, `${platform}: publishes accepted`).toBe(1);
    expect(stats.rotations, `${platform}: refreshes (only the expired account's)`).toBe(expiresInSeconds < 60 ? 1 : 0);
  }

  const pending = seeded.accounts.find(({ platform }) => platform === PENDING_PLATFORM)!.account;
  const [reconnected] = await letmepost.connect.complete({ platform: PENDING_PLATFORM, callbackUrl: await consent(seeded.pendingSessionUrl) });
  expect(reconnected?.id, 'the session sealed before the rotation completes, reconnecting the same account').toBe(pending.id);
  const [again] = await letmepost.publish({
    workspaceId: pending.workspaceId,
    post: { text: 'after reconnecting' },
    targets: [{ accountId: pending.id }],
  });
  expect(again?.status).toBe('published');

  const { url } = await letmepost.connect.start({ workspaceId: seeded.bulkWorkspaceId, platform: 'discord' });
  expect(new URL(url).searchParams.get('client_id'), "a bulk workspace's sealed OAuth app opens").toBe(`client-${seeded.bulkWorkspaceId}-discord`);
}

interface SnapshotEntry {
  version: number;
  expiresAt: number | undefined;
  /** The raw value with each envelope's key id, wrap IV and wrapped key blanked: what re-wrapping may not change. */
  shape: string;
  /** Sealed top-level fields: the key that wraps each, and a digest of what it opens to if opened. */
  fields: Record<string, { keyId: string; digest?: string }>;
  /** The one key wrapping every envelope of the entry; `(mixed)` if several, undefined if none. */
  keyId: string | undefined;
}

interface StoreSnapshot {
  /** In the order the store lists them. */
  entries: Map<string, SnapshotEntry>;
  /** Entries holding at least one envelope. */
  sealed: number;
  recordsByKeyId: Record<string, number>;
  envelopesByKeyId: Record<string, number>;
  failures: string[];
}

const ENVELOPES = /(lmp[12])\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)/g;

/**
 * Reads every entry page by page and, given a `cipher`, opens every sealed field with core's
 * associated data (`<store key>#<field>`), exactly as core opens them. Core only seals top-level
 * string fields of JSON records; an envelope anywhere else is reported.
 */
async function scanStore({
  store,
  cipher,
  batchSize,
  maxEntries,
}: {
  store: TokenStore;
  cipher?: EnvelopeCipher;
  batchSize: number;
  maxEntries: number;
}): Promise<StoreSnapshot> {
  const snapshot: StoreSnapshot = { entries: new Map(), sealed: 0, recordsByKeyId: {}, envelopesByKeyId: {}, failures: [] };
  let after: string | undefined;
  for (;;) {
    const page = await store.list('', after === undefined ? { limit: batchSize } : { limit: batchSize, after });
    for (const entry of page) {
      after = entry.key;
      const keyIds = new Set<string>();
      let envelopes = 0;
      const shape = entry.value.replace(ENVELOPES, (_match, format: string, keyId: string, _wrapIv, _wrappedKey, dataIv: string, sealedData: string) => {
        envelopes += 1;
        keyIds.add(keyId);
        snapshot.envelopesByKeyId[keyId] = (snapshot.envelopesByKeyId[keyId] ?? 0) + 1;
        return `${format}.*.*.*.${dataIv}.${sealedData}`;
      });
      const fields: SnapshotEntry['fields'] = {};
      let opened = 0;
      if (envelopes > 0) {
        snapshot.sealed += 1;
        const keyId = keyIds.size === 1 ? [...keyIds][0]! : '(mixed)';
        snapshot.recordsByKeyId[keyId] = (snapshot.recordsByKeyId[keyId] ?? 0) + 1;
        let record: unknown;
        try {
          record = JSON.parse(entry.value);
        } catch {
          snapshot.failures.push(`${entry.key}: holds an envelope but is not JSON`);
        }
        if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
          for (const [field, value] of Object.entries(record)) {
            if (!isCiphertext(value)) continue;
            opened += 1;
            if (cipher === undefined) {
              fields[field] = { keyId: keyIdOf(value)! };
              continue;
            }
            try {
              // Version-bound (lmp2) envelopes open only at their record's current version.
              const plaintext = cipher.decrypt({ ciphertext: value, associatedData: `${entry.key}#${field}`, recordVersion: entry.version });
              fields[field] = { keyId: keyIdOf(value)!, digest: digestOf(plaintext) };
            } catch (error) {
              snapshot.failures.push(`${entry.key}#${field}: ${LetmepostError.isInstance(error) ? error.code : String(error)}`);
            }
          }
        }
        if (opened !== envelopes) snapshot.failures.push(`${entry.key}: ${envelopes - opened} envelope(s) outside top-level fields`);
      }
      snapshot.entries.set(entry.key, {
        version: entry.version,
        expiresAt: entry.expiresAt,
        shape,
        fields,
        keyId: keyIds.size === 0 ? undefined : keyIds.size === 1 ? [...keyIds][0] : '(mixed)',
      });
    }
    if (snapshot.entries.size > maxEntries) throw new Error(`The store lists more than ${maxEntries} entries; is it dedicated to this run?`);
    if (page.length < batchSize) break;
  }
  return snapshot;
}

/**
 * What may differ between two snapshots of a rotation: only the wrapping of data keys, and the
 * version of an entry re-wrapped since, by exactly one (written once, never twice).
 */
function compareSnapshots({ before, after, newKeyId }: { before: StoreSnapshot; after: StoreSnapshot; newKeyId: string }): string[] {
  const differences: string[] = [];
  for (const [key, was] of before.entries) {
    const now = after.entries.get(key);
    if (now === undefined) {
      differences.push(`${key}: missing`);
      continue;
    }
    if (now.shape !== was.shape) differences.push(`${key}: changed beyond the wrapping of its data keys`);
    for (const [field, { digest }] of Object.entries(was.fields)) {
      const nowDigest = now.fields[field]?.digest;
      if (digest !== undefined && nowDigest !== undefined && nowDigest !== digest) differences.push(`${key}#${field}: opens to a different plaintext`);
    }
    const rewrapped = was.keyId !== undefined && was.keyId !== newKeyId && now.keyId === newKeyId;
    const expectedVersion = was.version + (rewrapped ? 1 : 0);
    if (now.version !== expectedVersion) differences.push(`${key}: version ${now.version}, expected ${expectedVersion}`);
    if ((was.expiresAt === undefined) !== (now.expiresAt === undefined)) {
      differences.push(`${key}: expiresAt ${String(was.expiresAt)} became ${String(now.expiresAt)}`);
    } else if (was.expiresAt !== undefined && Math.abs(now.expiresAt! - was.expiresAt) > TTL_TOLERANCE_MS) {
      differences.push(`${key}: expiresAt moved by ${now.expiresAt! - was.expiresAt} ms`);
    }
  }
  for (const key of after.entries.keys()) if (!before.entries.has(key)) differences.push(`${key}: appeared during the rotation`);
  return differences;
}

/**
 * The rotation walks the store in key order: every sealed record up to the last reported key is
 * re-wrapped, and after it the re-wrapped ones form one run ending where the process died.
 */
function rotationOrderBreaks({ snapshot, newKeyId, lastKey }: { snapshot: StoreSnapshot; newKeyId: string; lastKey: string }): string[] {
  const breaks: string[] = [];
  let reachedLastKey = false;
  let seenOld = false;
  for (const [key, entry] of snapshot.entries) {
    if (entry.keyId !== undefined) {
      const isNew = entry.keyId === newKeyId;
      if (!reachedLastKey && !isNew) breaks.push(`${key}: still under the old key, before the last reported key`);
      if (reachedLastKey && isNew && seenOld) breaks.push(`${key}: under the new key after a record still under the old one`);
      if (reachedLastKey && !isNew) seenOld = true;
    }
    if (key === lastKey) reachedLastKey = true;
  }
  if (!reachedLastKey) breaks.push(`the last reported key ${lastKey} is not in the store`);
  return breaks;
}

/** Bulk records whose sealed secret is missing or does not open to what `appCredentials.put` was given. */
function wrongSecrets({ snapshot, bulk }: { snapshot: StoreSnapshot; bulk: ReadonlyArray<{ key: string; digest: string }> }): string[] {
  return bulk
    .filter(({ key, digest }) => snapshot.entries.get(key)?.fields.clientSecret?.digest !== digest)
    .map(({ key }) => `${key}#clientSecret`);
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/** Asserts an empty list, naming the count and the first few instead of a 10 000-line diff. */
function expectNone(label: string, found: readonly string[]): void {
  const shown = found.length === 0 ? '' : ` (${found.length}, first: ${found.slice(0, 5).join('; ')})`;
  expect(found.length, `${label}${shown}`).toBe(0);
}
