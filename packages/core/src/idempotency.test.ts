import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { hashPublishPayload } from './idempotency.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import type { ProviderPublishResult } from './provider.js';
import {
  connectAccount,
  createHarness,
  createTestProvider,
  deferred,
  errorOf,
  manualClock,
} from './test-support/test-provider.js';

const target = (pageId = 'p1') => ({ platform: 'linkedin' as const, credentials: { accessToken: 'canary-idem-token', pageId } });

describe('publish idempotency', () => {
  it('returns the stored results for the same key and payload without publishing again', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const request = {
      workspaceId: 'ws-1',
      post: { text: 'hello' },
      targets: [target('p1'), target('p2')],
      idempotencyKey: 'key-1',
    };
    const first = await harness.letmepost.publish(request);
    const second = await harness.letmepost.publish({ ...request, post: { text: 'hello' } });
    expect(provider.calls.publish).toHaveLength(2);
    expect(second).toEqual(first);
    expect(second.map((result) => result.postId)).toEqual(['post-1', 'post-2']);
  });

  it('refuses the same key with a different payload', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'one' }, targets: [target()], idempotencyKey: 'k' });
    const changedText = await errorOf(
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'two' }, targets: [target()], idempotencyKey: 'k' }),
    );
    expect(changedText.code).toBe('idempotency_conflict');
    expect(changedText.field).toBe('idempotencyKey');
    const changedTarget = await errorOf(
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'one' }, targets: [target('p2')], idempotencyKey: 'k' }),
    );
    expect(changedTarget.code).toBe('idempotency_conflict');
  });

  it('compares media by content: same bytes match, different bytes conflict', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const withImage = (bytes: number[]) => ({
      workspaceId: 'ws-1',
      post: { text: 'pic', media: [{ data: new Uint8Array(bytes), mimeType: 'image/png' }] },
      targets: [target()],
      idempotencyKey: 'media-key',
    });
    await harness.letmepost.publish(withImage([1, 2, 3]));
    await harness.letmepost.publish(withImage([1, 2, 3]));
    expect(provider.calls.publish).toHaveLength(1);
    expect((await errorOf(harness.letmepost.publish(withImage([1, 2, 4])))).code).toBe('idempotency_conflict');
  });

  it('lets only one of several concurrent requests with the same key publish', async () => {
    const gate = deferred();
    const provider = createTestProvider({
      publish: async () => {
        await gate.promise;
        return { status: 'published', postId: 'the-one', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const request = { workspaceId: 'ws-1', post: { text: 'x' }, targets: [target()], idempotencyKey: 'race' };
    const pending = Array.from({ length: 5 }, () => harness.letmepost.publish(request));
    await sleep(30);
    gate.resolve();
    const results = await Promise.all(pending);
    expect(provider.calls.publish).toHaveLength(1);
    expect(results.map(([result]) => result?.postId)).toEqual(Array(5).fill('the-one'));
  });

  it('stores unknown and failed outcomes as they are and never retries them', async () => {
    const provider = createTestProvider({
      publish: async ({ auth }) => {
        const pageId = auth.type === 'credentials' ? auth.credentials.pageId : '';
        if (pageId === 'lost') throw new LetmepostError({ code: 'publish_outcome_unknown', platform: 'linkedin', message: 'timeout after send' });
        throw new LetmepostError({ code: 'rate_limited', platform: 'linkedin', message: 'slow down', retryAfterMs: 1000 });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const request = { workspaceId: 'ws-1', post: { text: 'x' }, targets: [target('lost'), target('limited')], idempotencyKey: 'k' };
    const first = await harness.letmepost.publish(request);
    const again = await harness.letmepost.publish(request);
    expect(provider.calls.publish).toHaveLength(2);
    expect(again.map((result) => result.status)).toEqual(['unknown', 'failed']);
    expect(again[0]?.error).toBeInstanceOf(LetmepostError);
    expect(again[0]?.error?.code).toBe('publish_outcome_unknown');
    expect(again[1]?.error?.retryAfterMs).toBe(1000);
    expect(again.map((result) => result.error?.toJSON())).toEqual(first.map((result) => result.error?.toJSON()));
  });

  it('scopes keys per workspace', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [target()], idempotencyKey: 'shared' });
    await harness.letmepost.publish({ workspaceId: 'ws-2', post: { text: 'x' }, targets: [target()], idempotencyKey: 'shared' });
    expect(provider.calls.publish).toHaveLength(2);
  });

  it('ignores the key on dry runs and frees it when validation fails', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.publish({ post: { text: 'x' }, targets: [target()], idempotencyKey: 'k', dryRun: true });
    await errorOf(harness.letmepost.publish({ post: { text: 'y'.repeat(400) }, targets: [target()], idempotencyKey: 'k' }));
    const [result] = await harness.letmepost.publish({ post: { text: 'x' }, targets: [target()], idempotencyKey: 'k' });
    expect(result?.dryRun).toBeUndefined();
    expect(provider.calls.publish).toHaveLength(1);
  });

  it('answers a completed retry even after the account was removed', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const request = { workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: account!.id }], idempotencyKey: 'k' };
    const first = await harness.letmepost.publish(request);
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: account!.id });
    expect(await harness.letmepost.publish(request)).toEqual(first);
  });

  it('forgets keys after idempotencyTtlMs', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider], idempotencyTtlMs: 60_000 });
    const request = { post: { text: 'x' }, targets: [target()], idempotencyKey: 'k' };
    await harness.letmepost.publish(request);
    harness.clock.advance(60_001);
    await harness.letmepost.publish(request);
    expect(provider.calls.publish).toHaveLength(2);
  });

  it('completes a claim abandoned by a dead process as unknown, never publishing twice', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const hang = deferred<ProviderPublishResult>();
    const dying = createTestProvider({ publish: () => hang.promise });
    const healthy = createTestProvider();
    const processA = createHarness({ providers: [dying], clock, store });
    const processB = createHarness({ providers: [healthy], clock, store });
    const request = { workspaceId: 'ws-1', post: { text: 'x' }, targets: [target()], idempotencyKey: 'k' };

    const stuck = processA.letmepost.publish(request);
    await sleep(20);
    clock.advance(3 * 60_000); // no heartbeat for longer than the staleness limit
    const [recovered] = await processB.letmepost.publish(request);
    expect(recovered).toMatchObject({ status: 'unknown', platform: 'linkedin', error: { code: 'publish_outcome_unknown' } });
    expect(healthy.calls.publish).toHaveLength(0);

    // The original request finishing later records the real outcome for future retries.
    hang.resolve({ status: 'published', postId: 'late', warnings: [] });
    expect((await stuck)[0]?.postId).toBe('late');
    expect((await processB.letmepost.publish(request))[0]?.postId).toBe('late');
  });

  it('validates the key', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const failed = await errorOf(harness.letmepost.publish({ post: { text: 'x' }, targets: [target()], idempotencyKey: '' }));
    expect(failed.field).toBe('idempotencyKey');
  });
});

describe('hashPublishPayload', () => {
  it('ignores key order and undefined fields, and never depends on credential values in clear', () => {
    const left = hashPublishPayload({ post: { text: 'a', link: undefined }, targets: [{ platform: 'x', credentials: { b: '2', a: '1' } }] });
    const right = hashPublishPayload({ post: { text: 'a' }, targets: [{ credentials: { a: '1', b: '2' }, platform: 'x' }] });
    expect(left).toBe(right);
    expect(hashPublishPayload({ post: { text: 'a' }, targets: [{ platform: 'x', credentials: { a: '1', b: '3' } }] })).not.toBe(left);
  });
});
