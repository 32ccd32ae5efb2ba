import { LetmepostError } from '@letmepost/core';
import { runProviderConformance } from '@letmepost/testing';
import { describe, expect, it } from 'vitest';
import errorExpired from './__fixtures__/error-401-expired-token.json' with { type: 'json' };
import errorAccessDenied from './__fixtures__/error-403-access-denied.json' with { type: 'json' };
import errorServer from './__fixtures__/error-500.json' with { type: 'json' };
import organization from './__fixtures__/organization-2414183.json' with { type: 'json' };
import organizationAcls from './__fixtures__/organization-acls.json' with { type: 'json' };
import tokenResponseRefreshed from './__fixtures__/token-response-refreshed.json' with { type: 'json' };
import tokenResponse from './__fixtures__/token-response.json' with { type: 'json' };
import userInfo from './__fixtures__/userinfo.json' with { type: 'json' };
import { createLinkedIn, LINKEDIN_DEFAULT_API_VERSION } from './linkedin-provider.js';

const ACCESS_TOKEN = 'AQX_conformance_member_token_c4n4ry_5e1f';
const CLIENT_SECRET = 'linkedin-client-secret-c4n4ry-0a9b';
const RESUME_VIDEO = 'urn:li:video:C5F10AQGKQg_6y2a4sQ';

runProviderConformance({
  createProvider: ({ dispatcher, clock }) =>
    createLinkedIn({ clientId: '86xyz123', clientSecret: CLIENT_SECRET, dispatcher, clock }),
  oauth: {
    client: { clientId: '86xyz123', clientSecret: CLIENT_SECRET },
    redirectUri: 'https://app.example/v1/accounts/oauth/linkedin/callback',
    authorizationEndpoint: 'https://www.linkedin.com/oauth/v2/authorization',
    tokenEndpoint: { origin: 'https://www.linkedin.com', path: '/oauth/v2/accessToken' },
    tokenResponse: { status: 200, body: tokenResponse },
    expected: {
      accessToken: tokenResponse.access_token,
      tokenType: 'bearer',
      scopes: ['email', 'openid', 'profile', 'w_member_social'],
    },
  },
  credentials: { valid: { accessToken: ACCESS_TOKEN, personId: '782bbtaQ' } },
  publish: {
    auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN, personId: '782bbtaQ' } },
    post: { text: 'Shipping letmepost (v1) today' },
    canarySecrets: [ACCESS_TOKEN, CLIENT_SECRET],
    writeEndpoint: {
      origin: 'https://api.linkedin.com',
      method: 'POST',
      path: '/rest/posts',
      success: { status: 201, body: '', headers: { 'x-restli-id': 'urn:li:share:7300000000000000001' } },
    },
    expected: {
      postId: 'urn:li:share:7300000000000000001',
      url: 'https://www.linkedin.com/feed/update/urn:li:share:7300000000000000001/',
    },
    // LinkedIn sends no Retry-After of its own; when a proxy or LinkedIn does, it is honoured.
    rateLimit: { headers: { 'retry-after': '120' }, body: { status: 429, message: 'Resource level throttle limit for calls to this resource is reached.' }, retryAfterMs: 120_000 },
    errorBodies: { 401: errorExpired, 403: errorAccessDenied, 500: errorServer },
  },
  validation: [
    { post: { text: 'x'.repeat(3001) }, rule: 'linkedin.text.max_length' },
    { post: { text: '' }, rule: 'linkedin.text.required' },
    { post: { text: 'a', thread: [{ text: 'b' }] }, rule: 'linkedin.thread.unsupported' },
    {
      post: { text: 'a', media: [{ data: new Uint8Array(100_000), mimeType: 'video/mp4' }, { data: new Uint8Array(4), mimeType: 'image/png' }] },
      rule: 'linkedin.media.mixed',
    },
    { post: { text: 'a', media: [{ data: new Uint8Array(4), mimeType: 'image/webp' }] }, rule: 'linkedin.media.mime_type' },
  ],
  refresh: {
    tokens: { accessToken: ACCESS_TOKEN, refreshToken: 'AQW_linkedin_stored_refresh_c4n4ry_31' },
    client: { clientId: '86xyz123', clientSecret: CLIENT_SECRET },
    endpoint: { origin: 'https://www.linkedin.com', path: '/oauth/v2/accessToken' },
    rotated: { status: 200, body: tokenResponseRefreshed },
    expected: { accessToken: tokenResponseRefreshed.access_token, refreshToken: tokenResponseRefreshed.refresh_token },
    // LinkedIn's refresh tokens are reusable: an answer may leave it out.
    withoutRefreshToken: { status: 200, body: { ...tokenResponseRefreshed, refresh_token: undefined, refresh_token_expires_in: undefined } },
  },
  // The member and every page they may post for, from one grant.
  accounts: {
    tokens: { accessToken: ACCESS_TOKEN, scopes: ['openid', 'profile', 'w_member_social', 'r_organization_social', 'w_organization_social', 'rw_organization_admin'] },
    client: { clientId: '86xyz123', clientSecret: CLIENT_SECRET },
    setup: (mockAgent) => {
      const api = mockAgent.get('https://api.linkedin.com');
      const json = { headers: { 'content-type': 'application/json' } };
      api.intercept({ method: 'GET', path: '/v2/userinfo' }).reply(200, JSON.stringify(userInfo), json);
      api.intercept({ method: 'GET', path: (path) => path.startsWith('/rest/organizationAcls') }).reply(200, JSON.stringify(organizationAcls), json);
      api.intercept({ method: 'GET', path: '/rest/organizations/2414183' }).reply(200, JSON.stringify(organization), json);
      api.intercept({ method: 'GET', path: '/rest/organizations/5515715' }).reply(403, JSON.stringify(errorAccessDenied), json);
    },
    expectedAccountIds: ['urn:li:person:782bbtaQ', 'urn:li:organization:2414183', 'urn:li:organization:5515715'],
  },
  delete: {
    auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN, personId: '782bbtaQ' } },
    postId: 'urn:li:share:7300000000000000001',
    endpoint: {
      origin: 'https://api.linkedin.com',
      method: 'DELETE',
      path: `/rest/posts/${encodeURIComponent('urn:li:share:7300000000000000001')}`,
      success: { status: 204 },
    },
  },
  // A pending video publish whose video LinkedIn has processed: checkStatus only reads its state.
  resume: {
    auth: { type: 'credentials', credentials: { accessToken: ACCESS_TOKEN, personId: '782bbtaQ' } },
    resume: {
      v: 1,
      video: RESUME_VIDEO,
      body: {
        author: 'urn:li:person:782bbtaQ',
        commentary: 'A video',
        visibility: 'PUBLIC',
        distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
        content: { media: { id: RESUME_VIDEO } },
        lifecycleState: 'PUBLISHED',
        isReshareDisabledByAuthor: false,
      },
      warnings: [],
    },
    setup: (mockAgent) => {
      mockAgent
        .get('https://api.linkedin.com')
        .intercept({ method: 'GET', path: `/rest/videos/${encodeURIComponent(RESUME_VIDEO)}` })
        .reply(200, { id: RESUME_VIDEO, status: 'AVAILABLE' }, { headers: { 'content-type': 'application/json' } })
        .persist();
    },
    finalizeEndpoint: {
      origin: 'https://api.linkedin.com',
      method: 'POST',
      path: '/rest/posts',
      success: { status: 201, body: '', headers: { 'x-restli-id': 'urn:li:share:7300000000000000002' } },
    },
    expected: { postId: 'urn:li:share:7300000000000000002' },
  },
  // LinkedIn's POST /rest/posts takes no idempotency key and a member token cannot list its own
  // posts to find one already made, so finalize cannot be idempotent at the platform; core runs it
  // at most once per resume token (stored outcome + lease, core/src/resume.test.ts), and
  // linkedin-media-upload.test.ts finishes a processing video through letmepost.resume at the wire.
  skip: ['resume.finalize-idempotent'],
});

describe('createLinkedIn settings', () => {
  it('pins a LinkedIn-Version and accepts an override', () => {
    expect(LINKEDIN_DEFAULT_API_VERSION).toMatch(/^\d{6}$/);
    expect(() => createLinkedIn({ apiVersion: '202610' })).not.toThrow();
  });

  it('refuses malformed settings with validation_failed naming the field, without echoing the secret', () => {
    const secret = 'settings-secret-c4n4ry-77';
    let caught: unknown;
    try {
      createLinkedIn({ apiVersion: '2026-07', clientSecret: secret });
    } catch (error) {
      caught = error;
    }
    expect(LetmepostError.isInstance(caught)).toBe(true);
    const error = caught as LetmepostError;
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe('settings.apiVersion');
    expect(JSON.stringify(error)).not.toContain(secret);
  });

  it('declares LinkedIn’s OAuth facts', () => {
    const provider = createLinkedIn();
    expect(provider.auth).toEqual({
      kind: 'oauth2',
      scopes: {
        write: ['openid', 'profile', 'w_member_social'],
        extended: ['r_organization_social', 'w_organization_social', 'rw_organization_admin'],
      },
      pkce: false,
      refresh: 'reusable',
    });
    expect(provider.defaultClient).toBeUndefined();
    const communityManagement = createLinkedIn({
      scopes: { write: ['w_member_social', 'r_basicprofile'], extended: ['w_organization_social', 'rw_organization_admin'] },
    });
    expect(communityManagement.auth).toMatchObject({
      scopes: { write: ['w_member_social', 'r_basicprofile'], extended: ['w_organization_social', 'rw_organization_admin'] },
    });
    expect(() => createLinkedIn({ scopes: { write: ['openid profile'] } })).toThrow(/scopes\.write\.0 must be a single scope name/);
    expect(createLinkedIn({ clientId: 'abc', clientSecret: 'def' }).defaultClient).toEqual({ clientId: 'abc', clientSecret: 'def' });
  });
});
