import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLetmepost, type CreateLetmepostOptions } from './create-letmepost.js';
import { loadConfigFromEnv } from './load-config-from-env.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import { storeKeys } from './store-layout.js';
import {
  INSTANCE_CLIENT_SECRET,
  TEST_ENCRYPTION_KEY,
  connectAccount,
  createHarness,
  createTestProvider,
  manualClock,
} from './test-support/test-provider.js';
import { letmepostErrorOf } from './test-support/errors.js';

const thrownBy = letmepostErrorOf;

const valid = (): CreateLetmepostOptions => ({
  providers: [createTestProvider()],
  store: memoryTokenStore(),
  encryptionKey: TEST_ENCRYPTION_KEY,
  baseUrl: 'https://app.example.com',
});

describe('createLetmepost options', () => {
  it('accepts valid options', () => {
    expect(Object.keys(createLetmepost(valid())).sort()).toEqual(['accounts', 'appCredentials', 'connect', 'publish', 'redirectUris', 'resume']);
  });

  it.each([
    ['not a url', 'baseUrl'],
    ['ftp://app.example.com', 'baseUrl'],
    ['https://app.example.com/?x=1', 'baseUrl'],
    ['https://app.example.com/#top', 'baseUrl'],
  ])('refuses baseUrl %s naming the field', (baseUrl, field) => {
    const error = thrownBy(() => createLetmepost({ ...valid(), baseUrl }));
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe(field);
  });

  it('refuses duplicate provider ids, naming the index', () => {
    const error = thrownBy(() =>
      createLetmepost({ ...valid(), providers: [createTestProvider(), createTestProvider({ id: 'twitter' }), createTestProvider()] }),
    );
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe('providers.2.id');
    expect(error.message).toContain('linkedin');
  });

  it('refuses a provider built for the v1 contract, saying its package needs upgrading', () => {
    const legacy = { ...createTestProvider(), specificationVersion: 'v1' } as never;
    const error = thrownBy(() => createLetmepost({ ...valid(), providers: [legacy] }));
    expect(error.field).toBe('providers.0');
    expect(error.message).toContain('"v2"');
    expect(error.message).toContain('upgraded');
    expect(() => createLetmepost({ ...valid(), providers: [createTestProvider()] })).not.toThrow();
  });

  it('refuses things that are not providers or stores', () => {
    expect(thrownBy(() => createLetmepost({ ...valid(), providers: [{ id: 'linkedin' } as never] })).field).toBe('providers.0');
    expect(thrownBy(() => createLetmepost({ ...valid(), store: { get() {} } as never })).field).toBe('store');
    expect(thrownBy(() => createLetmepost({ ...valid(), publishConcurrency: 0 })).field).toBe('publishConcurrency');
    expect(thrownBy(() => createLetmepost({ ...valid(), launchCaps: { twitter: { limit: -1 } } })).field).toBe(
      'launchCaps.twitter.limit',
    );
  });

  it('refuses a malformed encryption key without echoing it', () => {
    const error = thrownBy(() => createLetmepost({ ...valid(), encryptionKey: 'canary-short-key' }));
    expect(error.code).toBe('encryption_key_invalid');
    expect(JSON.stringify(error) + error.message).not.toContain('canary-short-key');
  });

  it('accepts the output of loadConfigFromEnv', async () => {
    const config = loadConfigFromEnv({
      BETTER_AUTH_URL: 'https://posts.example.org/',
      KEK_MASTER: TEST_ENCRYPTION_KEY,
      TWITTER_LAUNCH_CAP_PER_ACCOUNT: '1',
    });
    const provider = createTestProvider({ id: 'twitter' });
    const letmepost = createLetmepost({ ...config, providers: [provider], store: memoryTokenStore() });
    const started = await letmepost.connect.start({ workspaceId: 'w', platform: 'twitter', allowQuickstartCreds: true });
    expect(new URL(started.url).searchParams.get('redirect_uri')).toBe('https://posts.example.org/v1/accounts/oauth/twitter/callback');
    const send = () =>
      letmepost.publish({ post: { text: 'x' }, targets: [{ platform: 'twitter', credentials: { accessToken: 'tok', pageId: 'p' } }] });
    expect((await send())[0]?.status).toBe('published');
    expect((await send())[0]?.error?.code).toBe('launch_cap_reached');
  });
});

describe('secrets at rest', () => {
  it('stores no planted secret in clear anywhere in the store', async () => {
    const canaries = {
      access: 'canary-at-rest-access-1a2b',
      refresh: 'canary-at-rest-refresh-3c4d',
      extra: 'canary-at-rest-extra-5e6f',
      appSecret: 'canary-at-rest-app-7a8b',
    };
    const provider = createTestProvider({
      exchangeCode: async () => ({
        accessToken: canaries.access,
        refreshToken: canaries.refresh,
        secrets: { tokenSecret: canaries.extra },
        expiresAt: Date.UTC(2030, 0, 1),
      }),
    });
    const harness = createHarness({ providers: [provider] });
    await harness.letmepost.appCredentials.put({
      workspaceId: 'ws-1',
      platform: 'linkedin',
      clientId: 'c',
      clientSecret: canaries.appSecret,
    });
    const started = await harness.letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin' });
    const pending = await harness.dump(); // while the session (verifier, app secret) is stored
    const state = new URL(started.url).searchParams.get('state') ?? '';
    const [account] = await harness.letmepost.connect.complete({
      platform: 'linkedin',
      callbackUrl: `https://app.example.com/v1/accounts/oauth/linkedin/callback?code=c&state=${state}`,
    });
    await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: account!.id }], idempotencyKey: 'k' });
    const dump = pending + (await harness.dump());

    for (const canary of [...Object.values(canaries), INSTANCE_CLIENT_SECRET, provider.calls.exchangeCode[0]!.codeVerifier]) {
      expect(dump).not.toContain(canary);
    }
    expect(JSON.stringify(harness.logs)).not.toMatch(/canary-at-rest/);
    const { key } = await harness.grantOf({ workspaceId: 'ws-1', accountId: account!.id });
    expect(await harness.open({ key, field: 'tokens' })).toMatchObject({ accessToken: canaries.access, secrets: { tokenSecret: canaries.extra } });
    expect(await harness.open({ key, field: 'client' })).toEqual({ clientId: 'c', clientSecret: canaries.appSecret });
  });

  it('binds each ciphertext to its record: a token moved to another account fails to decrypt', async () => {
    const provider = createTestProvider({
      listAccounts: async () => [
        { platformAccountId: 'one', tokens: { accessToken: 'canary-token-one' } },
        { platformAccountId: 'two', tokens: { accessToken: 'canary-token-two' } },
      ],
    });
    const harness = createHarness({ providers: [provider] });
    const [one, two] = await connectAccount({ harness, workspaceId: 'ws-1' });
    const keyOne = storeKeys.account({ workspaceId: 'ws-1', accountId: one!.id });
    const keyTwo = storeKeys.account({ workspaceId: 'ws-1', accountId: two!.id });
    const recordOne = JSON.parse((await harness.store.get(keyOne))!.value) as Record<string, unknown>;
    const recordTwo = JSON.parse((await harness.store.get(keyTwo))!.value) as Record<string, unknown>;
    await harness.store.set(keyTwo, JSON.stringify({ ...recordTwo, tokens: recordOne.tokens }));

    const [result] = await harness.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: two!.id }] });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'decryption_failed' } });
    expect(provider.calls.publish).toHaveLength(0);
  });

  it('cannot read the store with another master key', async () => {
    const clock = manualClock();
    const store = memoryTokenStore({ clock });
    const writer = createHarness({ providers: [createTestProvider()], store, clock });
    const [account] = await connectAccount({ harness: writer, workspaceId: 'ws-1' });
    const reader = createHarness({
      providers: [createTestProvider()],
      store,
      clock,
      encryptionKey: randomBytes(32).toString('base64'),
    });
    const [result] = await reader.letmepost.publish({ workspaceId: 'ws-1', post: { text: 'x' }, targets: [{ accountId: account!.id }] });
    expect(result?.error?.code).toBe('decryption_failed');
    // Listing needs no decryption, so it keeps working.
    expect(await reader.letmepost.accounts.list({ workspaceId: 'ws-1' })).toHaveLength(1);
  });
});
