import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { TokenSet } from './account.js';
import { createEnvelopeCipher, parseEncryptionKey, rotateEncryptionKey } from './envelope-encryption.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import {
  TEST_ENCRYPTION_KEY,
  connectAccount,
  createHarness,
  createTestProvider,
  manualClock,
  type Harness,
} from './test-support/test-provider.js';
import type { TokenStore } from './token-store.js';

const HOUR = 3_600_000;

const memberAndOrganisations = async () => [
  { platformAccountId: 'member-1', kind: 'person' as const, username: 'alice', data: { urn: 'urn:li:person:member-1' } },
  { platformAccountId: '1001', kind: 'organization' as const, displayName: 'Org One', data: { urn: 'urn:li:organization:1001' } },
  { platformAccountId: '1002', kind: 'organization' as const, displayName: 'Org Two', data: { urn: 'urn:li:organization:1002' } },
];

function publishTo(harness: Harness, accountId: string) {
  return harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: `to ${accountId}` }, targets: [{ accountId }] });
}

async function grantTokens(harness: Harness, accountId: string): Promise<TokenSet> {
  const { key } = await harness.grantOf({ workspaceId: 'ws-1', accountId });
  return (await harness.open({ key, field: 'tokens' })) as TokenSet;
}

describe('grants', () => {
  it('stores one grant for a member and two organisations, and every account references it', async () => {
    const provider = createTestProvider({ listAccounts: memberAndOrganisations });
    const harness = createHarness({ providers: [provider] });
    const accounts = await connectAccount({ harness, workspaceId: 'ws-1' });
    expect(accounts).toHaveLength(3);

    const grants = await Promise.all(accounts.map((account) => harness.grantOf({ workspaceId: 'ws-1', accountId: account.id })));
    expect(new Set(grants.map((grant) => grant.grantId)).size).toBe(1);
    expect(await harness.store.list('ws/ws-1/grants/')).toHaveLength(1);
    // The tokens exist once, on the grant: no account record holds a copy.
    for (const account of accounts) {
      const raw = JSON.parse((await harness.store.get(`ws/ws-1/accounts/${account.id}`))!.value) as Record<string, unknown>;
      expect(raw).not.toHaveProperty('tokens');
      expect(raw).not.toHaveProperty('client');
      expect(raw.grantId).toBe(grants[0]!.grantId);
    }
    expect(await grantTokens(harness, accounts[0]!.id)).toMatchObject({ accessToken: 'access-code-1', refreshToken: 'refresh-code-1' });
  });

  it('removing one organisation revokes nothing and the siblings still publish; removing the last revokes once', async () => {
    const provider = createTestProvider({ listAccounts: memberAndOrganisations });
    const harness = createHarness({ providers: [provider] });
    const [member, first, second] = await connectAccount({ harness, workspaceId: 'ws-1' });

    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: first!.id });
    expect(provider.calls.revoke).toHaveLength(0);
    expect((await publishTo(harness, member!.id))[0]?.status).toBe('published');
    expect((await publishTo(harness, second!.id))[0]?.status).toBe('published');
    expect((await harness.letmepost.accounts.list({ workspaceId: 'ws-1' })).map((account) => account.id).sort()).toEqual(
      [member!.id, second!.id].sort(),
    );

    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: member!.id });
    expect(provider.calls.revoke).toHaveLength(0);
    expect((await publishTo(harness, second!.id))[0]?.status).toBe('published');

    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: second!.id });
    expect(provider.calls.revoke).toHaveLength(1);
    expect(provider.calls.revoke[0]?.tokens.accessToken).toBe('access-code-1');
    expect(await harness.store.list('ws/ws-1/grants/')).toEqual([]);
    expect(await harness.store.list('ws/ws-1/grant-accounts/')).toEqual([]);
  });

  it('publishes to three siblings of one expired grant at once with exactly one refresh', async () => {
    const provider = createTestProvider({
      listAccounts: memberAndOrganisations,
      refresh: async ({ tokens }) => {
        await sleep(20);
        return { accessToken: 'access-new', refreshToken: `${tokens.refreshToken}-next`, expiresAt: Date.UTC(2030, 0, 1) };
      },
    });
    const harness = createHarness({ providers: [provider] });
    const accounts = await connectAccount({ harness, workspaceId: 'ws-1' });
    harness.clock.advance(2 * HOUR);

    const results = await Promise.all(accounts.flatMap((account) => [publishTo(harness, account.id), publishTo(harness, account.id)]));
    expect(results.map(([result]) => result?.status)).toEqual(Array(6).fill('published'));
    expect(provider.calls.refresh).toHaveLength(1);
    for (const call of provider.calls.publish) expect(call.auth.type === 'account' && call.auth.tokens.accessToken).toBe('access-new');
    expect((await grantTokens(harness, accounts[2]!.id)).refreshToken).toBe('refresh-code-1-next');
  });

  it('marks the whole grant reauth_required when its refresh is refused, and a reconnect repairs every sibling', async () => {
    const provider = createTestProvider({
      listAccounts: memberAndOrganisations,
      refresh: async () => {
        throw new LetmepostError({ code: 'reauth_required', platform: 'linkedin', message: 'invalid_grant' });
      },
    });
    const harness = createHarness({ providers: [provider] });
    const accounts = await connectAccount({ harness, workspaceId: 'ws-1' });
    const { grantId } = await harness.grantOf({ workspaceId: 'ws-1', accountId: accounts[0]!.id });
    harness.clock.advance(2 * HOUR);

    expect((await publishTo(harness, accounts[1]!.id))[0]?.error?.code).toBe('reauth_required');
    const listed = await harness.letmepost.accounts.list({ workspaceId: 'ws-1' });
    expect(listed.map((account) => account.status)).toEqual(['reauth_required', 'reauth_required', 'reauth_required']);

    const reconnected = await connectAccount({ harness, workspaceId: 'ws-1', code: 'code-2' });
    expect(reconnected.map((account) => account.id)).toEqual(accounts.map((account) => account.id));
    expect(reconnected.map((account) => account.status)).toEqual(['active', 'active', 'active']);
    expect((await harness.grantOf({ workspaceId: 'ws-1', accountId: accounts[2]!.id })).grantId).toBe(grantId);
    expect(await harness.store.list('ws/ws-1/grants/')).toHaveLength(1);
    expect(await grantTokens(harness, accounts[0]!.id)).toMatchObject({ accessToken: 'access-code-2' });
    expect(provider.calls.revoke).toHaveLength(0);
  });

  it('keeps an account’s own tokens sealed on the account and publishes with them', async () => {
    const provider = createTestProvider({
      listAccounts: async () => [
        { platformAccountId: 'member-1', kind: 'person' },
        { platformAccountId: 'page-1', kind: 'page', tokens: { accessToken: 'page-token-1' } },
      ],
    });
    const harness = createHarness({ providers: [provider] });
    const [member, page] = await connectAccount({ harness, workspaceId: 'ws-1' });
    await publishTo(harness, member!.id);
    await publishTo(harness, page!.id);
    expect(provider.calls.publish.map((call) => call.auth.type === 'account' && call.auth.tokens.accessToken)).toEqual([
      'access-code-1',
      'page-token-1',
    ]);
    expect(await harness.open({ key: `ws/ws-1/accounts/${page!.id}`, field: 'tokens' })).toEqual({ accessToken: 'page-token-1' });
  });

  it('passes the grant data a credentials connect returned to refresh and revoke', async () => {
    const provider = createTestProvider({
      id: 'bluesky',
      connectWithCredentials: async () => ({
        account: { platformAccountId: 'did:plc:a', kind: 'person' },
        tokens: { accessToken: 'jwt-1', refreshToken: 'refresh-jwt-1', expiresAt: Date.UTC(2026, 0, 15, 12, 30) },
        grantData: { pdsUrl: 'https://pds.test', did: 'did:plc:a' },
      }),
    });
    const harness = createHarness({ providers: [provider] });
    const account = await harness.letmepost.connect.withCredentials({
      workspaceId: 'ws-1',
      platform: 'bluesky',
      credentials: { accessToken: 'x', pageId: 'p' },
    });
    harness.clock.advance(HOUR);
    await publishTo(harness, account.id);
    await harness.letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: account.id });
    expect(provider.calls.refresh[0]?.grantData).toEqual({ pdsUrl: 'https://pds.test', did: 'did:plc:a' });
    expect(provider.calls.revoke[0]?.grantData).toEqual({ pdsUrl: 'https://pds.test', did: 'did:plc:a' });
  });
});

describe('sealed records bound to their version', () => {
  it('refuses a replayed older grant record with decryption_failed', async () => {
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const { key } = await harness.grantOf({ workspaceId: 'ws-1', accountId: account!.id });
    const captured = (await harness.store.get(key))!.value;

    harness.clock.advance(2 * HOUR); // a refresh rewrites the grant
    expect((await publishTo(harness, account!.id))[0]?.status).toBe('published');
    expect(provider.calls.refresh).toHaveLength(1);

    // Someone with write access to the store puts yesterday's record back.
    await harness.store.set(key, captured);
    const [replayed] = await publishTo(harness, account!.id);
    expect(replayed).toMatchObject({ status: 'failed', error: { code: 'decryption_failed' } });
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish).toHaveLength(1);
  });

  it('refuses a record written back at a later version even when its content is current', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const { key, version } = await harness.grantOf({ workspaceId: 'ws-1', accountId: account!.id });
    const current = (await harness.store.get(key))!.value;
    await harness.store.set(key, current, { expectedVersion: version });
    expect((await publishTo(harness, account!.id))[0]?.error?.code).toBe('decryption_failed');
  });

  it('refuses a replayed older workspace app record', async () => {
    const harness = createHarness({ providers: [createTestProvider()] });
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'app-1', clientSecret: 'secret-1' });
    const key = 'ws/ws-1/app-credentials/linkedin';
    const captured = (await harness.store.get(key))!.value;
    await harness.letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'app-2', clientSecret: 'secret-2' });
    await harness.store.set(key, captured);
    const error = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'decryption_failed' });
  });

  it('keeps version-bound records readable through key rotation (rotation re-binds them to the version it writes)', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const provider = createTestProvider();
    const oldKeyring = parseEncryptionKey({ current: { id: 'first', key: TEST_ENCRYPTION_KEY } });
    const writer = createHarness({ providers: [provider], store, clock, encryptionKey: oldKeyring });
    const [account] = await connectAccount({ harness: writer, workspaceId: 'ws-1' });

    const newKeyring = parseEncryptionKey({
      current: { id: 'next', key: Buffer.alloc(32, 7).toString('base64') },
      previous: [{ id: 'first', key: TEST_ENCRYPTION_KEY }],
    });
    const result = await rotateEncryptionKey({ store, keyring: newKeyring, clock });
    expect(result.rewrapped).toBeGreaterThan(0);
    const { key } = await writer.grantOf({ workspaceId: 'ws-1', accountId: account!.id });
    expect((await store.get(key))!.value).toMatch(/"tokens":"lmp2\.next\./);

    const reader = createHarness({ providers: [provider], store, clock, encryptionKey: newKeyring });
    expect((await publishTo(reader, account!.id))[0]?.status).toBe('published');
    // The rewrite by rotation moved the version; the replaced copy no longer opens.
    const cipher = createEnvelopeCipher({ keyring: newKeyring });
    const entry = (await store.get(key))!;
    const sealed = (JSON.parse(entry.value) as { tokens: string }).tokens;
    expect(() => cipher.decrypt({ ciphertext: sealed, associatedData: `${key}#tokens`, recordVersion: entry.version - 1 })).toThrow(
      /does not authenticate|could not be unwrapped/,
    );
  });
});

/** Fails every write to a grant record while `failing()` says so, like a store that went away. */
function flakyGrantWrites(inner: TokenStore, failing: () => boolean): TokenStore & { failures: number } {
  const wrapper = {
    ...inner,
    failures: 0,
    async set(key: string, value: string, options?: Parameters<TokenStore['set']>[2]) {
      if (key.includes('/grants/') && failing()) {
        wrapper.failures += 1;
        throw new LetmepostError({ code: 'store_unavailable', message: 'Could not reach the store (ECONNRESET).', retryable: true });
      }
      return inner.set(key, value, options);
    },
  };
  return wrapper;
}

/** One account whose grant has expired, on a store whose grant writes fail until `storeBack()`. */
async function expiredGrantDuringOutage() {
  const clock = manualClock();
  let down = false;
  const store = flakyGrantWrites(memoryTokenStore({ clock }), () => down);
  const provider = createTestProvider();
  const harness = createHarness({ providers: [provider], store, clock });
  const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
  clock.advance(2 * HOUR);
  down = true;
  return {
    clock,
    store,
    provider,
    harness,
    account,
    storeBack: () => {
      down = false;
    },
  };
}

describe('store lost during a rotating refresh', () => {
  it('retries the write of rotated tokens with backoff and publishes once the store answers', async () => {
    const clock = manualClock();
    let remainingFailures = 0;
    const store = flakyGrantWrites(memoryTokenStore({ clock }), () => remainingFailures-- > 0);
    const provider = createTestProvider();
    const harness = createHarness({ providers: [provider], store, clock });
    const [account] = await connectAccount({ harness, workspaceId: 'ws-1' });
    clock.advance(2 * HOUR);
    remainingFailures = 3;

    const [result] = await publishTo(harness, account!.id);
    expect(result?.status).toBe('published');
    expect(store.failures).toBe(3);
    expect(provider.calls.refresh).toHaveLength(1);
    expect(await grantTokens(harness, account!.id)).toMatchObject({ accessToken: 'access-refreshed-1', refreshToken: 'refresh-rotated-1' });
    expect(harness.logs.filter((entry) => entry.message === 'letmepost.grant.write_retry')).toHaveLength(3);
  });

  it('holds rotated tokens in the process through a longer outage and writes them before refreshing again', async () => {
    const { provider, harness, account, storeBack } = await expiredGrantDuringOutage();

    const [during] = await publishTo(harness, account!.id);
    expect(during).toMatchObject({ status: 'failed', error: { code: 'store_unavailable', retryable: true } });
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish).toHaveLength(0);
    expect(harness.logs.some((entry) => entry.message === 'letmepost.grant.refresh_held')).toBe(true);

    storeBack();
    const [after] = await publishTo(harness, account!.id);
    expect(after?.status).toBe('published');
    // The rotated set was written, not thrown away: no second refresh spent the old token.
    expect(provider.calls.refresh).toHaveLength(1);
    expect(provider.calls.publish[0]?.auth.type === 'account' && provider.calls.publish[0].auth.tokens.accessToken).toBe('access-refreshed-1');
    expect(await grantTokens(harness, account!.id)).toMatchObject({ refreshToken: 'refresh-rotated-1' });
    expect((await harness.letmepost.accounts.get({ workspaceId: 'ws-1', accountId: account!.id })).status).toBe('active');
  }, 20_000);

  it('writes held tokens in the background once the store is back, so other processes find them', async () => {
    const { provider, harness, account, storeBack, store, clock } = await expiredGrantDuringOutage();
    expect((await publishTo(harness, account!.id))[0]?.error?.code).toBe('store_unavailable');

    storeBack();
    // No publish from this process: the background writer alone puts the rotated set in the store.
    for (let waited = 0; waited < 10_000; waited += 100) {
      if ((await grantTokens(harness, account!.id)).refreshToken === 'refresh-rotated-1') break;
      await sleep(100);
    }
    expect(await grantTokens(harness, account!.id)).toMatchObject({ accessToken: 'access-refreshed-1', refreshToken: 'refresh-rotated-1' });
    expect(provider.calls.refresh).toHaveLength(1);
    // Another instance on the same store now uses them without refreshing.
    const other = createHarness({ providers: [provider], store, clock });
    expect((await publishTo(other, account!.id))[0]?.status).toBe('published');
    expect(provider.calls.refresh).toHaveLength(1);
  }, 30_000);
});
