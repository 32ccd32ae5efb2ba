import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import { getPublishContext, type PublishContext } from './publish-context.js';
import type { PublishProgressEvent } from './publish.js';
import {
  connectAccount,
  createHarness,
  createTestProvider,
  errorOf,
  type Harness,
  type TestProvider,
} from './test-support/test-provider.js';

const credentials = (pageId: string, accessToken = `canary-pass-token-${pageId}`) => ({ accessToken, pageId });

async function connected(harness: Harness, platform: PlatformId = 'linkedin', workspaceId = 'ws-1'): Promise<string> {
  const [account] = await connectAccount({ harness, workspaceId, platform });
  return account!.id;
}

describe('publish: validation is atomic across targets', () => {
  it('rejects a bad second target before anything is sent, naming the field', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const accountId = await connected(harness);

    const failed = await errorOf(
      harness.letmepost.publish({
        workspaceId: 'ws-1',
        post: { text: 'hello' },
        targets: [{ accountId }, { platform: 'linkedin', credentials: { accessToken: 'canary-tok-123' } }],
      }),
    );
    expect(failed.code).toBe('validation_failed');
    expect(failed.field).toBe('targets.1.credentials.pageId');
    expect(failed.issues).toEqual([
      { field: 'targets.1.credentials.pageId', rule: 'schema.invalid_type', message: expect.any(String) },
    ]);
    expect(provider.calls.publish).toHaveLength(0);
    expect(JSON.stringify(failed) + inspect(failed)).not.toContain('canary-tok-123');
  });

  it('reports every problem at once: post, options, credentials, unknown accounts', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const failed = await errorOf(
      harness.letmepost.publish({
        workspaceId: 'ws-1',
        post: { text: 'hello', link: 'not a url' },
        targets: [
          { accountId: 'acc_missing' },
          { platform: 'linkedin', credentials: credentials('p1'), options: { visibility: 'friends' } },
          { platform: 'linkedin', credentials: { pageId: 'p2' } },
        ],
      }),
    );
    expect(failed.code).toBe('validation_failed');
    expect(failed.issues.map((issue) => [issue.field, issue.rule])).toEqual([
      ['post.link', 'schema.invalid_format'],
      ['targets.0.accountId', 'target.account_not_found'],
      ['targets.1.options.visibility', 'schema.invalid_value'],
      ['targets.2.credentials.accessToken', 'schema.invalid_type'],
    ]);
    expect(provider.calls.publish).toHaveLength(0);
  });

  it('runs every provider preflight first and refuses with preflight_failed if any fails', async () => {
    const strict = createTestProvider({ id: 'bluesky', validate: ({ post }) =>
      post.text.length > 10 ? [{ rule: 'bluesky.text.max_graphemes', field: 'text', message: 'is longer than 10 graphemes' }] : [] });
    const lenient = createTestProvider();
    const harness = createHarness({ providers: [lenient, strict] });
    const failed = await errorOf(
      harness.letmepost.publish({
        post: { text: 'longer than ten' },
        targets: [
          { platform: 'linkedin', credentials: credentials('p1') },
          { platform: 'bluesky', credentials: credentials('p2') },
        ],
      }),
    );
    expect(failed.code).toBe('preflight_failed');
    expect(failed.issues).toEqual([
      { field: 'post.text', rule: 'bluesky.text.max_graphemes', message: 'targets.1 (bluesky): is longer than 10 graphemes' },
    ]);
    expect(failed.rule).toBe('bluesky.text.max_graphemes');
    expect(failed.remediation).toMatch(/^Nothing was sent to any target\./);
    expect(lenient.calls.publish).toHaveLength(0);
    expect(strict.calls.publish).toHaveLength(0);
  });

  it("does not publish to another workspace's account", async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const accountId = await connected(harness, 'linkedin', 'ws-other');
    const failed = await errorOf(harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId }] }));
    expect(failed.issues[0]).toMatchObject({ field: 'targets.0.accountId', rule: 'target.account_not_found' });
    expect(provider.calls.publish).toHaveLength(0);
  });

  it('refuses the same account twice in one publish', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const accountId = await connected(harness);
    const failed = await errorOf(
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId }, { accountId }] }),
    );
    expect(failed.issues).toEqual([
      { field: 'targets.1.accountId', rule: 'target.duplicate', message: expect.stringContaining('targets.0') },
    ]);
  });

  it('names malformed targets and options', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const cases: Array<[unknown, string]> = [
      [[], 'targets'],
      [[{}], 'targets.0.accountId'],
      [[{ platform: 'linkedin' }], 'targets.0.credentials'],
      [[{ accountId: 'acc_1', credentials: {} }], 'targets.0.credentials'],
      [[{ platform: 'myspace', credentials: {} }], 'targets.0.platform'],
      [[{ accountId: 'acc_1', extra: true }], 'targets.0'],
    ];
    for (const [targets, field] of cases) {
      const failed = await errorOf(harness.letmepost.publish({ post: { text: 'x' }, targets: targets as never }));
      expect(failed.code, JSON.stringify(targets)).toBe('validation_failed');
      expect(failed.field, JSON.stringify(targets)).toBe(field);
    }
    const unregistered = await errorOf(
      harness.letmepost.publish({ post: { text: 'x' }, targets: [{ platform: 'tiktok', credentials: {} }] }),
    );
    expect(unregistered.issues[0]).toMatchObject({ field: 'targets.0.platform', rule: 'target.provider_missing' });
  });

  it('checks a given platform against the account', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const accountId = await connected(harness);
    const failed = await errorOf(
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId, platform: 'twitter' }] }),
    );
    expect(failed.issues[0]).toMatchObject({ field: 'targets.0.platform', rule: 'target.platform_mismatch' });
  });
});

describe('publish: fan-out', () => {
  it('returns results in input order whatever the latencies', async () => {
    const delays: Record<string, number> = { a: 40, b: 5, c: 25, d: 0, e: 15 };
    const provider = createTestProvider({
      publish: async ({ auth }) => {
        const pageId = auth.type === 'credentials' ? auth.credentials.pageId : '';
        await sleep(delays[pageId] ?? 0);
        return { status: 'published', postId: `post-${pageId}`, warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider], publishConcurrency: 5 });
    const results = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: ['a', 'b', 'c', 'd', 'e'].map((pageId) => ({ platform: 'linkedin' as const, credentials: credentials(pageId) })),
    });
    expect(results.map((result) => result.postId)).toEqual(['post-a', 'post-b', 'post-c', 'post-d', 'post-e']);
    expect(results.every((result) => result.platform === 'linkedin' && result.accountId === undefined)).toBe(true);
  });

  it.each([
    [undefined, 10, 10],
    [2, 6, 2],
  ])('bounds concurrency (option %s, %i targets → at most %i at once)', async (publishConcurrency, count, expected) => {
    let running = 0;
    let peak = 0;
    const provider = createTestProvider({
      publish: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await sleep(10);
        running -= 1;
        return { status: 'published', postId: 'p', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider], ...(publishConcurrency !== undefined && { publishConcurrency }) });
    await harness.letmepost.publish({
      post: { text: 'x' },
      targets: Array.from({ length: count }, (_, index) => ({ platform: 'linkedin' as const, credentials: credentials(`p${index}`) })),
    });
    expect(peak).toBe(expected);
    expect(provider.calls.publish).toHaveLength(count);
  });

  it('keeps one failing target from stopping or re-sending the others', async () => {
    const provider = createTestProvider({
      publish: async ({ auth }) => {
        const pageId = auth.type === 'credentials' ? auth.credentials.pageId : '';
        if (pageId === 'bad') {
          throw new LetmepostError({ code: 'platform_rejected', platform: 'linkedin', status: 422, message: 'rejected' });
        }
        return { status: 'published', postId: `post-${pageId}`, warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const results = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: ['one', 'bad', 'three'].map((pageId) => ({ platform: 'linkedin' as const, credentials: credentials(pageId) })),
    });
    expect(results.map((result) => result.status)).toEqual(['published', 'failed', 'published']);
    expect(results[1]?.error).toBeInstanceOf(LetmepostError);
    expect(results[1]?.error?.code).toBe('platform_rejected');
    expect(provider.calls.publish).toHaveLength(3);
  });

  it('mixes managed accounts and per-request credentials, and never stores the latter', async () => {
    const linkedin = createTestProvider();
    const twitter = createTestProvider({ id: 'twitter' });
    const harness = createHarness({ providers: [linkedin, twitter] });
    const accountId = await connected(harness);
    const results = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'x' },
      targets: [{ platform: 'twitter', credentials: credentials('p9', 'canary-pass-secret-77') }, { accountId }],
    });
    expect(results.map((result) => [result.platform, result.accountId, result.status])).toEqual([
      ['twitter', undefined, 'published'],
      ['linkedin', accountId, 'published'],
    ]);
    expect(twitter.calls.publish[0]?.auth).toEqual({
      type: 'credentials',
      credentials: { accessToken: 'canary-pass-secret-77', pageId: 'p9' },
    });
    const linkedinAuth = linkedin.calls.publish[0]?.auth;
    expect(linkedinAuth).toMatchObject({ type: 'account', account: { platformAccountId: 'member-1' }, tokens: { accessToken: 'access-code-1' } });
    expect(await harness.dump()).not.toContain('canary-pass-secret-77');
    expect(JSON.stringify(harness.logs)).not.toContain('canary-pass-secret-77');
  });

  it('passes parsed options and the post to the provider', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.publish({
      post: { text: 'x', thread: [{ text: 'y' }] },
      targets: [{ platform: 'linkedin', credentials: credentials('p'), options: { visibility: 'connections' } }],
    });
    expect(provider.calls.publish[0]).toMatchObject({
      post: { text: 'x', thread: [{ text: 'y' }] },
      options: { visibility: 'connections' },
    });
  });

  it('reports an unexpected crash after sending as unknown, with secrets masked', async () => {
    const provider = createTestProvider({
      publish: async ({ auth }) => {
        throw new Error(`socket reset for ${auth.type === 'credentials' ? auth.credentials.accessToken : ''}`);
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [result] = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [{ platform: 'linkedin', credentials: credentials('p', 'canary-crash-token') }],
    });
    expect(result).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
    expect(result?.error?.message).not.toContain('canary-crash-token');
    expect(JSON.stringify(result?.error)).not.toContain('canary-crash-token');
  });

  it("makes a provider's synchronous throw that target's result, alone or beside another target", async () => {
    const provider = createTestProvider();
    // Written by hand rather than with defineProvider: it throws instead of rejecting.
    provider.publish = ((options: Parameters<typeof provider.publish>[0]) => {
      if (options.auth.type === 'credentials' && (options.auth.credentials as { pageId: string }).pageId === 'throws') {
        throw new Error('canary-sync-throw-token went wrong');
      }
      return Promise.resolve({ status: 'published' as const, postId: 'ok', warnings: [] });
    }) as typeof provider.publish;
    const harness = createHarness({ providers: [provider] });

    const [alone] = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [{ platform: 'linkedin', credentials: credentials('throws', 'canary-sync-throw-token') }],
    });
    expect(alone).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
    expect(JSON.stringify(alone?.error)).not.toContain('canary-sync-throw-token');

    const results = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [
        { platform: 'linkedin', credentials: credentials('throws', 'canary-sync-throw-token') },
        { platform: 'linkedin', credentials: credentials('fine') },
      ],
    });
    expect(results.map((result) => result.status)).toEqual(['unknown', 'published']);
  });

  it('keeps what the provider reported: items, warnings, checkAfterMs; seals its resume state into an opaque token', async () => {
    const provider = createTestProvider({
      publish: async () => ({
        status: 'pending',
        resume: { container: 'container-1' },
        checkAfterMs: 5000,
        items: [{ index: 0, status: 'pending' }],
        warnings: [{ code: 'link_dropped', message: 'links are not clickable' }],
      }),
    });
    const harness = createHarness({ providers: [provider] });
    const [result] = await harness.letmepost.publish({ post: { text: 'x' }, targets: [{ platform: 'linkedin', credentials: credentials('p') }] });
    expect(result).toEqual({
      status: 'pending',
      platform: 'linkedin',
      resumeToken: expect.stringMatching(/^lmp1\./),
      checkAfterMs: 5000,
      items: [{ index: 0, status: 'pending' }],
      warnings: [{ code: 'link_dropped', message: 'links are not clickable' }],
    });
    expect(result?.resumeToken).not.toContain('container-1');
    expect(Buffer.from(result?.resumeToken ?? '', 'base64url').toString('latin1')).not.toContain('container-1');
  });

  it('sets a publish context for dry runs only; a publish started inside a dry run is not one', async () => {
    const seen: Array<PublishContext | undefined> = [];
    const provider = createTestProvider({
      publish: async () => {
        seen.push(getPublishContext());
        return { status: 'published', postId: 'p', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const accountId = await connected(harness);
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId }] });
    expect(seen).toEqual([undefined]);

    // A host's progress callback of a dry run starts a real publish: the dry run's context (which
    // makes the HTTP layer refuse writes) must not carry over to it.
    let inner: Promise<unknown> | undefined;
    await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'x' },
      targets: [{ accountId }],
      dryRun: true,
      onProgress: () => {
        inner ??= harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'y' }, targets: [{ accountId }] });
      },
    });
    await inner;
    expect(seen).toEqual([undefined, { dryRun: false, workspaceId: 'ws-1' }]);
    expect(getPublishContext()).toBeUndefined();
  });

  it('forwards media progress per target and reports each completed target', async () => {
    const provider = createTestProvider({
      publish: async ({ onProgress }) => {
        onProgress?.({ itemIndex: 0, mediaIndex: 0, bytesSent: 5, totalBytes: 10 });
        return { status: 'published', postId: 'p', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const events: PublishProgressEvent[] = [];
    await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [{ platform: 'linkedin', credentials: credentials('p') }],
      onProgress: (event) => {
        events.push(event);
        throw new Error('a broken progress callback changes nothing');
      },
    });
    expect(events).toEqual([
      { type: 'media', targetIndex: 0, platform: 'linkedin', itemIndex: 0, mediaIndex: 0, bytesSent: 5, totalBytes: 10 },
      { type: 'target_completed', targetIndex: 0, result: expect.objectContaining({ status: 'published' }) },
    ]);
  });

  it('sends nothing once the signal is aborted', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const controller = new AbortController();
    controller.abort();
    const results = await harness.letmepost.publish({
      post: { text: 'x' },
      targets: [{ platform: 'linkedin', credentials: credentials('p') }],
      signal: controller.signal,
    });
    expect(results[0]?.status).toBe('failed');
    expect(provider.calls.publish).toHaveLength(0);
  });

  it('logs each result without secrets', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const accountId = await connected(harness);
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId }] });
    const logged = harness.logs.find((entry) => entry.message === 'letmepost.publish.result');
    expect(logged).toMatchObject({
      level: 'info',
      fields: { workspaceId: 'ws-1', platform: 'linkedin', accountId, status: 'published', postId: 'post-1' },
    });
    expect(JSON.stringify(harness.logs)).not.toContain('access-code-1');
  });

  it('refuses a publish to a connected account without its workspace (no cross-tenant publish by id)', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const accountId = await connected(harness);
    const failed = await errorOf(harness.letmepost.publish({ post: { text: 'x' }, targets: [{ accountId }] }));
    expect(failed).toMatchObject({ code: 'validation_failed', field: 'workspaceId', rule: 'publish.workspace_required' });
    const otherTenant = await errorOf(harness.letmepost.publish({ workspaceId: 'ws-2', post: { text: 'x' }, targets: [{ accountId }] }));
    expect(otherTenant).toMatchObject({ code: 'validation_failed', field: 'targets.0.accountId', rule: 'target.account_not_found' });
    expect(provider.calls.publish).toHaveLength(0);
  });
});

describe('publish: dryRun', () => {
  it('validates fully but calls neither publish nor refresh, and returns synthetic ids', async () => {
    let context: PublishContext | undefined;
    const provider: TestProvider = createTestProvider({
      validate: () => {
        context = getPublishContext();
        return [];
      },
    });
    const harness = createHarness({ providers: [provider] });
    const accountId = await connected(harness);
    harness.clock.advance(2 * 3_600_000); // expired: a real publish would refresh

    const results = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'x', thread: [{ text: 'y' }] },
      targets: [{ accountId }, { platform: 'linkedin', credentials: credentials('p') }],
      dryRun: true,
    });
    expect(provider.calls.publish).toHaveLength(0);
    expect(provider.calls.refresh).toHaveLength(0);
    expect(context).toEqual({ dryRun: true, workspaceId: 'ws-1' });
    expect(results).toEqual([
      {
        status: 'published',
        platform: 'linkedin',
        accountId,
        postId: expect.stringMatching(/^dryrun_[A-Za-z0-9_-]+$/),
        items: [
          { index: 0, status: 'published', postId: expect.stringMatching(/^dryrun_/) },
          { index: 1, status: 'published', postId: expect.stringMatching(/^dryrun_/) },
        ],
        warnings: [],
        dryRun: true,
      },
      expect.objectContaining({ status: 'published', dryRun: true, postId: expect.stringMatching(/^dryrun_/) }),
    ]);
    expect(results[0]?.postId).not.toBe(results[1]?.postId);
  });

  it('still refuses invalid input', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const failed = await errorOf(
      harness.letmepost.publish({
        post: { text: 'x'.repeat(301) },
        targets: [{ platform: 'linkedin', credentials: credentials('p') }],
        dryRun: true,
      }),
    );
    expect(failed.code).toBe('preflight_failed');
  });
});
