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
      THREADS_CLIENT_ID: 'th-id',
      THREADS_CLIENT_SECRET: 'th-secret',
      THREADS_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:4010/threads-web/oauth/authorize',
      FACEBOOK_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:4010/facebook-web/v24.0/dialog/oauth',
      PINTEREST_API_BASE: 'http://127.0.0.1:4010/pinterest',
      LINKEDIN_API_VERSION: '202605',
      LINKEDIN_OAUTH_BASE: 'http://127.0.0.1:4010/linkedin/www/',
      TWITTER_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:4010/twitter/i/oauth2/authorize',
      BLUESKY_API_BASE: '',
      BLUESKY_PLC_DIRECTORY_URL: 'http://127.0.0.1:4010/bluesky/plc',
      BLUESKY_VIDEO_SERVICE_URL: 'http://127.0.0.1:4010/bluesky/video',
      BLUESKY_APPVIEW_URL: 'http://127.0.0.1:4010/bluesky/appview',
      UNRELATED: 'x',
    });
    expect(config.launchCaps).toEqual({ twitter: { limit: 200 } });
    expect(config.platforms).toEqual({
      twitter: {
        clientId: 'tw-id',
        clientSecret: 'tw-secret',
        apiBaseUrl: 'http://127.0.0.1:4010/twitter',
        oauthAuthorizeUrl: 'http://127.0.0.1:4010/twitter/i/oauth2/authorize',
      },
      facebook: {
        clientId: 'meta-id',
        clientSecret: 'meta-secret',
        apiBaseUrl: 'http://127.0.0.1:4010/graph',
        graphVersion: 'v24.0',
        oauthAuthorizeUrl: 'http://127.0.0.1:4010/facebook-web/v24.0/dialog/oauth',
      },
      instagram: {
        clientId: 'ig-id',
        graphBase: 'http://127.0.0.1:4010/ig',
        oauthAuthorizeUrl: 'http://127.0.0.1:4010/ig/oauth/authorize',
        oauthTokenUrl: 'http://127.0.0.1:4010/ig/oauth/access_token',
      },
      threads: {
        clientId: 'th-id',
        clientSecret: 'th-secret',
        apiBaseUrl: 'http://127.0.0.1:4010/threads',
        apiVersion: 'v1.0',
        oauthAuthorizeUrl: 'http://127.0.0.1:4010/threads-web/oauth/authorize',
      },
      pinterest: { apiBaseUrl: 'http://127.0.0.1:4010/pinterest' },
      linkedin: { apiVersion: '202605', oauthBaseUrl: 'http://127.0.0.1:4010/linkedin/www' },
      bluesky: {
        plcDirectoryUrl: 'http://127.0.0.1:4010/bluesky/plc',
        videoServiceUrl: 'http://127.0.0.1:4010/bluesky/video',
        appViewUrl: 'http://127.0.0.1:4010/bluesky/appview',
      },
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

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['the README ellipsis', '...'],
    ['your-client-id', 'your-client-id'],
    ['YOUR_CLIENT_ID', 'YOUR_CLIENT_ID'],
    ['changeme', 'changeme'],
    ['an angle-bracket slot', '<client id>'],
    ['client_id', 'client_id'],
    ['xxxx', 'xxxx'],
  ])('refuses a client id that is %s, by name, at startup', (_label, value) => {
    const error = failure({ ...base, TWITTER_CLIENT_ID: value, TWITTER_CLIENT_SECRET: 'a-real-looking-secret-9f8e7d' });
    expect(error.issues).toEqual([expect.objectContaining({ field: 'TWITTER_CLIENT_ID', rule: value.trim() === '' ? 'env.empty' : 'env.placeholder' })]);
    expect(error.message).toContain('TWITTER_CLIENT_ID');
  });

  it('refuses a placeholder secret, and keeps an empty secret as unset (public clients)', () => {
    expect(failure({ ...base, LINKEDIN_CLIENT_ID: '86abcdefgh1234', LINKEDIN_CLIENT_SECRET: 'your-client-secret' }).issues).toEqual([
      expect.objectContaining({ field: 'LINKEDIN_CLIENT_SECRET', rule: 'env.placeholder' }),
    ]);
    expect(loadConfigFromEnv({ ...base, TWITTER_CLIENT_ID: 'VGhpc0lzQVJlYWxJZDoxOmNp', TWITTER_CLIENT_SECRET: '' }).platforms).toEqual({
      twitter: { clientId: 'VGhpc0lzQVJlYWxJZDoxOmNp' },
    });
  });

  it('accepts real-looking client ids', () => {
    const config = loadConfigFromEnv({ ...base, TWITTER_CLIENT_ID: 'VGhpc0lzQVJlYWxJZDoxOmNp', LINKEDIN_CLIENT_ID: '86abcdefgh1234' });
    expect(config.platforms.twitter?.clientId).toBe('VGhpc0lzQVJlYWxJZDoxOmNp');
    expect(config.platforms.linkedin?.clientId).toBe('86abcdefgh1234');
  });

  it('refuses an OAuth host variable the platform does not read, naming the ones it does', () => {
    const error = failure({ ...base, LINKEDIN_OAUTH_AUTHORIZE_URL: 'http://127.0.0.1:4010/a', TWITTER_OAUTH_BASE: 'http://127.0.0.1:4010/b' });
    expect(error.issues.map((issue) => [issue.field, issue.rule])).toEqual([
      ['TWITTER_OAUTH_BASE', 'env.unsupported'],
      ['LINKEDIN_OAUTH_AUTHORIZE_URL', 'env.unsupported'],
    ]);
    expect(error.issues[0]?.message).toContain('TWITTER_OAUTH_AUTHORIZE_URL');
    expect(error.issues[1]?.message).toContain('LINKEDIN_OAUTH_BASE');
  });

  it('checks the OAuth host variables as URLs', () => {
    const error = failure({ ...base, LINKEDIN_OAUTH_BASE: 'not a url', TWITTER_OAUTH_AUTHORIZE_URL: 'ftp://x.example/authorize' });
    expect(error.issues.map((issue) => [issue.field, issue.rule])).toEqual([
      ['TWITTER_OAUTH_AUTHORIZE_URL', 'env.url'],
      ['LINKEDIN_OAUTH_BASE', 'env.url'],
    ]);
  });
});
