import { describe, expect, it } from 'vitest';
import { LetmepostError } from './letmepost-error.js';
import { redirectUris } from './redirect-uris.js';
import { createHarness, createTestProvider } from './test-support/test-provider.js';

describe('redirectUris', () => {
  it('lists one callback per OAuth provider, keeping the base path and dropping a trailing slash', () => {
    const providers = [
      createTestProvider({ id: 'linkedin' }),
      createTestProvider({ id: 'twitter' }),
      // Connected with pasted credentials: there is nothing to register.
      createTestProvider({ id: 'bluesky', auth: { kind: 'credentials' } }),
    ];
    expect(redirectUris({ baseUrl: 'https://posts.example.org/app/', providers })).toEqual([
      { platform: 'linkedin', displayName: 'Test linkedin', redirectUri: 'https://posts.example.org/app/v1/accounts/oauth/linkedin/callback' },
      { platform: 'twitter', displayName: 'Test twitter', redirectUri: 'https://posts.example.org/app/v1/accounts/oauth/twitter/callback' },
    ]);
  });

  it('is exactly the redirect_uri a connect flow sends, from the instance method', async () => {
    const provider = createTestProvider({ id: 'linkedin' });
    const harness = createHarness({ providers: [provider], baseUrl: 'http://127.0.0.1:3000/' });
    const [listed] = harness.letmepost.redirectUris();
    await harness.letmepost.connect.start({ workspaceId: 'ws_1', platform: 'linkedin', allowQuickstartCreds: true });
    expect(provider.calls.authorizationUrl[0]?.redirectUri).toBe('http://127.0.0.1:3000/v1/accounts/oauth/linkedin/callback');
    expect(listed?.redirectUri).toBe(provider.calls.authorizationUrl[0]?.redirectUri);
  });

  it.each([['not a url'], ['ftp://example.org'], ['https://example.org/?next=1']])('refuses the base URL %s as validation_failed', (baseUrl) => {
    let thrown: unknown;
    try {
      redirectUris({ baseUrl, providers: [createTestProvider()] });
    } catch (error) {
      thrown = error;
    }
    expect(LetmepostError.isInstance(thrown) && thrown.code).toBe('validation_failed');
    expect(LetmepostError.isInstance(thrown) && thrown.field).toBe('baseUrl');
  });
});
