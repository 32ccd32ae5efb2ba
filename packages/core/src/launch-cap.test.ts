import { describe, expect, it } from 'vitest';
import { DAY_MS, billableItemCount, uncreatedItemCount } from './launch-cap.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import type { ProviderPublishResult } from './provider.js';
import type { TokenStore } from './token-store.js';
import { connectAccount, createHarness, createTestProvider, type Harness } from './test-support/test-provider.js';

async function twitterAccount(harness: Harness): Promise<string> {
  const [account] = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'twitter' });
  return account!.id;
}

const publishTo = (harness: Harness, accountId: string, post: { text: string; thread?: Array<{ text: string }>; firstComment?: string } = { text: 'x' }) =>
  harness.letmepost.publish({ workspaceId: 'ws-1', post, targets: [{ accountId }] }).then(([result]) => result!);

describe('launch cap', () => {
  it('allows 50 billable X posts per account in 30 days and refuses the 51st before sending', async () => {
    const provider = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [provider] });
    const accountId = await twitterAccount(harness);
    for (let index = 0; index < 50; index++) expect((await publishTo(harness, accountId)).status).toBe('published');

    const refused = await publishTo(harness, accountId);
    expect(refused).toMatchObject({ status: 'failed', platform: 'twitter', accountId, error: { code: 'launch_cap_reached' } });
    expect(refused.error?.message).toContain('50');
    expect(provider.calls.publish).toHaveLength(50);

    // Other accounts have their own budget.
    const [other] = await connectAccount({
      harness: createHarness({ providers: [provider], store: harness.store, clock: harness.clock }),
      workspaceId: 'ws-2',
      platform: 'twitter',
    });
    const [fresh] = await harness.letmepost.publish({ workspaceId: 'ws-2', post: { text: 'x' }, targets: [{ accountId: other!.id }] });
    expect(fresh?.status).toBe('published');

    harness.clock.advance(30 * DAY_MS + 1);
    expect((await publishTo(harness, accountId)).status).toBe('published');
  });

  it('counts every created item of a thread, and the first comment', async () => {
    const provider = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [provider], launchCaps: { twitter: { limit: 5 } } });
    const accountId = await twitterAccount(harness);
    expect((await publishTo(harness, accountId, { text: 'a', thread: [{ text: 'b' }], firstComment: 'c' })).status).toBe('published');
    expect((await publishTo(harness, accountId, { text: 'a', thread: [{ text: 'b' }, { text: 'c' }] })).error?.code).toBe(
      'launch_cap_reached',
    );
    expect((await publishTo(harness, accountId, { text: 'a', thread: [{ text: 'b' }] })).status).toBe('published');
    expect((await publishTo(harness, accountId)).error?.code).toBe('launch_cap_reached');
  });

  it('gives back reservations for posts that definitely were not created', async () => {
    let outcome: 'fail' | 'throw' | 'ok' = 'fail';
    const provider = createTestProvider({
      id: 'twitter',
      publish: async () => {
        if (outcome === 'throw') throw new LetmepostError({ code: 'platform_rejected', platform: 'twitter', message: 'no' });
        if (outcome === 'fail') {
          return { status: 'failed', warnings: [], error: new LetmepostError({ code: 'duplicate_content', platform: 'twitter', message: 'dup' }) };
        }
        return { status: 'published', postId: 'ok', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider], launchCaps: { twitter: { limit: 2 } } });
    const accountId = await twitterAccount(harness);
    expect((await publishTo(harness, accountId)).status).toBe('failed');
    outcome = 'throw';
    expect((await publishTo(harness, accountId)).error?.code).toBe('platform_rejected');
    expect((await publishTo(harness, accountId)).error?.code).toBe('platform_rejected');
    outcome = 'ok';
    expect((await publishTo(harness, accountId)).status).toBe('published');
    expect((await publishTo(harness, accountId)).status).toBe('published');
    expect((await publishTo(harness, accountId)).error?.code).toBe('launch_cap_reached');
  });

  it('keeps reservations for unknown outcomes and for the created part of a partial thread', async () => {
    let next: () => Promise<ProviderPublishResult> = async () => {
      throw new LetmepostError({ code: 'publish_outcome_unknown', platform: 'twitter', message: 'timed out' });
    };
    const provider = createTestProvider({ id: 'twitter', publish: () => next() });
    const harness = createHarness({ providers: [provider], launchCaps: { twitter: { limit: 4 } } });
    const accountId = await twitterAccount(harness);
    expect((await publishTo(harness, accountId)).status).toBe('unknown'); // 1 kept

    next = async () => ({
      status: 'published',
      postId: 'root',
      warnings: [],
      items: [
        { index: 0, status: 'published', postId: 'root' },
        { index: 1, status: 'failed', error: new LetmepostError({ code: 'platform_rejected', message: 'no' }) },
      ],
    });
    expect((await publishTo(harness, accountId, { text: 'a', thread: [{ text: 'b' }] })).status).toBe('published'); // 1 kept, 1 released

    next = async () => ({ status: 'published', postId: 'p', warnings: [] });
    expect((await publishTo(harness, accountId, { text: 'a', thread: [{ text: 'b' }] })).status).toBe('published'); // 4 used
    expect((await publishTo(harness, accountId)).error?.code).toBe('launch_cap_reached');
  });

  it('never lets concurrent publishes overshoot the cap', async () => {
    const provider = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [provider], launchCaps: { twitter: { limit: 10 } } });
    const accountId = await twitterAccount(harness);
    const results = await Promise.all(Array.from({ length: 25 }, () => publishTo(harness, accountId)));
    expect(results.filter((result) => result.status === 'published')).toHaveLength(10);
    expect(results.filter((result) => result.error?.code === 'launch_cap_reached')).toHaveLength(15);
    expect(provider.calls.publish).toHaveLength(10);
  });

  it('counts per-request credentials by a digest of the credentials', async () => {
    const provider = createTestProvider({ id: 'twitter' });
    const store = memoryTokenStore();
    const counterKeys = new Set<string>();
    const recording: TokenStore = {
      ...store,
      increment: (key, options) => {
        counterKeys.add(key);
        return store.increment(key, options);
      },
    };
    const harness = createHarness({ providers: [provider], store: recording, launchCaps: { twitter: { limit: 1 } } });
    const send = (accessToken: string) =>
      harness.letmepost
        .publish({ post: { text: 'x' }, targets: [{ platform: 'twitter', credentials: { accessToken, pageId: 'me' } }] })
        .then(([result]) => result!);
    expect((await send('canary-cap-token-a')).status).toBe('published');
    expect((await send('canary-cap-token-a')).error?.code).toBe('launch_cap_reached');
    expect((await send('canary-cap-token-b')).status).toBe('published');
    expect([...counterKeys]).toEqual([
      expect.stringMatching(/^counters\/launch\/twitter\/cred-[A-Za-z0-9_-]{43}$/),
      expect.stringMatching(/^counters\/launch\/twitter\/cred-[A-Za-z0-9_-]{43}$/),
    ]);
  });

  it('caps only X by default, and can be switched off', async () => {
    const linkedin = createTestProvider();
    const harness = createHarness({ providers: [linkedin], launchCaps: { twitter: false } });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    for (let index = 0; index < 60; index++) expect((await publishTo(harness, account!.id)).status).toBe('published');

    const twitter = createTestProvider({ id: 'twitter' });
    const uncapped = createHarness({ providers: [twitter], launchCaps: { twitter: false } });
    const accountId = await twitterAccount(uncapped);
    for (let index = 0; index < 55; index++) expect((await publishTo(uncapped, accountId)).status).toBe('published');
  });

  it('does not spend the budget on dry runs', async () => {
    const provider = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [provider], launchCaps: { twitter: { limit: 1 } } });
    const accountId = await twitterAccount(harness);
    for (let index = 0; index < 3; index++) {
      await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId }], dryRun: true });
    }
    expect((await publishTo(harness, accountId)).status).toBe('published');
  });
});

describe('launch cap accounting', () => {
  it('counts thread items and the first comment', () => {
    expect(billableItemCount({ post: { text: 'a' } })).toBe(1);
    expect(billableItemCount({ post: { text: 'a', thread: [{ text: 'b' }, { text: 'c' }], firstComment: 'd' } })).toBe(4);
  });

  it('releases only what definitely was not created', () => {
    // A post with a thread reply and a first comment: 3 reserved.
    const hasFirstComment = true;
    const failedError = new LetmepostError({ code: 'platform_rejected', message: 'no' });
    expect(uncreatedItemCount({ result: { status: 'failed', warnings: [], error: failedError }, reserved: 3, hasFirstComment })).toBe(3);
    expect(uncreatedItemCount({ result: { status: 'unknown', warnings: [] }, reserved: 3, hasFirstComment })).toBe(0);
    expect(
      uncreatedItemCount({
        result: { status: 'failed', warnings: [], items: [{ index: 0, status: 'failed' }, { index: 1, status: 'failed' }] },
        reserved: 3,
        hasFirstComment,
      }),
    ).toBe(3);
    expect(
      uncreatedItemCount({
        result: { status: 'published', warnings: [], items: [{ index: 0, status: 'published' }, { index: 1, status: 'unknown' }] },
        reserved: 3,
        hasFirstComment,
      }),
    ).toBe(0);
  });
});
