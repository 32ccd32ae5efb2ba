/**
 * Test-only: a small in-memory platform behind the real `ProviderV2` plug point, plus a harness
 * wiring `createLetmepost` to a memory store and a manual clock. Not exported from the package.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { TokenSet } from '../account.js';
import type { Clock } from '../clock.js';
import { createLetmepost, type CreateLetmepostOptions, type Letmepost } from '../create-letmepost.js';
import { createEnvelopeCipher, parseEncryptionKey } from '../envelope-encryption.js';
import { LetmepostError } from '../letmepost-error.js';
import type { LogLevel } from '../logger.js';
import { memoryTokenStore } from '../memory-token-store.js';
import type { PlatformId } from '../platform-id.js';
import type { AnyProvider, ProviderAuth, ProviderCapabilities, ProviderV2 } from '../provider.js';
import type { TokenStore } from '../token-store.js';

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(start = Date.UTC(2026, 0, 15, 12)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

export const testCapabilities: ProviderCapabilities = {
  text: { maxLength: 300, unit: 'characters', required: true },
  media: {
    maxItems: 4,
    maxImages: 4,
    maxVideos: 1,
    imageMimeTypes: ['image/png', 'image/jpeg'],
    videoMimeTypes: ['video/mp4'],
    mixedImagesAndVideo: false,
    altText: true,
    ingest: 'push',
  },
  thread: true,
  replyTo: true,
  firstComment: true,
  link: 'card',
  deletePost: false,
  pending: false,
};

export const testCredentialSchema = z.object({
  accessToken: z.string().min(1),
  pageId: z.string().min(1),
});
export type TestCredentials = z.infer<typeof testCredentialSchema>;

export const testOptionsSchema = z.object({ visibility: z.enum(['public', 'connections']).optional() }).strict();
export type TestOptions = z.infer<typeof testOptionsSchema>;

/** Events in the order they happened, across provider and store, for ordering assertions. */
export type Timeline = string[];

type Methods = Partial<
  Pick<
    ProviderV2<TestCredentials, TestOptions>,
    | 'authorizationUrl'
    | 'exchangeCode'
    | 'listAccounts'
    | 'connectWithCredentials'
    | 'refresh'
    | 'revoke'
    | 'validate'
    | 'publish'
    | 'checkStatus'
    | 'finalize'
  >
>;

/** Members only some platforms have; the test provider has them only when a test gives them. */
type OptionalMembers = Partial<
  Pick<ProviderV2<TestCredentials, TestOptions, Record<string, unknown>>, 'connectParamsSchema' | 'connectInstance' | 'registerClient' | 'listTargets'>
>;

export interface TestProviderOptions extends Methods, OptionalMembers {
  id?: PlatformId;
  /** Replaces the default options schema (e.g. one that requires a board id). */
  optionsSchema?: z.ZodType<TestOptions>;
  auth?: ProviderAuth;
  capabilities?: ProviderCapabilities;
  /** The instance-wide app; `null` for none. */
  defaultClient?: { clientId: string; clientSecret?: string } | null;
  clock?: Clock;
  /** Remove methods a platform would not have. */
  without?: ReadonlyArray<keyof Methods>;
  timeline?: Timeline;
}

export interface TestProvider extends ProviderV2<TestCredentials, TestOptions> {
  /** The harness shares its manual clock with providers that were not given one. */
  bindClock(clock: Clock): void;
  calls: {
    authorizationUrl: Parameters<NonNullable<AnyProvider['authorizationUrl']>>[0][];
    exchangeCode: Parameters<NonNullable<AnyProvider['exchangeCode']>>[0][];
    listAccounts: Parameters<NonNullable<AnyProvider['listAccounts']>>[0][];
    connectWithCredentials: Parameters<NonNullable<AnyProvider['connectWithCredentials']>>[0][];
    refresh: Parameters<NonNullable<AnyProvider['refresh']>>[0][];
    revoke: Parameters<NonNullable<AnyProvider['revoke']>>[0][];
    publish: Parameters<AnyProvider['publish']>[0][];
    checkStatus: Parameters<NonNullable<AnyProvider['checkStatus']>>[0][];
    finalize: Parameters<NonNullable<AnyProvider['finalize']>>[0][];
    registerClient: Parameters<NonNullable<AnyProvider['registerClient']>>[0][];
    listTargets: Parameters<NonNullable<AnyProvider['listTargets']>>[0][];
  };
}

const HOUR = 60 * 60 * 1000;
/** Canary: must never appear in the store, a log line or an error. */
export const INSTANCE_CLIENT_SECRET = 'canary-instance-client-secret-7f3a';

/**
 * A provider whose "platform" is this object: it mints tokens, checks them, and records every call.
 * Each method can be replaced per test; the defaults behave like a well-mannered OAuth platform.
 */
export function createTestProvider(options: TestProviderOptions = {}): TestProvider {
  let clock: Clock = options.clock ?? { now: () => Date.now() };
  const id = options.id ?? 'linkedin';
  const timeline = options.timeline;
  let published = 0;
  let refreshed = 0;
  const calls: TestProvider['calls'] = {
    authorizationUrl: [],
    exchangeCode: [],
    listAccounts: [],
    connectWithCredentials: [],
    refresh: [],
    revoke: [],
    publish: [],
    checkStatus: [],
    finalize: [],
    registerClient: [],
    listTargets: [],
  };

  const provider: TestProvider = {
    specificationVersion: 'v2',
    id,
    displayName: `Test ${id}`,
    auth: options.auth ?? {
      kind: 'oauth2',
      scopes: { write: ['w_member_social', 'openid'], extended: ['w_organization_social', 'openid'] },
      pkce: true,
      refresh: 'rotating',
    },
    credentialSchema: testCredentialSchema,
    accountSchema: z.record(z.string(), z.unknown()),
    optionsSchema: options.optionsSchema ?? testOptionsSchema,
    capabilities: options.capabilities ?? testCapabilities,
    ...(options.defaultClient !== null && {
      defaultClient: options.defaultClient ?? { clientId: 'instance-client-id', clientSecret: INSTANCE_CLIENT_SECRET },
    }),
    calls,
    bindClock(shared) {
      if (options.clock === undefined) clock = shared;
    },

    authorizationUrl(args) {
      calls.authorizationUrl.push(args);
      if (options.authorizationUrl) return options.authorizationUrl(args);
      const url = new URL(`https://auth.${id}.test/oauth/authorize`);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', args.client.clientId);
      url.searchParams.set('redirect_uri', args.redirectUri);
      url.searchParams.set('state', args.state);
      url.searchParams.set('code_challenge', args.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('scope', args.scopes.join(' '));
      return url;
    },

    async exchangeCode(args) {
      calls.exchangeCode.push(args);
      timeline?.push('provider.exchangeCode');
      if (options.exchangeCode) return options.exchangeCode(args);
      const code = args.callbackUrl.searchParams.get('code');
      if (code === null) throw new LetmepostError({ code: 'platform_auth_failed', platform: id, message: 'no code' });
      return {
        accessToken: `access-${code}`,
        refreshToken: `refresh-${code}`,
        expiresAt: clock.now() + HOUR,
        refreshTokenExpiresAt: clock.now() + 365 * 24 * HOUR,
        scopes: ['w_member_social'],
      };
    },

    async listAccounts(args) {
      calls.listAccounts.push(args);
      if (options.listAccounts) return options.listAccounts(args);
      return [
        {
          platformAccountId: 'member-1',
          kind: 'person',
          username: 'alice',
          displayName: 'Alice',
          data: { personUrn: 'urn:li:person:member-1' },
        },
      ];
    },

    async connectWithCredentials(args) {
      calls.connectWithCredentials.push(args);
      if (options.connectWithCredentials) return options.connectWithCredentials(args);
      return {
        account: { platformAccountId: `page-${args.credentials.pageId}`, kind: 'page', username: args.credentials.pageId },
        tokens: { accessToken: args.credentials.accessToken },
      };
    },

    async refresh(args) {
      calls.refresh.push(args);
      timeline?.push('provider.refresh');
      if (options.refresh) return options.refresh(args);
      refreshed += 1;
      return {
        accessToken: `access-refreshed-${refreshed}`,
        refreshToken: `refresh-rotated-${refreshed}`,
        expiresAt: clock.now() + HOUR,
      };
    },

    async revoke(args) {
      calls.revoke.push(args);
      if (options.revoke) return options.revoke(args);
    },

    validate(args) {
      if (options.validate) return options.validate(args);
      return args.post.text.length > 300
        ? [{ rule: `${id}.text.max_length`, field: 'text', message: `is ${args.post.text.length} characters; the limit is 300` }]
        : [];
    },

    async publish(args) {
      calls.publish.push(args);
      timeline?.push(`provider.publish:${args.auth.type === 'account' ? args.auth.tokens.accessToken : 'credentials'}`);
      if (options.publish) return options.publish(args);
      published += 1;
      return { status: 'published', postId: `post-${published}`, url: `https://${id}.test/p/${published}`, warnings: [] };
    },
  };
  // Only platforms with asynchronous processing have these, so they exist only when a test gives them.
  const { checkStatus, finalize } = options;
  if (checkStatus !== undefined) {
    provider.checkStatus = async (args) => {
      calls.checkStatus.push(args);
      timeline?.push('provider.checkStatus');
      return checkStatus(args);
    };
  }
  if (finalize !== undefined) {
    provider.finalize = async (args) => {
      calls.finalize.push(args);
      timeline?.push('provider.finalize');
      return finalize(args);
    };
  }
  for (const method of options.without ?? []) delete (provider as Partial<TestProvider>)[method];
  const { connectParamsSchema, connectInstance, registerClient, listTargets } = options;
  if (connectParamsSchema !== undefined) Object.assign(provider, { connectParamsSchema });
  if (connectInstance !== undefined) Object.assign(provider, { connectInstance });
  if (registerClient !== undefined) {
    provider.registerClient = (args) => {
      calls.registerClient.push(args);
      return registerClient(args as Parameters<typeof registerClient>[0]);
    };
  }
  if (listTargets !== undefined) {
    provider.listTargets = (args) => {
      calls.listTargets.push(args);
      return listTargets(args);
    };
  }
  return provider;
}

export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface Harness {
  letmepost: Letmepost;
  store: TokenStore;
  clock: ManualClock;
  logs: Array<{ level: LogLevel; message: string; fields?: Record<string, unknown> }>;
  /** Every raw key/value in the store, for "no secret at rest" assertions. */
  dump(): Promise<string>;
  /** Opens a sealed field as core wrote it (associated data `<key>#<field>`, bound to the entry's version). */
  open(options: { key: string; field: string }): Promise<unknown>;
  /** The grant an account draws on, read raw from the store. */
  grantOf(options: { workspaceId: string; accountId: string }): Promise<{
    key: string;
    grantId: string;
    record: Record<string, unknown>;
    version: number;
  }>;
}

export function createHarness(
  options: Partial<CreateLetmepostOptions> & { providers: readonly AnyProvider[]; clock?: ManualClock; store?: TokenStore },
): Harness {
  const clock = options.clock ?? manualClock();
  const store = options.store ?? memoryTokenStore({ clock });
  const logs: Harness['logs'] = [];
  const letmepost = createLetmepost({
    encryptionKey: TEST_ENCRYPTION_KEY,
    baseUrl: 'https://app.example.com',
    logger: { log: (level, message, fields) => logs.push({ level, message, ...(fields !== undefined && { fields }) }) },
    ...options,
    store,
    clock,
  });
  for (const provider of options.providers) (provider as Partial<TestProvider>).bindClock?.(clock);
  const cipher = createEnvelopeCipher({ keyring: parseEncryptionKey(options.encryptionKey ?? TEST_ENCRYPTION_KEY) });
  return {
    letmepost,
    store,
    clock,
    logs,
    async dump() {
      const entries = await store.list('');
      return entries.map((entry) => `${entry.key}=${entry.value}`).join('\n');
    },
    async open({ key, field }) {
      const entry = await store.get(key);
      if (entry === null) throw new Error(`no entry at ${key}`);
      const record = JSON.parse(entry.value) as Record<string, string>;
      const ciphertext = record[field];
      if (ciphertext === undefined) throw new Error(`no field ${field} at ${key}`);
      return JSON.parse(cipher.decrypt({ ciphertext, associatedData: `${key}#${field}`, recordVersion: entry.version }));
    },
    async grantOf({ workspaceId, accountId }) {
      const account = await store.get(`ws/${encodeURIComponent(workspaceId)}/accounts/${encodeURIComponent(accountId)}`);
      if (account === null) throw new Error(`no account ${accountId}`);
      const { grantId } = JSON.parse(account.value) as { grantId: string };
      const key = `ws/${encodeURIComponent(workspaceId)}/grants/${encodeURIComponent(grantId)}`;
      const entry = await store.get(key);
      if (entry === null) throw new Error(`no grant ${grantId}`);
      return { key, grantId, record: JSON.parse(entry.value) as Record<string, unknown>, version: entry.version };
    },
  };
}

/** Runs a full OAuth connect against the test provider and returns the accounts. */
export async function connectAccount({
  harness,
  workspaceId,
  platform = 'linkedin',
  code = 'code-1',
}: {
  harness: Harness;
  workspaceId: string;
  platform?: PlatformId;
  code?: string;
}) {
  const { url } = await harness.letmepost.connect.start({ workspaceId, platform, allowQuickstartCreds: true });
  const state = new URL(url).searchParams.get('state') ?? '';
  return harness.letmepost.connect.complete({
    platform,
    callbackUrl: `https://app.example.com/v1/accounts/oauth/${platform}/callback?code=${code}&state=${state}`,
  });
}

export async function errorOf(promise: Promise<unknown>): Promise<LetmepostError> {
  try {
    await promise;
  } catch (error) {
    if (LetmepostError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export type { TokenSet };
