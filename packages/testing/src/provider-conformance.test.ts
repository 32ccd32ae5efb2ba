import { describe, expect, it } from 'vitest';
import { createExampleProvider, exampleClient, type ExampleProviderFlaws } from './__fixtures__/example-provider.js';
import { createExampleUtilsProvider } from './__fixtures__/example-utils-provider.js';
import {
  CONFORMANCE_NOW,
  providerConformanceChecks,
  runProviderConformance,
  type ProviderCheckId,
  type ProviderConformanceOptions,
} from './provider-conformance.js';

const accessToken = 'canary-access-token-7f3a9e21';

const conformanceOptions = (flaws?: ExampleProviderFlaws): ProviderConformanceOptions => ({
  createProvider: ({ dispatcher, clock }) => createExampleProvider({ dispatcher, clock, ...(flaws ? { flaws } : {}) }),
  credentials: { valid: { instanceUrl: 'https://social.example', accessToken } },
  oauth: {
    client: exampleClient,
    redirectUri: 'https://app.example/v1/accounts/oauth/mastodon/callback',
    authorizationEndpoint: 'https://social.example/oauth/authorize',
    tokenEndpoint: { origin: 'https://social.example', method: 'POST', path: '/oauth/token' },
    tokenResponse: {
      status: 200,
      body: { access_token: 'canary-new-access-token-1c2d', token_type: 'Bearer', scope: 'write:statuses', expires_in: 7200 },
    },
    expected: { accessToken: 'canary-new-access-token-1c2d', scopes: ['write:statuses'] },
  },
  publish: {
    auth: {
      type: 'account',
      account: { platformAccountId: '1', data: { instanceUrl: 'https://social.example' } },
      tokens: { accessToken },
    },
    post: { text: 'Hello from the conformance kit' },
    canarySecrets: [accessToken],
    writeEndpoint: {
      origin: 'https://social.example',
      method: 'POST',
      path: '/api/v1/statuses',
      success: { status: 200, body: { id: '109', url: 'https://social.example/@me/109' } },
    },
    expected: { postId: '109', url: 'https://social.example/@me/109' },
    rateLimit: { headers: { 'retry-after': '30' }, body: { error: 'Too many requests' }, retryAfterMs: 30_000 },
    errorBodies: { 401: { error: 'The access token is invalid' }, 403: { error: 'This action is outside the authorized scopes' } },
  },
  validation: [{ post: { text: '' }, rule: 'mastodon.text.required' }],
});

runProviderConformance({ ...conformanceOptions(), name: 'example provider (plain undici)' });

runProviderConformance({
  ...conformanceOptions(),
  name: 'example provider (on @letmepost/provider-utils)',
  createProvider: ({ dispatcher, clock }) => createExampleUtilsProvider({ dispatcher, clock }),
});

describe('the provider kit catches broken providers', () => {
  const failing = async (flaws: ExampleProviderFlaws, id: ProviderCheckId): Promise<string | undefined> => {
    const check = providerConformanceChecks(conformanceOptions(flaws)).find((candidate) => candidate.id === id);
    if (!check) throw new Error(`no check ${id}`);
    return check.run().then(
      () => undefined,
      (error: unknown) => String(error),
    );
  };

  it('a create re-sent after a 500', async () => {
    const error = await failing({ retryCreate: true }, 'publish.500');
    expect(String(error)).toMatch(/sent exactly once/);
  });

  it('a token in an error message', async () => {
    const error = await failing({ leakToken: true }, 'publish.401');
    expect(String(error)).toMatch(/secret canary leaked: .* in error\.message/);
    expect(String(error)).not.toContain(accessToken);
  });

  it('a request that bypasses the injected dispatcher', async () => {
    const error = await failing({ bypassDispatcher: true }, 'publish.happy-path');
    expect(error).toBeDefined();
  });

  it('a TypeError on a body of unexpected shape', async () => {
    expect(String(await failing({ trustResponse: true }, 'publish.unexpected-shape'))).toMatch(/expected a LetmepostError .* got TypeError/);
    expect(String(await failing({ trustResponse: true }, 'publish.malformed-json'))).toMatch(/got SyntaxError/);
  });

  it('a rate limit without retryAfterMs', async () => {
    expect(String(await failing({ ignoreRetryAfter: true }, 'publish.429'))).toMatch(/retryAfterMs/);
  });

  it('an authorization URL without PKCE', async () => {
    expect(await failing({ noPkce: true }, 'oauth.authorization-url')).toBeDefined();
  });

  it('a token request after a denied consent', async () => {
    expect(await failing({ ignoreCallbackError: true }, 'oauth.callback-error')).toBeDefined();
  });

  it('a create sent during a dry run', async () => {
    expect(String(await failing({ ignoreDryRun: true }, 'publish.dry-run'))).toMatch(/no create during a dry run/);
  });

  it('a create re-sent after the connection dropped', async () => {
    expect(await failing({ retryOnNetworkError: true }, 'publish.network-error')).toMatch(/sent exactly once/);
  });

  it('a dropped create reported as retryable platform_unavailable', async () => {
    expect(await failing({ networkErrorsRetryable: true }, 'publish.network-error')).toMatch(/unexpected error code "platform_unavailable"/);
  });

  it('an abort signal that is not passed on', async () => {
    expect(await failing({ ignoreAbort: true }, 'publish.abort')).toMatch(/settled promptly/);
  }, 15_000);

  it('uses the fixed clock for expiresAt', async () => {
    // The example provider derives expiresAt from the injected clock; the kit expects now + expires_in.
    expect(CONFORMANCE_NOW).toBe(Date.UTC(2025, 0, 15, 12));
    const checks = providerConformanceChecks({ ...conformanceOptions(), now: CONFORMANCE_NOW + 1 });
    await expect(checks.find((check) => check.id === 'oauth.exchange-code')!.run()).resolves.toBeUndefined();
  });
});
