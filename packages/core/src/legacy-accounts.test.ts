import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TokenSet } from './account.js';
import { memoryTokenStore } from './memory-token-store.js';
import { createHarness, createTestProvider, manualClock, type Harness } from './test-support/test-provider.js';
import type { TokenStore } from './token-store.js';

/**
 * `__fixtures__/v1-store.json` was written by the release before grants (capture script next to
 * it): a LinkedIn member and two organisations from one consent, each with its own copy of the
 * tokens, a Bluesky account connected with an app password, and a workspace app.
 */
const fixtureSchema = z.object({
  encryptionKey: z.string(),
  capturedAt: z.number(),
  accounts: z.object({
    linkedInMember: z.string(),
    linkedInOrganizations: z.tuple([z.string(), z.string()]),
    bluesky: z.string(),
  }),
  entries: z.array(z.object({ key: z.string(), value: z.string(), version: z.number() })),
});
const fixture = fixtureSchema.parse(JSON.parse(readFileSync(new URL('./__fixtures__/v1-store.json', import.meta.url), 'utf8')));
const HOUR = 3_600_000;

/** Puts every fixture entry into `store` at the version it had when it was captured. */
async function loadFixture(store: TokenStore): Promise<void> {
  for (const entry of fixture.entries) {
    let version = 0;
    while (version < entry.version) version = (await store.set(entry.key, entry.value)).version;
  }
}

async function upgradedHarness() {
  const clock = manualClock(fixture.capturedAt);
  const store = memoryTokenStore({ clock });
  await loadFixture(store);
  const linkedin = createTestProvider({ id: 'linkedin', defaultClient: { clientId: 'linkedin-client-id' } });
  const bluesky = createTestProvider({ id: 'bluesky', defaultClient: null });
  const harness = createHarness({ providers: [linkedin, bluesky], store, clock, encryptionKey: fixture.encryptionKey });
  return { harness, linkedin, bluesky, clock };
}

async function rawRecord(harness: Harness, key: string): Promise<Record<string, unknown>> {
  return JSON.parse((await harness.store.get(key))!.value) as Record<string, unknown>;
}

const { linkedInMember, linkedInOrganizations, bluesky: blueskyAccount } = fixture.accounts;
const linkedInAccounts = [linkedInMember, ...linkedInOrganizations];

describe('upgrading a store written by the previous release (v1 account records)', () => {
  it('lists every account with the same ids and statuses', async () => {
    const { harness } = await upgradedHarness();
    const listed = await harness.letmepost.accounts.list({ workspaceId: 'ws-1' });
    expect(listed.map((account) => account.id).sort()).toEqual([...linkedInAccounts, blueskyAccount].sort());
    expect(listed.every((account) => account.status === 'active')).toBe(true);
    expect(listed.find((account) => account.id === linkedInMember)).toMatchObject({
      platform: 'linkedin',
      platformAccountId: 'member-1',
      expiresAt: fixture.capturedAt + HOUR,
      scopes: ['w_member_social', 'w_organization_social'],
    });
  });

  it('writes the records forward: the three LinkedIn copies become one grant, Bluesky its own', async () => {
    const { harness } = await upgradedHarness();
    await harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId: linkedInOrganizations[0] });

    const grants = await harness.store.list('ws/ws-1/grants/');
    expect(grants).toHaveLength(2);
    const linkedInGrant = await harness.grantOf({ workspaceId: 'ws-1', accountId: linkedInMember });
    for (const accountId of linkedInAccounts) {
      const record = await rawRecord(harness, `ws/ws-1/accounts/${accountId}`);
      expect(record).toMatchObject({ v: 2, id: accountId, grantId: linkedInGrant.grantId });
      expect(record).not.toHaveProperty('tokens');
    }
    expect((await harness.grantOf({ workspaceId: 'ws-1', accountId: blueskyAccount })).grantId).not.toBe(linkedInGrant.grantId);
    // Re-sealed under the grant's key and bound to its version.
    expect(linkedInGrant.record.tokens).toMatch(/^lmp2\./);
    expect(await harness.open({ key: linkedInGrant.key, field: 'tokens' })).toMatchObject({
      accessToken: 'linkedin-access-v1',
      refreshToken: 'linkedin-refresh-v1',
    });
    expect(await harness.open({ key: linkedInGrant.key, field: 'client' })).toEqual({
      clientId: 'linkedin-client-id',
      clientSecret: 'linkedin-client-secret-v1',
    });
    const bluesky = await harness.grantOf({ workspaceId: 'ws-1', accountId: blueskyAccount });
    expect(bluesky.record.data).toEqual({ did: 'did:plc:alice', pdsUrl: 'https://pds.bluesky.test', handle: 'alice.bsky.test' });
    expect(harness.logs.filter((entry) => entry.message === 'letmepost.account.migrated')).toHaveLength(2);
    // Untouched records of other kinds still open (the workspace app is read at connect).
    expect(await harness.open({ key: 'ws/ws-1/app-credentials/linkedin', field: 'clientSecret' })).toBe('ws-app-secret-v1');
  });

  it('publishes with the upgraded tokens, then refreshes the shared grant once for all three accounts', async () => {
    const { harness, linkedin, bluesky, clock } = await upgradedHarness();
    const [first] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'after upgrade' }, targets: [{ accountId: linkedInMember }] });
    expect(first?.status).toBe('published');
    expect(linkedin.calls.publish[0]?.auth).toMatchObject({ type: 'account', tokens: { accessToken: 'linkedin-access-v1' } });

    clock.advance(2 * HOUR);
    const results = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'after expiry' },
      targets: [...linkedInAccounts.map((accountId) => ({ accountId })), { accountId: blueskyAccount }],
    });
    expect(results.map((result) => result.status)).toEqual(['published', 'published', 'published', 'published']);
    expect(linkedin.calls.refresh).toHaveLength(1);
    expect(linkedin.calls.refresh[0]).toMatchObject({
      tokens: { accessToken: 'linkedin-access-v1', refreshToken: 'linkedin-refresh-v1' },
      client: { clientId: 'linkedin-client-id', clientSecret: 'linkedin-client-secret-v1' },
    });
    expect(bluesky.calls.refresh).toHaveLength(1);
    expect(bluesky.calls.refresh[0]).toMatchObject({
      tokens: { refreshToken: 'bluesky-refresh-v1', secrets: { appPassword: 'bluesky-app-password-v1' } },
      grantData: { did: 'did:plc:alice', pdsUrl: 'https://pds.bluesky.test' },
    });
    const refreshed = await harness.grantOf({ workspaceId: 'ws-1', accountId: linkedInOrganizations[1] });
    expect(((await harness.open({ key: refreshed.key, field: 'tokens' })) as TokenSet).accessToken).toBe('access-refreshed-1');
  });

  it('removing one upgraded organisation revokes nothing; removing all three revokes once', async () => {
    const { harness, linkedin } = await upgradedHarness();
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: linkedInOrganizations[0] });
    expect(linkedin.calls.revoke).toHaveLength(0);
    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'still here' }, targets: [{ accountId: linkedInOrganizations[1] }] });
    expect(result?.status).toBe('published');
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: linkedInOrganizations[1] });
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: linkedInMember });
    expect(linkedin.calls.revoke).toHaveLength(1);
    expect(linkedin.calls.revoke[0]?.tokens.accessToken).toBe('linkedin-access-v1');
  });

  it('migrates once when two instances read the same v1 workspace at the same time', async () => {
    const clock = manualClock(fixture.capturedAt);
    const store = memoryTokenStore({ clock });
    await loadFixture(store);
    const instances = [0, 1].map(() =>
      createHarness({
        providers: [createTestProvider({ id: 'linkedin' }), createTestProvider({ id: 'bluesky', defaultClient: null })],
        store,
        clock,
        encryptionKey: fixture.encryptionKey,
      }),
    );
    const lists = await Promise.all(instances.map((instance) => instance.letmepost.accounts.list({ workspaceId: 'ws-1' })));
    expect(lists.map((list) => list.length)).toEqual([4, 4]);
    expect(await store.list('ws/ws-1/grants/')).toHaveLength(2);
  });

  it('a reconnect of an upgraded member keeps its id and its grant', async () => {
    const { harness } = await upgradedHarness();
    await harness.letmepost.accounts.list({ workspaceId: 'ws-1' });
    const before = await harness.grantOf({ workspaceId: 'ws-1', accountId: linkedInMember });
    const { url } = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin', allowQuickstartCreds: true });
    const state = new URL(url).searchParams.get('state') ?? '';
    const [account] = await harness.letmepost.connect.complete({
      platform: 'linkedin',
      callbackUrl: `https://app.example.com/v1/accounts/oauth/linkedin/callback?code=again&state=${state}`,
    });
    expect(account?.id).toBe(linkedInMember);
    const after = await harness.grantOf({ workspaceId: 'ws-1', accountId: linkedInMember });
    expect(after.grantId).toBe(before.grantId);
    expect(await harness.open({ key: after.key, field: 'tokens' })).toMatchObject({ accessToken: 'access-again' });
    // The organisations of the same consent draw on the updated grant too.
    expect((await harness.grantOf({ workspaceId: 'ws-1', accountId: linkedInOrganizations[0] })).grantId).toBe(before.grantId);
  });
});
