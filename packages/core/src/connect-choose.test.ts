import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { ProviderAccount } from './account.js';
import { CONNECT_SELECTION_TTL_MS } from './connect.js';
import { connectAccount, createHarness, createTestProvider, errorOf, type Harness } from './test-support/test-provider.js';

const PAGE_TOKEN = 'canary-page-token-0a9b';
const USER_ACCESS = 'access-code-1';

/** A Facebook-shaped login: two Pages (each with its own token) and one Instagram account. */
const familyAccounts: ProviderAccount[] = [
  { platformAccountId: 'page-1', kind: 'page', displayName: 'Bakery', tokens: { accessToken: `${PAGE_TOKEN}-1` } },
  { platformAccountId: 'page-2', kind: 'page', displayName: 'Cafe', tokens: { accessToken: `${PAGE_TOKEN}-2` } },
  { platform: 'instagram', platformAccountId: 'ig-1', kind: 'person', username: 'bakery.ig', data: { igUserId: 'ig-1' } },
];

function facebook() {
  return createTestProvider({ id: 'facebook', listAccounts: async () => structuredClone(familyAccounts) });
}

function callbackFor(url: string, platform = 'facebook'): string {
  const state = new URL(url).searchParams.get('state') ?? '';
  return `https://app.example.com/v1/accounts/oauth/${platform}/callback?code=code-1&state=${encodeURIComponent(state)}`;
}

async function startAndCallback(harness: Harness, { workspaceId = 'ws-1', chooseAccounts = false } = {}) {
  const { url } = await harness.letmepost.connect.start({ workspaceId, platform: 'facebook', allowQuickstartCreds: true, chooseAccounts });
  return harness.letmepost.connect.completeSession({ platform: 'facebook', callbackUrl: callbackFor(url) });
}

describe('yielded account platforms', () => {
  it('stores each yielded account under its own platform, checked by that provider', async () => {
    const instagram = createTestProvider({ id: 'instagram', without: ['authorizationUrl', 'exchangeCode', 'listAccounts'] });
    const harness = createHarness({ providers: [facebook(), instagram] });
    const completion = await startAndCallback(harness);
    expect(completion.accounts.map((account) => [account.platform, account.platformAccountId])).toEqual([
      ['facebook', 'page-1'],
      ['facebook', 'page-2'],
      ['instagram', 'ig-1'],
    ]);
    expect(completion.skipped).toEqual([]);
    // Publishing to the Instagram account goes through the Instagram provider.
    const [result] = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'hello' },
      targets: [{ accountId: completion.accounts[2]!.id }],
    });
    expect(result).toMatchObject({ status: 'published', platform: 'instagram' });
    expect(instagram.calls.publish[0]?.auth).toMatchObject({ type: 'account', tokens: { accessToken: USER_ACCESS } });
  });

  it("checks a yielded account's data against its own platform's accountSchema", async () => {
    const instagram = createTestProvider({ id: 'instagram' });
    (instagram as { accountSchema: z.ZodType<Record<string, unknown>> }).accountSchema = z.object({ igUserId: z.number() });
    const harness = createHarness({ providers: [facebook(), instagram] });
    const failure = await errorOf(startAndCallback(harness));
    expect([failure.code, failure.platform, failure.issues[0]?.field]).toEqual(['platform_auth_failed', 'instagram', 'data.igUserId']);
  });

  it('skips accounts of a platform without a registered provider, with a warning and a typed reason', async () => {
    const harness = createHarness({ providers: [facebook()] });
    const completion = await startAndCallback(harness);
    expect(completion.accounts.map((account) => account.platformAccountId)).toEqual(['page-1', 'page-2']);
    expect(completion.skipped).toEqual([{ platform: 'instagram', platformAccountId: 'ig-1', reason: 'provider_not_registered' }]);
    expect(harness.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'letmepost.connect.account_skipped', fields: expect.objectContaining({ accountPlatform: 'instagram' }) }),
    );
    expect((await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).map((account) => account.platform)).toEqual(['facebook', 'facebook']);
  });

  it('fails naming the missing provider when every yielded account is skipped', async () => {
    const harness = createHarness({
      providers: [
        createTestProvider({
          id: 'facebook',
          listAccounts: async () => [{ platform: 'instagram', platformAccountId: 'ig-1' }, { platform: 'myspace' as never, platformAccountId: 'x' }],
        }),
      ],
    });
    const failure = await errorOf(startAndCallback(harness));
    expect(failure.code).toBe('platform_auth_failed');
    expect(failure.message).toContain('instagram, myspace');
    expect(failure.remediation).toContain('createLetmepost({ providers })');
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
  });
});

describe('choosing accounts', () => {
  const providers = () => [facebook(), createTestProvider({ id: 'instagram' })];

  it('stores nothing at the callback and returns candidates with a sealed, short-lived selection', async () => {
    const harness = createHarness({ providers: providers() });
    const completion = await startAndCallback(harness, { chooseAccounts: true });
    expect(completion.accounts).toEqual([]);
    expect(completion.selection?.selectionId).toMatch(/^sel_[A-Za-z0-9_-]{43}$/);
    expect(completion.selection?.expiresAt).toBe(harness.clock.now() + CONNECT_SELECTION_TTL_MS);
    expect(completion.selection?.candidates).toEqual([
      { platform: 'facebook', platformAccountId: 'page-1', kind: 'page', displayName: 'Bakery' },
      { platform: 'facebook', platformAccountId: 'page-2', kind: 'page', displayName: 'Cafe' },
      { platform: 'instagram', platformAccountId: 'ig-1', kind: 'person', username: 'bakery.ig' },
    ]);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);

    const dump = await harness.dump();
    expect(dump).toContain('connect-selections/');
    expect(dump).not.toContain(completion.selection!.selectionId);
    expect(dump).not.toContain(PAGE_TOKEN);
    expect(dump).not.toContain(USER_ACCESS);
    expect(JSON.stringify(harness.logs)).not.toContain(completion.selection!.selectionId);
  });

  it('stores only the chosen accounts, each with its own tokens, and spends the selection', async () => {
    const harness = createHarness({ providers: providers() });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    const chosen = await harness.letmepost.connect.choose({
      workspaceId: 'ws-1',
      selectionId: selection!.selectionId,
      platformAccountIds: ['page-2', 'ig-1'],
    });
    expect(chosen.map((account) => [account.platform, account.platformAccountId])).toEqual([
      ['facebook', 'page-2'],
      ['instagram', 'ig-1'],
    ]);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(2);
    const pageKey = `ws/ws-1/accounts/${chosen[0]!.id}`;
    expect(await harness.open({ key: pageKey, field: 'tokens' })).toEqual({ accessToken: `${PAGE_TOKEN}-2` });
    expect(await harness.store.list('connect-selections/')).toEqual([]);

    const again = await errorOf(
      harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] }),
    );
    expect(again.code).toBe('state_invalid');
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(2);
  });

  it('refuses ids that were not offered, naming each, and leaves the selection usable', async () => {
    const harness = createHarness({ providers: providers() });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    const refused = await errorOf(
      harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1', 'page-9'] }),
    );
    expect([refused.code, refused.field, refused.rule]).toEqual(['validation_failed', 'platformAccountIds.1', 'connect.not_a_candidate']);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
    const chosen = await harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] });
    expect(chosen).toHaveLength(1);
  });

  it('lets an empty choice discard the grant', async () => {
    const harness = createHarness({ providers: providers() });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    expect(await harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: [] })).toEqual([]);
    expect(await harness.dump()).toBe('');
  });

  it('shows the selection again to its own workspace only, and marks accounts already connected', async () => {
    const harness = createHarness({ providers: providers() });
    const [existing] = await harness.letmepost.connect.complete({
      platform: 'facebook',
      callbackUrl: callbackFor(
        (await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'facebook', allowQuickstartCreds: true })).url,
      ),
    });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    expect(selection?.candidates[0]).toMatchObject({ platformAccountId: 'page-1', existingAccountId: existing!.id });
    expect(selection?.candidates[1]?.existingAccountId).toBe(
      (await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).find((account) => account.platformAccountId === 'page-2')?.id,
    );

    const shown = await harness.letmepost.connect.getSelection({ workspaceId: 'ws-1', selectionId: selection!.selectionId });
    expect(shown).toEqual(selection);
    for (const attempt of [
      harness.letmepost.connect.getSelection({ workspaceId: 'ws-2', selectionId: selection!.selectionId }),
      harness.letmepost.connect.choose({ workspaceId: 'ws-2', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] }),
      harness.letmepost.connect.getSelection({ workspaceId: 'ws-1', selectionId: 'sel_unknown' }),
    ]) {
      expect((await errorOf(attempt)).code).toBe('state_invalid');
    }
    // Reconnecting through a choice keeps the account id.
    const [chosen] = await harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] });
    expect(chosen?.id).toBe(existing!.id);
  });

  it('refuses an expired selection', async () => {
    const harness = createHarness({ providers: providers() });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    harness.clock.advance(CONNECT_SELECTION_TTL_MS + 1);
    const expired = await errorOf(
      harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] }),
    );
    expect(expired.code).toBe('state_invalid');
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
  });

  it('lets exactly one of two concurrent chooses store accounts', async () => {
    const harness = createHarness({ providers: providers() });
    const { selection } = await startAndCallback(harness, { chooseAccounts: true });
    const outcomes = await Promise.allSettled([
      harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-1'] }),
      harness.letmepost.connect.choose({ workspaceId: 'ws-1', selectionId: selection!.selectionId, platformAccountIds: ['page-2'] }),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(1);
  });

  it('keeps store-all as the default: complete stores every yielded account', async () => {
    const harness = createHarness({ providers: providers() });
    const accounts = await connectAccount({ harness, workspaceId: 'ws-1', platform: 'facebook' });
    expect(accounts).toHaveLength(3);
  });
});
