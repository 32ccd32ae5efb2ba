import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { storeKeys } from './store-layout.js';
import { connectAccount, createHarness, createTestProvider, errorOf } from './test-support/test-provider.js';

describe('accounts', () => {
  it('lists a workspace’s accounts in connection order, without secrets', async () => {
    const provider = createTestProvider({
      exchangeCode: async ({ callbackUrl }) => ({
        accessToken: `canary-access-${callbackUrl.searchParams.get('code')}`,
        refreshToken: `canary-refresh-${callbackUrl.searchParams.get('code')}`,
      }),
      listAccounts: async ({ tokens }) => [{ platformAccountId: tokens.accessToken.slice(-1), username: `user-${tokens.accessToken.slice(-1)}` }],
    });
    const harness = createHarness({ providers: [provider] });
    await connectAccount({ harness, workspaceId: 'ws-1', code: 'a' });
    harness.clock.advance(1000);
    await connectAccount({ harness, workspaceId: 'ws-1', code: 'b' });
    await connectAccount({ harness, workspaceId: 'ws-2', code: 'c' });

    const listed = await harness.letmepost.accounts.list({ workspaceId: 'ws-1' });
    expect(listed.map((account) => account.username)).toEqual(['user-a', 'user-b']);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-3' })).toEqual([]);
    const got = await harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId: listed[0]!.id });
    expect(got).toEqual(listed[0]);

    const exposed = JSON.stringify(listed) + inspect(listed, { depth: 10 }) + JSON.stringify(got) + JSON.stringify(harness.logs);
    expect(exposed).not.toContain('canary-');
    expect(await harness.dump()).not.toContain('canary-');
  });

  it('never shows or removes another workspace’s account: not_found either way', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });

    const seen = await errorOf(harness.letmepost.accounts.get({ workspaceId: 'ws-2', accountId: account!.id }));
    expect(seen.code).toBe('not_found');
    const removed = await errorOf(harness.letmepost.accounts.remove({ workspaceId: 'ws-2', accountId: account!.id }));
    expect(removed.code).toBe('not_found');
    const missing = await errorOf(harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId: 'acc_nope' }));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toBe(removed.message.replace(account!.id, 'acc_nope'));
    expect(provider.calls.revoke).toHaveLength(0);
    expect(await harness.letmepost.accounts.get({ accountId: account!.id })).toMatchObject({ id: account!.id });
  });

  it('revokes at the platform with the account’s tokens and app, then forgets the account', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: account!.id });

    expect(provider.calls.revoke).toHaveLength(1);
    expect(provider.calls.revoke[0]).toMatchObject({
      tokens: { accessToken: 'access-code-1', refreshToken: 'refresh-code-1' },
      client: { clientId: 'instance-client-id' },
    });
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
    expect((await errorOf(harness.letmepost.accounts.get({ accountId: account!.id }))).code).toBe('not_found');
    expect(await harness.dump()).toBe('');

    // Reconnecting afterwards creates a new account.
    const [again] = await connectAccount({ harness, workspaceId: 'ws-1' });
    expect(again?.id).not.toBe(account?.id);
  });

  it('removes the account even when the platform refuses the revoke', async () => {
    const provider = createTestProvider({
      revoke: async () => {
        throw new LetmepostError({ code: 'platform_unavailable', platform: 'linkedin', message: 'down' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    await harness.letmepost.accounts.remove({ accountId: account!.id });
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
    expect(harness.logs.find((entry) => entry.message === 'letmepost.account.revoke_failed')).toMatchObject({
      level: 'warn',
      fields: { errorCode: 'platform_unavailable', accountId: account!.id },
    });
  });

  it('exposes status, expiry and the reconnect deadline', async () => {
    const withoutRefresh = createTestProvider({
      exchangeCode: async () => ({ accessToken: 'a', expiresAt: Date.UTC(2026, 2, 1) }),
    });
    const harness = createHarness({ providers: [withoutRefresh] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    // No refresh token: the access token's expiry is when the user must come back.
    expect(account).toMatchObject({ status: 'active', expiresAt: Date.UTC(2026, 2, 1), reauthBy: Date.UTC(2026, 2, 1) });
  });

  it('validates its input', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    expect((await errorOf(harness.letmepost.accounts.list({ workspaceId: '' }))).field).toBe('workspaceId');
    expect((await errorOf(harness.letmepost.accounts.get({ accountId: '' }))).field).toBe('accountId');
  });

  it('keeps a workspace id with slashes inside its own prefix', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    await connectAccount({ harness, workspaceId: 'team/a' });
    expect(await harness.letmepost.accounts.list({ workspaceId: 'team' })).toEqual([]);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'team/a' })).toHaveLength(1);
    expect(storeKeys.accountsPrefix({ workspaceId: 'team/a' })).toBe('ws/team%2Fa/accounts/');
  });
});
