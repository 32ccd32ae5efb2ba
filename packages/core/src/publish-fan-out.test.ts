import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { createHarness, createTestProvider } from './test-support/test-provider.js';
import type { TokenStore } from './token-store.js';

/** A platform on 127.0.0.1 that holds each create for `HOLD_MS` and counts creates in flight. */
const HOLD_MS = 200;
let server: Server;
let origin: string;
let inFlight: Map<string, number>;
let peak: Map<string, number>;

beforeAll(async () => {
  server = createServer((request, response) => {
    const platform = new URL(request.url ?? '/', 'http://x').searchParams.get('platform') ?? 'any';
    const now = (inFlight.get(platform) ?? 0) + 1;
    inFlight.set(platform, now);
    peak.set(platform, Math.max(peak.get(platform) ?? 0, now));
    setTimeout(() => {
      inFlight.set(platform, (inFlight.get(platform) ?? 1) - 1);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `post-${Math.random().toString(36).slice(2)}` }));
    }, HOLD_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  inFlight = new Map();
  peak = new Map();
});

/** A provider whose publish is one create request to the loopback platform. */
function wireProvider(id: PlatformId): AnyProvider {
  return createTestProvider({
    id,
    publish: async () => {
      const response = await fetch(`${origin}/create?platform=${id}`, { method: 'POST' });
      const { id: postId } = (await response.json()) as { id: string };
      return { status: 'published', postId, warnings: [] };
    },
  });
}

const targetsFor = (platform: PlatformId, count: number) =>
  Array.from({ length: count }, (_, index) => ({ platform, credentials: { accessToken: `token-${platform}-${index}`, pageId: `page-${index}` } }));

describe('publish fan-out on the wire', () => {
  it('sends 16 targets on different accounts together: 16 creates in flight at once', async () => {
    const harness = createHarness({ providers: [wireProvider('linkedin')] });
    const results = await harness.letmepost.publish({ post: { text: 'x' }, targets: targetsFor('linkedin', 16) });
    expect(results.map((result) => result.status)).toEqual(Array.from({ length: 16 }, () => 'published'));
    // The platform holds each create, so all 16 being in flight at once is what proves they went
    // out together (the old fixed concurrency peaked at 4). The time it saves is measured by
    // bench/publish-fan-out.mjs, not asserted here: a wall-clock bound fails on a loaded machine.
    expect(peak.get('linkedin')).toBe(16);
  });

  it('holds a platform to its platformConcurrency while other platforms go out together', async () => {
    const harness = createHarness({
      providers: [wireProvider('linkedin'), wireProvider('bluesky')],
      platformConcurrency: { bluesky: 3 },
    });
    const results = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [...targetsFor('bluesky', 8), ...targetsFor('linkedin', 8)],
    });
    expect(results.every((result) => result.status === 'published')).toBe(true);
    expect(peak.get('bluesky')).toBe(3);
    expect(peak.get('linkedin')).toBe(8);
  });

  it('still honours a host-wide publishConcurrency', async () => {
    const harness = createHarness({ providers: [wireProvider('linkedin')], publishConcurrency: 5 });
    await harness.letmepost.publish({ post: { text: 'x' }, targets: targetsFor('linkedin', 12) });
    expect(peak.get('linkedin')).toBe(5);
  });
});

describe('publish when the store is lost after the post was created', () => {
  it('returns the created post with its id and a warning, never store_unavailable, and a retry with the key does not post again', async () => {
    const inner = memoryTokenStore();
    let storeDown = false;
    const failing = (): never => {
      throw new LetmepostError({ code: 'store_unavailable', message: 'connection lost' });
    };
    const store: TokenStore = {
      get: (key) => (storeDown ? Promise.reject(failing()) : inner.get(key)),
      set: async (key, value, options) => (storeDown ? failing() : inner.set(key, value, options)),
      delete: (key, options) => inner.delete(key, options),
      list: (prefix, options) => inner.list(prefix, options),
      increment: (key, options) => inner.increment(key, options),
      withLock: (key, fn, options) => inner.withLock(key, fn, options),
    };
    let creates = 0;
    const provider = createTestProvider({
      publish: async () => {
        creates += 1;
        // The platform answers; then the store goes away before letmepost records anything.
        storeDown = true;
        return { status: 'published', postId: `post-${creates}`, url: `https://linkedin.test/p/${creates}`, warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider], store });
    const request = {
      post: { text: 'x' },
      targets: [{ platform: 'linkedin' as const, credentials: { accessToken: 'tok-lost-1', pageId: 'p' } }],
      idempotencyKey: 'key-1',
    };
    const [result] = await harness.letmepost.publish(request);
    expect(result).toMatchObject({ status: 'published', postId: 'post-1', url: 'https://linkedin.test/p/1' });
    expect(result?.error).toBeUndefined();
    expect(result?.warnings).toEqual([{ code: 'idempotency.record_failed', message: expect.stringContaining('do not retry') }]);

    // Store back: the key still holds the unfinished claim, so a retry waits for it instead of
    // posting again, and once the claim is stale answers unknown.
    storeDown = false;
    const retry = harness.letmepost.publish(request);
    harness.clock.advance(3 * 60_000);
    const [again] = await retry;
    expect(again).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
    expect(creates).toBe(1);
  });
});
