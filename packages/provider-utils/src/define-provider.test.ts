import { randomBytes } from 'node:crypto';
import { createLetmepost, LetmepostError, memoryTokenStore, type ProviderCapabilities } from '@letmepost/core';
import { runWithPublishContext } from '@letmepost/core/internal';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { defineProvider } from './define-provider.js';
import { baseProviderSettingsSchema, baseUrlSettingSchema } from './settings.js';

const capabilities: ProviderCapabilities = {
  text: { maxLength: 10, unit: 'characters', required: false },
  media: {
    maxItems: 1,
    maxImages: 1,
    maxVideos: 0,
    imageMimeTypes: ['image/png'],
    videoMimeTypes: [],
    mixedImagesAndVideo: false,
    altText: false,
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: false,
  link: 'inline',
  deletePost: true,
  pending: false,
};

const CANARY_SECRET = 'define-provider-secret-c4n4ry';

/** Records what each method received, so the tests see the boundary's work. */
function createExample() {
  const calls: Array<{ method: string; options: object & { context?: unknown } }> = [];
  const create = defineProvider({
    id: 'mastodon',
    displayName: 'Example',
    settingsSchema: baseProviderSettingsSchema.extend({ apiBaseUrl: baseUrlSettingSchema.optional() }),
    credentialSchema: z.object({ accessToken: z.string().min(1, 'is required') }).strict(),
    accountSchema: z.object({}),
    optionsSchema: z.object({ visibility: z.enum(['public', 'unlisted']).optional() }).strict(),
    auth: { kind: 'credentials' },
    capabilities,
    createContext: ({ settings }) => ({ apiBaseUrl: settings.apiBaseUrl ?? 'https://social.example' }),
    methods: {
      validate: ({ post, options }) => {
        const received: object = { post, options };
        calls.push({ method: 'validate', options: received });
        return post.text.includes('forbidden') ? [{ rule: 'mastodon.text.forbidden_word', field: 'text', message: 'no' }] : [];
      },
      publish: async (options) => {
        calls.push({ method: 'publish', options });
        return { status: 'published', postId: '1', warnings: [] };
      },
      deletePost: async (options) => {
        calls.push({ method: 'deletePost', options });
      },
    },
  });
  return { create, calls };
}

describe('defineProvider', () => {
  test('builds a v2 provider with the context handed to every method', async () => {
    const { create, calls } = createExample();
    const provider = create({ apiBaseUrl: 'https://other.example/', clientId: 'id', clientSecret: CANARY_SECRET });
    expect(provider).toMatchObject({ specificationVersion: 'v2', id: 'mastodon', capabilities, defaultClient: { clientId: 'id', clientSecret: CANARY_SECRET } });
    await provider.deletePost!({ auth: { type: 'credentials', credentials: { accessToken: 't' } }, postId: '9' });
    expect(calls[0]?.options.context).toEqual({ apiBaseUrl: 'https://other.example' });
  });

  test('carries a declared connectParamsSchema onto the provider', () => {
    const connectParamsSchema = z.object({ instanceUrl: z.url() });
    const create = defineProvider({
      id: 'mastodon',
      displayName: 'Example',
      settingsSchema: baseProviderSettingsSchema,
      credentialSchema: z.object({}),
      accountSchema: z.object({}),
      optionsSchema: z.object({}),
      connectParamsSchema,
      auth: { kind: 'credentials' },
      capabilities,
      createContext: () => ({}),
      methods: { validate: () => [], publish: async () => ({ status: 'published', warnings: [] }) },
    });
    expect(create().connectParamsSchema).toBe(connectParamsSchema);
    expect(createExample().create().connectParamsSchema).toBeUndefined();
  });

  test('refuses bad settings naming settings.<field>, without the client secret', () => {
    const { create } = createExample();
    let caught: unknown;
    try {
      create({ apiBaseUrl: 'not a url', clientSecret: CANARY_SECRET });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'validation_failed', field: 'settings.apiBaseUrl' });
    expect(JSON.stringify(caught)).not.toContain(CANARY_SECRET);
  });

  test('re-checks per-request credentials and options of a direct call, rejecting (not throwing) before the method runs', async () => {
    const { create, calls } = createExample();
    const provider = create();
    const badCredentials = provider.publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { accessToken: '' } }, options: {} });
    await expect(badCredentials).rejects.toMatchObject({ code: 'validation_failed', field: 'credentials.accessToken' });
    await expect(
      provider.publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { accessToken: 't' } }, options: { visibility: 'secret' } as never }),
    ).rejects.toMatchObject({ code: 'validation_failed', field: 'options.visibility' });
    await expect(provider.deletePost!({ auth: { type: 'credentials', credentials: {} as never }, postId: '1' })).rejects.toMatchObject({
      field: 'credentials.accessToken',
    });
    expect(calls).toEqual([]);
  });

  test('a direct publish runs the whole preflight (capabilities, then validate); inside core it does not run twice', async () => {
    const { create, calls } = createExample();
    const provider = create();
    const auth = { type: 'credentials' as const, credentials: { accessToken: 't' } };
    const error = await provider.publish({ post: { text: 'forbidden and long' }, auth, options: {} }).catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect((error as LetmepostError).code).toBe('preflight_failed');
    expect((error as LetmepostError).issues.map((issue) => issue.rule)).toEqual(['mastodon.text.max_length', 'mastodon.text.forbidden_word']);
    expect(calls.map((call) => call.method)).toEqual(['validate']);

    calls.length = 0;
    const result = await runWithPublishContext({ dryRun: false }, () => provider.publish({ post: { text: 'forbidden and long' }, auth, options: {} }));
    expect(result.status).toBe('published');
    expect(calls.map((call) => call.method)).toEqual(['publish']);
  });

  test("core's own publish call reaches the method without a second parse of its credentials; a direct call is parsed", async () => {
    let credentialParses = 0;
    const create = defineProvider({
      id: 'mastodon',
      displayName: 'Example',
      settingsSchema: baseProviderSettingsSchema,
      credentialSchema: z
        .object({ accessToken: z.string().min(1, 'is required') })
        .strict()
        .transform((credentials) => {
          credentialParses += 1;
          return credentials;
        }),
      accountSchema: z.object({}),
      optionsSchema: z.object({}).strict(),
      auth: { kind: 'credentials' },
      capabilities,
      createContext: () => ({}),
      methods: {
        validate: () => [],
        publish: async ({ auth }) => ({ status: 'published', postId: auth.type === 'credentials' ? auth.credentials.accessToken : '', warnings: [] }),
      },
    });
    const provider = create();
    const letmepost = createLetmepost({
      providers: [provider],
      store: memoryTokenStore(),
      encryptionKey: randomBytes(32).toString('base64'),
      baseUrl: 'https://app.example.com',
    });
    const [result] = await letmepost.publish({ post: { text: 'hi' }, targets: [{ platform: 'mastodon', credentials: { accessToken: 'core' } }] });
    expect(result).toMatchObject({ status: 'published', postId: 'core' });
    expect(credentialParses).toBe(1);

    const direct = await provider.publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { accessToken: 'direct' } }, options: {} });
    expect(direct.postId).toBe('direct');
    expect(credentialParses).toBe(2);
    // The same call with every visible field core's has is still a direct call.
    await expect(
      provider.publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { accessToken: '' } }, options: {}, onProgress: () => {} }),
    ).rejects.toMatchObject({ code: 'validation_failed', field: 'credentials.accessToken' });
  });

  test('validate reports bad options as <id>.options.invalid and still checks the post', () => {
    const { create } = createExample();
    const issues = create().validate({ post: { text: 'forbidden' }, options: { visibility: 'secret' } as never });
    expect(issues.map((issue) => [issue.rule, issue.field])).toEqual([
      ['mastodon.options.invalid', 'options.visibility'],
      ['mastodon.text.forbidden_word', 'text'],
    ]);
  });
});
