import { describe, expect, it } from 'vitest';
import { createExampleProvider, exampleClient, withExampleResume, withExampleTargets, type ExampleProviderFlaws } from './__fixtures__/example-provider.js';
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
    successErrorBody: { status: 200, body: { error: 'Validation failed: Text has been posted already' } },
  },
  validation: [{ post: { text: '' }, rule: 'mastodon.text.required' }],
  refresh: {
    tokens: { accessToken, refreshToken: 'canary-refresh-token-0a1b' },
    client: exampleClient,
    endpoint: { origin: 'https://social.example', path: '/oauth/token' },
    rotated: { status: 200, body: { access_token: 'canary-access-token-2', refresh_token: 'canary-refresh-token-2', token_type: 'Bearer' } },
    expected: { accessToken: 'canary-access-token-2', refreshToken: 'canary-refresh-token-2' },
    withoutRefreshToken: { status: 200, body: { access_token: 'canary-access-token-3', token_type: 'Bearer' } },
  },
  accounts: {
    tokens: { accessToken },
    client: exampleClient,
    setup: (mockAgent) => {
      mockAgent
        .get('https://social.example')
        .intercept({ method: 'GET', path: '/api/v1/accounts/owned' })
        .reply(200, JSON.stringify([{ id: '1', username: 'me' }, { id: '2', username: 'team' }]), { headers: { 'content-type': 'application/json' } });
    },
    expectedAccountIds: ['1', '2'],
  },
  delete: {
    auth: { type: 'account', account: { platformAccountId: '1' }, tokens: { accessToken } },
    postId: '109',
    endpoint: { origin: 'https://social.example', method: 'DELETE', path: '/api/v1/statuses/109', success: { status: 200, body: {} } },
  },
});

const resumeOptions = (flaws?: ExampleProviderFlaws): ProviderConformanceOptions => {
  const base = conformanceOptions(flaws);
  return {
    ...base,
    name: 'example provider with checkStatus/finalize',
    createProvider: (settings) =>
      withExampleResume({ provider: createExampleProvider({ ...settings, ...(flaws ? { flaws } : {}) }), dispatcher: settings.dispatcher, ...(flaws ? { flaws } : {}) }),
    resume: {
      auth: { type: 'account', account: { platformAccountId: '1' }, tokens: { accessToken } },
      resume: { mediaId: 'm1', text: 'Hello', key: 'k1' },
      setup: (mockAgent) => {
        const pool = mockAgent.get('https://social.example');
        pool.intercept({ method: 'GET', path: '/api/v1/media/m1' }).reply(200, JSON.stringify({ url: null }), { headers: { 'content-type': 'application/json' } }).persist();
        // The instance's idempotency lookup: nothing the first time, the created post afterwards.
        pool.intercept({ method: 'GET', path: '/api/v1/statuses/by-key/k1' }).reply(404, '{}');
        pool
          .intercept({ method: 'GET', path: '/api/v1/statuses/by-key/k1' })
          .reply(200, JSON.stringify({ id: '110', url: 'https://social.example/@me/110' }), { headers: { 'content-type': 'application/json' } })
          .persist();
      },
      finalizeEndpoint: {
        origin: 'https://social.example',
        method: 'POST',
        path: '/api/v1/statuses',
        success: { status: 200, body: { id: '110', url: 'https://social.example/@me/110' } },
      },
      expected: { postId: '110' },
    },
  };
};

runProviderConformance(resumeOptions());

const targetsOptions = (flaws?: ExampleProviderFlaws): ProviderConformanceOptions => ({
  ...conformanceOptions(flaws),
  name: 'example provider with listTargets',
  createProvider: (settings) =>
    withExampleTargets({ provider: createExampleProvider({ ...settings, ...(flaws ? { flaws } : {}) }), dispatcher: settings.dispatcher, ...(flaws ? { flaws } : {}) }),
  targets: {
    auth: { type: 'account', account: { platformAccountId: '1' }, tokens: { accessToken } },
    setup: (mockAgent) => {
      mockAgent
        .get('https://social.example')
        .intercept({ method: 'GET', path: '/api/v1/lists' })
        .reply(200, JSON.stringify([{ id: 'l1', title: 'Friends' }, { id: 'l2', title: 'Work' }]), { headers: { 'content-type': 'application/json' } });
    },
    expectedTargetIds: ['l1', 'l2'],
  },
});

runProviderConformance(targetsOptions());

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

  it('a refresh that drops the rotated refresh token', async () => {
    expect(await failing({ dropRotatedRefreshToken: true }, 'refresh.rotation')).toMatch(/rotated refresh token/);
  });

  it('a refresh that makes up a refresh token', async () => {
    expect(await failing({ inventRefreshToken: true }, 'refresh.missing-refresh-token')).toMatch(/stored refresh token or none/);
  });

  it('listAccounts that loses the other accounts of the grant', async () => {
    expect(await failing({ firstAccountOnly: true }, 'accounts.multiple')).toBeDefined();
  });

  it('a delete sent twice, and a missing post not mapped to not_found', async () => {
    expect(await failing({ deleteTwice: true }, 'delete.once')).toBeDefined();
    expect(await failing({ deleteNotFoundRejected: true }, 'delete.not-found')).toMatch(/not_found/);
  });

  it('a 2xx error body read as an unknown outcome', async () => {
    expect(await failing({ ignoreSuccessError: true }, 'publish.2xx-error-body')).toMatch(/publish_outcome_unknown|non-published result/);
  });

  it('a finalize that writes again, and a checkStatus that writes', async () => {
    const failingResume = async (flaws: ExampleProviderFlaws, id: ProviderCheckId) => {
      const check = providerConformanceChecks(resumeOptions(flaws)).find((candidate) => candidate.id === id)!;
      return check.run().then(
        () => undefined,
        (error: unknown) => String(error),
      );
    };
    expect(await failingResume({ finalizeTwice: true }, 'resume.finalize-idempotent')).toMatch(/write is performed once/);
    expect(await failingResume({ checkStatusWrites: true }, 'resume.check-status-read-only')).toMatch(/must not write/);
  });

  it('targets whose options cannot be published as they are', async () => {
    const check = providerConformanceChecks(targetsOptions({ unpublishableTargetOptions: true })).find((candidate) => candidate.id === 'targets.list')!;
    await expect(check.run()).rejects.toThrow(/options must be publishable/);
  });

  it('a provider with a method but no options for its section fails that section', async () => {
    const { refresh: _refresh, ...withoutRefresh } = conformanceOptions();
    const check = providerConformanceChecks(withoutRefresh).find((candidate) => candidate.id === 'refresh.rotation')!;
    await expect(check.run()).rejects.toThrow(/pass options\.refresh/);
  });

  it('uses the fixed clock for expiresAt', async () => {
    // The example provider derives expiresAt from the injected clock; the kit expects now + expires_in.
    expect(CONFORMANCE_NOW).toBe(Date.UTC(2025, 0, 15, 12));
    const checks = providerConformanceChecks({ ...conformanceOptions(), now: CONFORMANCE_NOW + 1 });
    await expect(checks.find((check) => check.id === 'oauth.exchange-code')!.run()).resolves.toBeUndefined();
  });
});
