import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import type { JsonValue, ProviderStatusResult } from './provider.js';
import type { TokenStore } from './token-store.js';
import { connectAccount, createHarness, createTestProvider, errorOf, type Harness, type TestProviderOptions } from './test-support/test-provider.js';

const HOUR = 3_600_000;

/**
 * A platform that processes a video: `publish` answers pending with `{ video }`, `checkStatus`
 * reads the processing state from `states` (shifted per look), `finalize` creates the post.
 */
function processingPlatform(options: { states: Array<'processing' | 'ready' | 'failed'>; finalize?: TestProviderOptions['finalize'] }) {
  let posts = 0;
  return createTestProvider({
    publish: async () => ({ status: 'pending', resume: { video: 'video-1' }, checkAfterMs: 3000, warnings: [] }),
    checkStatus: async ({ resume }): Promise<ProviderStatusResult> => {
      const state = options.states.shift() ?? 'ready';
      if (state === 'failed') {
        return { status: 'failed', warnings: [], error: new LetmepostError({ code: 'media_invalid', platform: 'linkedin', message: 'processing failed' }) };
      }
      if (state === 'processing') return { status: 'pending', resume, checkAfterMs: 2000, warnings: [] };
      return { status: 'ready', resume: { ...(resume as Record<string, JsonValue>), checked: true } };
    },
    finalize:
      options.finalize ??
      (async () => {
        posts += 1;
        return { status: 'published', postId: `post-${posts}`, url: `https://linkedin.test/p/${posts}`, warnings: [] };
      }),
  });
}

async function pendingPublish(harness: Harness, workspaceId = 'ws-1') {
  const [account] = await connectAccount({ harness, workspaceId });
  const [result] = await harness.letmepost.publish({ workspaceId, post: { text: 'video' }, targets: [{ accountId: account!.id }] });
  expect(result).toMatchObject({ status: 'pending', checkAfterMs: 3000, resumeToken: expect.any(String) });
  return { accountId: account!.id, resumeToken: result!.resumeToken! };
}

describe('resume: finishing a pending publish', () => {
  it('answers pending while processing, finalizes once when ready, then answers the stored result without calling the provider', async () => {
    const provider = processingPlatform({ states: ['processing', 'ready'] });
    const harness = createHarness({ providers: [provider] });
    const { accountId, resumeToken } = await pendingPublish(harness);

    const still = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    expect(still).toEqual({
      status: 'pending',
      platform: 'linkedin',
      accountId,
      warnings: [],
      checkAfterMs: 2000,
      resumeToken: expect.any(String),
    });
    expect(provider.calls.finalize).toHaveLength(0);

    const done = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: still.resumeToken! });
    expect(done).toEqual({ status: 'published', platform: 'linkedin', accountId, postId: 'post-1', url: 'https://linkedin.test/p/1', warnings: [] });
    // The provider got its own state back, as `ready` updated it, with the account's tokens.
    expect(provider.calls.finalize).toEqual([
      expect.objectContaining({ resume: { video: 'video-1', checked: true }, auth: expect.objectContaining({ type: 'account' }) }),
    ]);

    const checksBefore = provider.calls.checkStatus.length;
    // Either token of this publish: both stand for the same target.
    for (const token of [resumeToken, still.resumeToken!]) {
      expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: token })).toEqual(done);
    }
    expect(provider.calls.checkStatus).toHaveLength(checksBefore);
    expect(provider.calls.finalize).toHaveLength(1);
  });

  it('ends failed when the platform says processing failed, and keeps that answer', async () => {
    const provider = processingPlatform({ states: ['failed'] });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    const failed = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'media_invalid' } });
    expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken })).toMatchObject({ status: 'failed', error: { code: 'media_invalid' } });
    expect(provider.calls.checkStatus).toHaveLength(1);
    expect(provider.calls.finalize).toHaveLength(0);
  });

  it('runs finalize once when two resumes race', async () => {
    const provider = processingPlatform({ states: ['ready', 'ready'] });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    const [first, second] = await Promise.all([
      harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken }),
      harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken }),
    ]);
    expect(first).toEqual(second);
    expect(first?.status).toBe('published');
    expect(provider.calls.finalize).toHaveLength(1);
  });

  it('keeps the token usable when finalize throws (nothing was written) and finishes on the next resume', async () => {
    let attempts = 0;
    const provider = processingPlatform({
      states: ['ready', 'ready'],
      finalize: async () => {
        attempts += 1;
        if (attempts === 1) throw new LetmepostError({ code: 'platform_unavailable', platform: 'linkedin', message: '503' });
        return { status: 'published', postId: 'post-after-retry', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    expect(await errorOf(harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken }))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken })).toMatchObject({ status: 'published', postId: 'post-after-retry' });
  });

  it('ends unknown, stored and never finalized again, when finalize crashes or loses the answer to its create', async () => {
    for (const thrown of [
      new Error('socket hang up'),
      new LetmepostError({ code: 'publish_outcome_unknown', platform: 'linkedin', message: 'the answer to the create was lost' }),
    ]) {
      const provider = processingPlatform({
        states: ['ready', 'ready'],
        finalize: async () => {
          throw thrown;
        },
      });
      const harness = createHarness({ providers: [provider] });
      const { resumeToken } = await pendingPublish(harness);
      const first = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
      expect(first).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
      // The stored answer (the error's cause is not kept in the store).
      expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken })).toMatchObject({
        status: 'unknown',
        error: { code: 'publish_outcome_unknown', message: first.error?.message },
      });
      expect(provider.calls.finalize).toHaveLength(1);
    }
  });

  it('answers unknown, without finalizing again, when an earlier finalize died before reporting', async () => {
    const provider = processingPlatform({ states: ['ready', 'ready'], finalize: () => new Promise(() => undefined) });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    // The first resume hangs inside finalize, as a process that dies there would; its lease expires.
    void harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    await waitUntil(() => provider.calls.finalize.length === 1);
    harness.clock.advance(5 * 60_000);
    const answer = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    expect(answer).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
    expect(provider.calls.finalize).toHaveLength(1);
  });

  it('refreshes an expired account token before checking, like publish', async () => {
    const provider = processingPlatform({ states: ['ready'] });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    harness.clock.advance(2 * HOUR);
    await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.finalize[0]?.auth).toMatchObject({ type: 'account', tokens: { accessToken: 'access-refreshed-1' } });
  });

  it('refreshes once and repeats the call when the platform refuses the access token', async () => {
    let refusals = 0;
    const provider = createTestProvider({
      publish: async () => ({ status: 'pending', resume: { video: 'video-1' }, checkAfterMs: 3000, warnings: [] }),
      checkStatus: async ({ auth }) => {
        if (auth.type === 'account' && auth.tokens.accessToken === 'access-code-1') {
          refusals += 1;
          throw new LetmepostError({ code: 'auth_expired', platform: 'linkedin', message: 'token revoked early' });
        }
        return { status: 'ready' };
      },
      finalize: async ({ auth }) => ({ status: 'published', postId: auth.type === 'account' ? `by-${auth.tokens.accessToken}` : 'x', warnings: [] }),
    });
    const harness = createHarness({ providers: [provider] });
    const { resumeToken } = await pendingPublish(harness);
    expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken })).toMatchObject({ status: 'published', postId: 'by-access-refreshed-1' });
    expect(refusals).toBe(1);
    expect(provider.calls.refresh).toHaveLength(1);
  });

  it('gives no token for a pending answer without resume state (nothing letmepost could finish)', async () => {
    const provider = createTestProvider({ publish: async () => ({ status: 'pending', warnings: [] }) });
    const harness = createHarness({ providers: [provider] });
    const [result] = await harness.letmepost.publish({ post: { text: 'x' }, targets: [{ platform: 'linkedin', credentials: { accessToken: 'tok-123456', pageId: 'p' } }] });
    expect(result).toEqual({ status: 'pending', platform: 'linkedin', warnings: [] });
  });
});

describe('resume: launch caps', () => {
  it('keeps a pending publish counted, gives the posts back when resume ends failed, and keeps them when it published', async () => {
    const provider = processingPlatform({ states: ['failed', 'ready'] });
    const harness = createHarness({ providers: [provider], launchCaps: { linkedin: { limit: 1 } } });
    const { accountId, resumeToken } = await pendingPublish(harness);
    const publishAgain = async () =>
      (await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'again' }, targets: [{ accountId }] }))[0];

    expect(await publishAgain()).toMatchObject({ status: 'failed', error: { code: 'launch_cap_reached' } });
    expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken })).toMatchObject({ status: 'failed' });

    // The failed video created nothing, so its post is back in the budget.
    const second = await publishAgain();
    expect(second).toMatchObject({ status: 'pending' });
    expect(await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: second!.resumeToken! })).toMatchObject({ status: 'published' });
    expect(await publishAgain()).toMatchObject({ status: 'failed', error: { code: 'launch_cap_reached' } });
  });
});

describe('resume: tokens are sealed and bound', () => {
  it('refuses a token of another workspace, a changed token and a made-up one as validation_failed', async () => {
    const harness = createHarness({ providers: [processingPlatform({ states: [] })] });
    const { resumeToken } = await pendingPublish(harness);

    const otherWorkspace = await errorOf(harness.letmepost.resume({ workspaceId: 'ws-2', resumeToken }));
    expect(otherWorkspace).toMatchObject({ code: 'validation_failed', field: 'resumeToken', rule: 'resume_token.invalid' });
    const noWorkspace = await errorOf(harness.letmepost.resume({ resumeToken }));
    expect(noWorkspace).toMatchObject({ code: 'validation_failed', rule: 'resume_token.invalid' });

    const last = resumeToken.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${resumeToken.slice(0, -2)}${last}${resumeToken.at(-1)}`;
    expect(await errorOf(harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: tampered }))).toMatchObject({
      code: 'validation_failed',
      rule: 'resume_token.invalid',
    });
    const plainJson = Buffer.from(JSON.stringify({ video: 'video-1' })).toString('base64url');
    expect(await errorOf(harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: plainJson }))).toMatchObject({ code: 'validation_failed' });
  });

  it('refuses an expired token, naming the expiry', async () => {
    const harness = createHarness({ providers: [processingPlatform({ states: [] })], resumeTokenTtlMs: HOUR });
    const { resumeToken } = await pendingPublish(harness);
    harness.clock.advance(HOUR + 1);
    const expired = await errorOf(harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken }));
    expect(expired).toMatchObject({ code: 'validation_failed', field: 'resumeToken', rule: 'resume_token.expired' });
  });

  it('answers not_found once the account was removed', async () => {
    const provider = processingPlatform({ states: [] });
    const harness = createHarness({ providers: [provider] });
    const { accountId, resumeToken } = await pendingPublish(harness);
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId });
    expect(await errorOf(harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken }))).toMatchObject({ code: 'not_found' });
    expect(provider.calls.checkStatus).toHaveLength(0);
  });

  it('holds no provider state or secret in clear, and the store holds no token', async () => {
    const harness = createHarness({ providers: [processingPlatform({ states: [] })] });
    const { resumeToken } = await pendingPublish(harness);
    expect(resumeToken).not.toContain('video-1');
    expect(await harness.dump()).not.toContain(resumeToken);
  });

  it('needs the same per-request credentials again for a publish made with them', async () => {
    const provider = processingPlatform({ states: ['ready'] });
    const harness = createHarness({ providers: [provider] });
    const credentials = { accessToken: 'canary-resume-token-1', pageId: 'page-1' };
    const [pending] = await harness.letmepost.publish({ post: { text: 'x' }, targets: [{ platform: 'linkedin', credentials }] });
    const resumeToken = pending!.resumeToken!;
    expect(resumeToken).not.toContain('canary-resume-token-1');

    expect(await errorOf(harness.letmepost.resume({ resumeToken }))).toMatchObject({ code: 'validation_failed', rule: 'resume.credentials_required' });
    expect(
      await errorOf(harness.letmepost.resume({ resumeToken, credentials: { accessToken: 'someone-elses-token', pageId: 'page-1' } })),
    ).toMatchObject({ code: 'validation_failed', rule: 'resume.credentials_mismatch' });
    expect(await harness.letmepost.resume({ resumeToken, credentials })).toMatchObject({ status: 'published' });
    expect(provider.calls.finalize[0]?.auth).toEqual({ type: 'credentials', credentials });
  });
});

describe('resume: store faults after the platform acted', () => {
  it('returns the created post with a warning when its outcome cannot be recorded', async () => {
    const provider = processingPlatform({ states: ['ready'] });
    const inner = memoryTokenStore();
    let failResumeOutcome = false;
    const store: TokenStore = {
      ...bound(inner),
      async set(key, value, options) {
        if (failResumeOutcome && key.includes('/resumes/') && value.includes('"completed"')) {
          throw new LetmepostError({ code: 'store_unavailable', message: 'connection lost' });
        }
        return inner.set(key, value, options);
      },
    };
    const harness = createHarness({ providers: [provider], store });
    const { resumeToken } = await pendingPublish(harness);
    failResumeOutcome = true;
    const result = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken });
    expect(result).toMatchObject({ status: 'published', postId: 'post-1' });
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'store.outcome_not_recorded' })]);
  });
});

function bound(store: TokenStore): TokenStore {
  return {
    get: store.get.bind(store),
    set: store.set.bind(store),
    delete: store.delete.bind(store),
    list: store.list.bind(store),
    increment: store.increment.bind(store),
    withLock: store.withLock.bind(store),
  };
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}
