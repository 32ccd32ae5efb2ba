import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { loadConfigFromEnv } from './load-config-from-env.js';
import { TEST_ENCRYPTION_KEY } from './test-support/test-provider.js';

const base = { BETTER_AUTH_URL: 'https://posts.example.org', KEK_MASTER: TEST_ENCRYPTION_KEY };

function failure(env: Record<string, string | undefined>): LetmepostError {
  try {
    loadConfigFromEnv(env);
  } catch (error) {
    if (LetmepostError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected loadConfigFromEnv to throw');
}

describe('loadConfigFromEnv', () => {
  it('reads the base URL, key and nothing else from a minimal environment', () => {
    expect(loadConfigFromEnv({ ...base, BETTER_AUTH_URL: 'https://posts.example.org/app/' })).toEqual({
      baseUrl: 'https://posts.example.org/app',
      encryptionKey: TEST_ENCRYPTION_KEY,
      launchCaps: {},
      platforms: {},
    });
  });

  it('reads per-platform apps, Meta names for Facebook, overrides and the X launch cap', () => {
    const config = loadConfigFromEnv({
      ...base,
      TWITTER_CLIENT_ID: 'tw-id',
      TWITTER_CLIENT_SECRET: 'tw-secret',
      TWITTER_API_BASE: 'http://127.0.0.1:4010/twitter/',
      TWITTER_LAUNCH_CAP_PER_ACCOUNT: '200',
      META_APP_ID: 'meta-id',
      META_APP_SECRET: 'meta-secret',
      META_GRAPH_VERSION: 'v24.0',
      FACEBOOK_API_BASE: 'http://127.0.0.1:4010/graph',
      INSTAGRAM_CLIENT_ID: 'ig-id',
      INSTAGRAM_GRAPH_BASE: 'http://127.0.0.1:4010/ig',
      INSTAGRAM_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:4010/ig/oauth/authorize',
      INSTAGRAM_OAUTH_TOKEN_URL: 'http://127.0.0.1:4010/ig/oauth/access_token',
      THREADS_API_BASE: 'http://127.0.0.1:4010/threads',
      THREADS_API_VERSION: 'v1.0',
      PINTEREST_API_BASE: 'http://127.0.0.1:4010/pinterest',
      LINKEDIN_API_VERSION: '202605',
      BLUESKY_CLIENT_ID: '',
      UNRELATED: 'x',
    });
    expect(config.launchCaps).toEqual({ twitter: { limit: 200 } });
    expect(config.platforms).toEqual({
      twitter: { clientId: 'tw-id', clientSecret: 'tw-secret', apiBaseUrl: 'http://127.0.0.1:4010/twitter' },
      facebook: { clientId: 'meta-id', clientSecret: 'meta-secret', apiBaseUrl: 'http://127.0.0.1:4010/graph', graphVersion: 'v24.0' },
      instagram: {
        clientId: 'ig-id',
        graphBase: 'http://127.0.0.1:4010/ig',
        oauthAuthorizeUrl: 'http://127.0.0.1:4010/ig/oauth/authorize',
        oauthTokenUrl: 'http://127.0.0.1:4010/ig/oauth/access_token',
      },
      threads: { apiBaseUrl: 'http://127.0.0.1:4010/threads', apiVersion: 'v1.0' },
      pinterest: { apiBaseUrl: 'http://127.0.0.1:4010/pinterest' },
      linkedin: { apiVersion: '202605' },
    });
  });

  it('requires BETTER_AUTH_URL and KEK_MASTER', () => {
    const error = failure({});
    expect(error.code).toBe('validation_failed');
    expect(error.issues.map((issue) => issue.field)).toEqual(['BETTER_AUTH_URL', 'KEK_MASTER']);
  });

  it('names every malformed variable at once and never echoes a value', () => {
    const env = {
      BETTER_AUTH_URL: 'ftp://canary-host-1',
      KEK_MASTER: 'canary-kek-not-base64!!',
      TWITTER_LAUNCH_CAP_PER_ACCOUNT: 'fifty',
      LINKEDIN_CLIENT_SECRET: 'canary-secret-without-id',
      PINTEREST_API_BASE: 'canary not a url',
      META_GRAPH_VERSION: '24',
      THREADS_API_VERSION: 'v1.0; rm -rf',
      MASTODON_API_BASE: 'https://user:canary-password@host/?q=1',
    };
    const error = failure(env);
    expect(error.issues.map((issue) => issue.field)).toEqual([
      'BETTER_AUTH_URL',
      'KEK_MASTER',
      'TWITTER_LAUNCH_CAP_PER_ACCOUNT',
      'LINKEDIN_CLIENT_ID',
      'META_GRAPH_VERSION',
      'THREADS_API_VERSION',
      'PINTEREST_API_BASE',
      'MASTODON_API_BASE',
    ]);
    expect(error.field).toBe('BETTER_AUTH_URL');
    const everything = JSON.stringify(error) + error.message;
    expect(everything).not.toMatch(/canary/);
    expect(everything).not.toContain('rm -rf');
  });

  it('explains a hex KEK_MASTER by name', () => {
    const error = failure({ ...base, KEK_MASTER: 'ab'.repeat(32) });
    expect(error.issues[0]).toMatchObject({ field: 'KEK_MASTER', rule: 'env.encryption_key' });
    expect(error.issues[0]?.message).toContain('KEK_MASTER');
    expect(error.message).not.toContain('ab'.repeat(32));
  });
});
