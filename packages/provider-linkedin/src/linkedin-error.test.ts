import type { HttpErrorResponse } from '@letmepost/provider-utils';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import error426 from './__fixtures__/error-426-nonexistent-version.json' with { type: 'json' };
import { LINKEDIN_VERSION_RULE, mapLinkedInError } from './linkedin-error.js';
import { createLinkedIn } from './linkedin-provider.js';

const response = (fields: { status: number; body: unknown }): HttpErrorResponse => ({
  headers: {},
  rateLimit: {},
  request: { method: 'POST', url: 'https://api.linkedin.com/rest/posts', retry: 'create' },
  ...fields,
});

afterEach(() => {
  nock.cleanAll();
});

describe('a retired LinkedIn-Version (426 NONEXISTENT_VERSION)', () => {
  it('is a typed, non-retryable error that names the version sent and the setting that moves it', () => {
    const error = mapLinkedInError({ response: response({ status: 426, body: error426 }), apiVersion: '202401' });
    expect(error).toMatchObject({
      code: 'platform_unavailable',
      retryable: false,
      rule: LINKEDIN_VERSION_RULE,
      field: 'settings.apiVersion',
      status: 426,
    });
    expect(error.message).toContain('LinkedIn-Version 202401');
    expect(error.message).toContain('apiVersion');
    expect(error.remediation).toContain('LINKEDIN_API_VERSION');
  });

  it('is recognised from the structured code when the status is not 426', () => {
    const error = mapLinkedInError({ response: response({ status: 400, body: { status: 400, code: 'VERSION_MISSING' } }) });
    expect(error).toMatchObject({ rule: LINKEDIN_VERSION_RULE, code: 'platform_unavailable' });
  });

  it('reaches a publish through the provider with the configured version named', async () => {
    nock('https://api.linkedin.com').post('/rest/posts').reply(426, error426);
    const provider = createLinkedIn({ apiVersion: '202401' });
    const error = await provider
      .publish({
        post: { text: 'hi' },
        auth: { type: 'credentials', credentials: { accessToken: 'linkedin-token-c4n4ry', personId: 'urn:li:person:abc123' } },
        options: {},
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'platform_unavailable', rule: LINKEDIN_VERSION_RULE, field: 'settings.apiVersion' });
    expect((error as Error).message).toContain('LinkedIn-Version 202401');
    expect(JSON.stringify(error)).not.toContain('linkedin-token-c4n4ry');
  });
});
