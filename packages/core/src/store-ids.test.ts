import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { storeKeys } from './store-layout.js';
import { connectAccount, createHarness, createTestProvider, errorOf } from './test-support/test-provider.js';

// A lone UTF-16 surrogate has no UTF-8 form, so `encodeURIComponent` throws a raw URIError on it
// when the id becomes a store key. Every id from outside is checked first: validation_failed
// naming the field, never a URIError.
const LONE = 'acc_\ud800x';

describe('ids that become store keys', () => {
  it('an account id with a lone surrogate is validation_failed for get, remove and publish', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const got = await errorOf(harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId: LONE }));
    expect([got.code, got.field]).toEqual(['validation_failed', 'accountId']);
    const removed = await errorOf(harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: LONE }));
    expect([removed.code, removed.field]).toEqual(['validation_failed', 'accountId']);
    const published = await errorOf(harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'hi' }, targets: [{ accountId: LONE }] }));
    expect(published.code).toBe('validation_failed');
    expect(published.issues.map((issue) => issue.field)).toContain('targets.0.accountId');
  });

  it('a workspace id or idempotency key with a lone surrogate is validation_failed', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const listed = await errorOf(harness.letmepost.accounts.list({ workspaceId: '\udc00' }));
    expect([listed.code, listed.field]).toEqual(['validation_failed', 'workspaceId']);
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const keyed = await errorOf(
      harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'hi' }, targets: [{ accountId: account!.id }], idempotencyKey: 'key-\ud83d' }),
    );
    expect(keyed.code).toBe('validation_failed');
    expect(keyed.issues.map((issue) => issue.field)).toContain('idempotencyKey');
  });

  it('a well-formed id with a surrogate pair is accepted and encoded', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-😀' })).toEqual([]);
    expect(storeKeys.account({ workspaceId: 'ws-😀', accountId: 'a/b' })).toBe('ws/ws-%F0%9F%98%80/accounts/a%2Fb');
  });

  it('a key built from a value that skipped validation is a typed error, not a URIError', () => {
    let thrown: unknown;
    try {
      storeKeys.accountByPlatformId({ workspaceId: 'ws-1', platform: 'linkedin', platformAccountId: '\ud800' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).not.toBeInstanceOf(URIError);
    expect(LetmepostError.isInstance(thrown)).toBe(true);
    expect((thrown as LetmepostError).code).toBe('validation_failed');
    expect((thrown as LetmepostError).rule).toBe('store.key_malformed');
  });
});

describe('ids of the account targets call', () => {
  it('an account id with a lone surrogate is validation_failed naming the field', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const listed = await errorOf(harness.letmepost.accounts.listTargets({ workspaceId: 'ws-1', accountId: LONE }));
    expect([listed.code, listed.field]).toEqual(['validation_failed', 'accountId']);
  });
});
