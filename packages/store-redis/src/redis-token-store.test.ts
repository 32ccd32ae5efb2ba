import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { LetmepostError, type TokenStore } from '@letmepost/core';
import { runTokenStoreConformance } from '@letmepost/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL, adminClient, deletePrefix, keysUnder, manualClock, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';
import { redisTokenStore } from './redis-token-store.js';

await requireRedis();

async function settleError(promise: Promise<unknown>): Promise<LetmepostError> {
  try {
    await promise;
  } catch (error) {
    if (LetmepostError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

// The production configuration: each handle owns its client and scripts read Redis's clock.
const serverClockPrefix = uniquePrefix('conf-server');
runTokenStoreConformance({
  name: 'redis (server clock, own client per handle)',
  createStore: () => redisTokenStore({ url: REDIS_URL, keyPrefix: serverClockPrefix }),
  readRaw: async (key) => {
    const client = adminClient();
    try {
      return await client.hget(`${serverClockPrefix}entry:${key}`, 'v');
    } finally {
      client.disconnect();
    }
  },
  cleanup: () => deletePrefix(serverClockPrefix),
});

// An injected clock, and one client shared by every handle as a host would share its own; a store
// that quit a client it did not create would break every later check.
const injectedClockPrefix = uniquePrefix('conf-clock');
const conformanceClock = manualClock();
const sharedClient = new Redis(REDIS_URL);
runTokenStoreConformance({
  name: 'redis (injected clock, host client)',
  clock: conformanceClock,
  createStore: () => redisTokenStore({ client: sharedClient, keyPrefix: injectedClockPrefix, clock: conformanceClock }),
  cleanup: async () => {
    await sharedClient.quit();
    await deletePrefix(injectedClockPrefix);
  },
});

describe('redisTokenStore', () => {
  const prefix = uniquePrefix('unit');
  const admin = adminClient();
  const stores: TokenStore[] = [];
  const open = (options: Partial<Parameters<typeof redisTokenStore>[0]> = {}) => {
    const store = redisTokenStore({ url: REDIS_URL, keyPrefix: prefix, ...options });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of stores) await store.close?.();
    await deletePrefix(prefix);
    admin.disconnect();
  });

  it('lays out entries, the index, leases, fencing sequences and counters under the prefix', async () => {
    const keyPrefix = `${prefix}layout:`;
    const store = open({ keyPrefix });
    await store.set('account:1', 'v1');
    await store.set('account:2', 'v2', { ttlMs: 60_000 });
    await store.increment('cap:account:1', { windowMs: 60_000 });
    let leaseKeyDuringSection: Record<string, string> = {};
    await store.withLock(
      'refresh:account:1',
      async () => {
        leaseKeyDuringSection = await admin.hgetall(`${keyPrefix}lock:refresh:account:1`);
      },
      { ttlMs: 30_000 },
    );

    expect(await keysUnder(keyPrefix)).toEqual(
      [
        'counter-seq',
        'counter:cap:account:1',
        'entry:account:1',
        'entry:account:2',
        'fence:refresh:account:1',
        'index',
      ].map((suffix) => `${keyPrefix}${suffix}`),
    );
    expect(await admin.hgetall(`${keyPrefix}entry:account:1`)).toEqual({ v: 'v1', n: '1' });
    const withTtl = await admin.hgetall(`${keyPrefix}entry:account:2`);
    expect(withTtl).toMatchObject({ v: 'v2', n: '1' });
    // Redis's own expiry matches the logical one when the store reads the server clock.
    const pttl = await admin.pttl(`${keyPrefix}entry:account:2`);
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await admin.zrange(`${keyPrefix}index`, 0, -1)).toEqual(['account:1', 'account:2']);
    // The sequence outlives the lease and never expires, so tokens are never reused. It starts at
    // the server clock, so a sequence Redis lost would restart above the tokens issued before.
    const [seconds] = await admin.time();
    const sequence = Number(await admin.get(`${keyPrefix}fence:refresh:account:1`));
    expect(Math.abs(sequence - Number(seconds) * 1000)).toBeLessThan(10_000);
    expect(await admin.pttl(`${keyPrefix}fence:refresh:account:1`)).toBe(-1);
    expect(leaseKeyDuringSection).toMatchObject({ t: String(sequence), h: expect.stringContaining(`:${process.pid}:`) });
  });

  it('restarts a lost fencing sequence above every token it issued before', async () => {
    const clock = manualClock();
    const store = open({ keyPrefix: `${prefix}lost-sequence:`, clock });
    const first = await store.withLock('lock', async (lease) => lease.token, { ttlMs: 1_000 });
    const second = await store.withLock('lock', async (lease) => lease.token, { ttlMs: 1_000 });
    expect(second).toBe(first + 1);
    // As if a failover to a lagging replica had lost the sequence.
    await admin.del(`${prefix}lost-sequence:fence:lock`);
    clock.advance(5);
    const afterLoss = await store.withLock('lock', async (lease) => lease.token, { ttlMs: 1_000 });
    expect(afterLoss).toBeGreaterThan(second);
  });

  it('removes the TTL when an entry is written again without one', async () => {
    const store = open();
    await store.set('ttl-then-permanent', 'a', { ttlMs: 60_000 });
    await store.set('ttl-then-permanent', 'b');
    expect(await admin.pttl(`${prefix}entry:ttl-then-permanent`)).toBe(-1);
    expect(await admin.hgetall(`${prefix}entry:ttl-then-permanent`)).toEqual({ v: 'b', n: '2' });
  });

  it('skips expired and vanished entries in list() and drops them from the index', async () => {
    const clock = manualClock();
    const keyPrefix = `${prefix}lazy:`;
    const store = open({ keyPrefix, clock });
    await store.set('item:1', 'expires', { ttlMs: 1_000 });
    await store.set('item:2', 'stays');
    await store.set('item:3', 'vanishes');
    // As if Redis had evicted or expired the hash on its own.
    await admin.del(`${keyPrefix}entry:item:3`);
    clock.advance(1_001);
    expect((await store.list('item:')).map((entry) => entry.key)).toEqual(['item:2']);
    expect(await admin.zrange(`${keyPrefix}index`, 0, -1)).toEqual(['item:2']);
    expect(await admin.exists(`${keyPrefix}entry:item:1`)).toBe(0);
  });

  it('pages through more keys than one script batch, skipping expired ones in between', async () => {
    const clock = manualClock();
    const store = open({ keyPrefix: `${prefix}many:`, clock });
    const keys = Array.from({ length: 600 }, (_, index) => `k:${String(index).padStart(4, '0')}`);
    for (const [index, key] of keys.entries()) await store.set(key, key, index % 3 === 0 ? { ttlMs: 10 } : {});
    clock.advance(11);
    const live = keys.filter((_, index) => index % 3 !== 0);
    expect((await store.list('k:')).map((entry) => entry.key)).toEqual(live);
    expect((await store.list('k:', { limit: 300, after: live[9] })).map((entry) => entry.key)).toEqual(live.slice(10, 310));
  });

  it('lists keys in Unicode code point order (UTF-8 byte order)', async () => {
    const store = open({ keyPrefix: `${prefix}order:` });
    // U+FF5A sorts below U+1F600 by code point, but above it in UTF-16 code units.
    const keys = ['k:a', 'k:B', 'k:é', 'k:😀', 'k:ｚ', 'k:a b', 'k:A'];
    for (const key of keys) await store.set(key, key);
    expect((await store.list('k:')).map((entry) => entry.key)).toEqual(['k:A', 'k:B', 'k:a', 'k:a b', 'k:é', 'k:ｚ', 'k:😀']);
    expect((await store.list('k:', { after: 'k:ｚ' })).map((entry) => entry.key)).toEqual(['k:😀']);
    expect((await store.list('k:é')).map((entry) => entry.key)).toEqual(['k:é']);
    expect(await store.list('k:b')).toEqual([]);
  });

  it('reloads its scripts after the server has forgotten them', async () => {
    const store = open();
    await store.set('script-cache', 'before');
    await admin.script('FLUSH');
    expect((await store.set('script-cache', 'after', { expectedVersion: 1 })).version).toBe(2);
    expect((await store.get('script-cache'))?.value).toBe('after');
  });

  it("works on a host client that has ioredis' own keyPrefix option set", async () => {
    const hostClient = new Redis(REDIS_URL, { keyPrefix: `${prefix}host:` });
    try {
      const store = redisTokenStore({ client: hostClient, keyPrefix: 'lmp:' });
      await store.set('item:1', 'one');
      await store.set('item:2', 'two', { ttlMs: 60_000 });
      expect((await store.list('item:')).map((entry) => entry.value)).toEqual(['one', 'two']);
      // Still indexed: list() must not have mistaken the entries for vanished ones.
      expect(await admin.zrange(`${prefix}host:lmp:index`, 0, -1)).toEqual(['item:1', 'item:2']);
      expect(await admin.hget(`${prefix}host:lmp:entry:item:1`, 'v')).toBe('one');
    } finally {
      hostClient.disconnect();
    }
  });

  it('leaves a host client connected on close() and quits a client it created', async () => {
    const hostClient = new Redis(REDIS_URL);
    try {
      const borrowed = redisTokenStore({ client: hostClient, keyPrefix: prefix });
      await borrowed.set('client-test', 'x');
      await borrowed.close();
      expect(await hostClient.ping()).toBe('PONG');
      await expect(borrowed.get('client-test')).rejects.toMatchObject({ code: 'store_unavailable' });
      expect(hostClient.listenerCount('error')).toBe(0);
    } finally {
      hostClient.disconnect();
    }

    const connectionName = `lmp-owned-${process.pid}-${randomBytes(3).toString('hex')}`;
    const owned = redisTokenStore({ url: REDIS_URL, keyPrefix: prefix, redisOptions: { connectionName } });
    await owned.set('client-test', 'y');
    const connections = async () => ((await admin.client('LIST')) as string).split('\n').filter((line) => line.includes(`name=${connectionName} `)).length;
    expect(await connections()).toBe(1);
    await owned.close();
    await expect.poll(connections, { timeout: 5_000 }).toBe(0);
  });

  it('maps an unreachable server to a retryable store_unavailable quickly, never showing the password', async () => {
    const canary = 'redis-canary-Pa55w0rd-93be1d';
    const store = redisTokenStore({ url: `redis://:${canary}@127.0.0.1:1/0` });
    try {
      const started = performance.now();
      const error = await settleError(store.get('anything'));
      expect(performance.now() - started, 'a down Redis fails the call within seconds').toBeLessThan(5_000);
      expect(error.code).toBe('store_unavailable');
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^Could not reach Redis/);
      for (const rendering of [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: 10 }), String(error)]) {
        expect(rendering).not.toContain(canary);
      }
    } finally {
      await store.close();
    }
  });

  it('maps a refused permission (ACL NOPERM) to a store_unavailable that retrying will not fix', async () => {
    const user = `lmp-test-${process.pid}-${randomBytes(3).toString('hex')}`;
    const password = `pw-${randomBytes(8).toString('hex')}`;
    // May read and write keys, but not run scripts.
    await admin.acl('SETUSER', user, 'on', `>${password}`, `~${prefix}*`, '+@all', '-evalsha', '-eval');
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = password;
    const store = redisTokenStore({ url: url.href, keyPrefix: prefix });
    try {
      const error = await settleError(store.get('anything'));
      expect(error).toMatchObject({ code: 'store_unavailable', retryable: false, message: 'Redis refused the client (NOPERM).' });
      expect(JSON.stringify(error)).not.toContain(password);
    } finally {
      await store.close();
      await admin.acl('DELUSER', user);
    }
  });

  it('refuses bad options and arguments with validation_failed naming the field, before any command', async () => {
    const invalid = (build: () => unknown) => {
      try {
        build();
      } catch (error) {
        return error as LetmepostError;
      }
      throw new Error('expected validation_failed');
    };
    expect(invalid(() => redisTokenStore({}))).toMatchObject({ code: 'validation_failed', field: 'client' });
    expect(invalid(() => redisTokenStore({ url: 'http://127.0.0.1:6379' }))).toMatchObject({ code: 'validation_failed', field: 'url' });

    const offline = redisTokenStore({ url: 'redis://127.0.0.1:1', redisOptions: { lazyConnect: true } });
    try {
      await expect(offline.get('')).rejects.toMatchObject({ code: 'validation_failed', field: 'key' });
      await expect(offline.set('key', 'lone \udc00 surrogate')).rejects.toMatchObject({ code: 'validation_failed', field: 'value' });
      await expect(offline.set('key', 'x', { expectedVersion: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'expectedVersion' });
      await expect(offline.increment('key', { windowMs: 1_000, amount: 1.5 })).rejects.toMatchObject({ code: 'validation_failed', field: 'amount' });
      await expect(offline.withLock('key', async () => 1, { ttlMs: 1_000, waitMs: -1 })).rejects.toMatchObject({
        code: 'validation_failed',
        field: 'waitMs',
      });
    } finally {
      await offline.close();
    }
  });

  it('lets a counter key expire in Redis once its window has passed with no new events', async () => {
    const store = open();
    await store.increment('idle-counter', { windowMs: 5_000 });
    const pttl = await admin.pttl(`${prefix}counter:idle-counter`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
  });
});
