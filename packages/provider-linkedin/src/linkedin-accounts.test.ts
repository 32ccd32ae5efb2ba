import { LetmepostError } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import errorRevoked from './__fixtures__/error-401-revoked-token.json' with { type: 'json' };
import errorAccessDenied from './__fixtures__/error-403-access-denied.json' with { type: 'json' };
import organizationAcls from './__fixtures__/organization-acls.json' with { type: 'json' };
import organization from './__fixtures__/organization-2414183.json' with { type: 'json' };
import userInfo from './__fixtures__/userinfo.json' with { type: 'json' };
import { createLinkedIn } from './linkedin-provider.js';

const API = 'https://api.linkedin.com';
const TOKEN = 'AQX_accounts_token_c4n4ry_8812';
const CLIENT = { clientId: '86xyz123', clientSecret: 'secret-c4n4ry-aa' };
const ORG_SCOPES = ['openid', 'profile', 'w_member_social', 'r_organization_social', 'w_organization_social', 'rw_organization_admin'];

function provider() {
  return createLinkedIn({
    ...CLIENT,
    apiVersion: '202607',
    identityRetry: { attempts: 3, delayMs: 0 },
    http: { retry: { maxAttempts: 1 } },
  });
}

/** Captures the headers of every request a scope answers. */
function recordHeaders(scope: nock.Scope): Array<Headers> {
  const seen: Headers[] = [];
  scope.on('request', (request: { headers: Headers }) => seen.push(request.headers));
  return seen;
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('listAccounts', () => {
  it('reads the member from /v2/userinfo (bearer, no version header) and returns it as a person URN', async () => {
    const scope = nock(API).get('/v2/userinfo').reply(200, userInfo);
    const headers = recordHeaders(scope);
    const accounts = await provider().listAccounts!({
      tokens: { accessToken: TOKEN, scopes: ['openid', 'profile', 'w_member_social'] },
      client: CLIENT,
    });
    scope.done();
    expect(headers[0]?.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(headers[0]?.get('linkedin-version')).toBeNull();
    expect(accounts).toEqual([
      {
        platformAccountId: 'urn:li:person:782bbtaQ',
        kind: 'person',
        displayName: 'John Doe',
        avatarUrl: userInfo.picture,
        data: { urn: 'urn:li:person:782bbtaQ' },
      },
    ]);
  });

  it('with organization scopes, adds every page the member may post for (strongest role, deduplicated)', async () => {
    const scope = nock(API)
      .get('/v2/userinfo')
      .reply(200, userInfo)
      .get('/rest/organizationAcls')
      .query({ q: 'roleAssignee', state: 'APPROVED', start: '0', count: '100' })
      .reply(200, organizationAcls)
      .get('/rest/organizations/2414183')
      .reply(200, organization)
      .get('/rest/organizations/5515715')
      .reply(403, errorAccessDenied);
    const headers = recordHeaders(scope);
    const accounts = await provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ORG_SCOPES }, client: CLIENT });
    scope.done();
    for (const sent of headers.slice(1)) {
      expect(sent.get('linkedin-version')).toBe('202607');
      expect(sent.get('x-restli-protocol-version')).toBe('2.0.0');
      expect(sent.get('authorization')).toBe(`Bearer ${TOKEN}`);
    }
    expect(accounts.slice(1)).toEqual([
      {
        platformAccountId: 'urn:li:organization:2414183',
        kind: 'organization',
        displayName: 'Devtestco',
        username: 'devtestco',
        profileUrl: 'https://www.linkedin.com/company/devtestco/',
        data: { urn: 'urn:li:organization:2414183', memberUrn: 'urn:li:person:782bbtaQ', role: 'ADMINISTRATOR', vanityName: 'devtestco' },
      },
      {
        // Listed by id when its details are not readable; ANALYST alone would not be listed.
        platformAccountId: 'urn:li:organization:5515715',
        kind: 'organization',
        displayName: 'LinkedIn organization 5515715',
        data: { urn: 'urn:li:organization:5515715', memberUrn: 'urn:li:person:782bbtaQ', role: 'CONTENT_ADMINISTRATOR' },
      },
    ]);
  });

  it('pages through organizationAcls', async () => {
    const firstPage = {
      paging: { start: 0, count: 100, total: 101 },
      elements: Array.from({ length: 100 }, (_, index) => ({ role: 'ANALYST', state: 'APPROVED', organization: `urn:li:organization:${index + 1}` })),
    };
    const secondPage = { paging: { start: 100, count: 100, total: 101 }, elements: [{ role: 'ADMINISTRATOR', state: 'APPROVED', organization: 'urn:li:organization:2414183' }] };
    const scope = nock(API)
      .get('/v2/userinfo')
      .reply(200, userInfo)
      .get('/rest/organizationAcls')
      .query({ q: 'roleAssignee', state: 'APPROVED', start: '0', count: '100' })
      .reply(200, firstPage)
      .get('/rest/organizationAcls')
      .query({ q: 'roleAssignee', state: 'APPROVED', start: '100', count: '100' })
      .reply(200, secondPage)
      .get('/rest/organizations/2414183')
      .reply(200, organization);
    const accounts = await provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ORG_SCOPES }, client: CLIENT });
    scope.done();
    expect(accounts.map((account) => account.platformAccountId)).toEqual(['urn:li:person:782bbtaQ', 'urn:li:organization:2414183']);
  });

  it('keeps the member account when the token may not list organizations', async () => {
    const scope = nock(API).get('/v2/userinfo').reply(200, userInfo).get('/rest/organizationAcls').query(true).reply(403, errorAccessDenied);
    const accounts = await provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ['openid', 'w_organization_social'] }, client: CLIENT });
    scope.done();
    expect(accounts.map((account) => account.platformAccountId)).toEqual(['urn:li:person:782bbtaQ']);
  });

  it('reads the member from /v2/me when the grant has r_basicprofile but no OpenID Connect (Community Management apps)', async () => {
    const scope = nock(API)
      .get('/v2/me')
      .reply(200, { localizedLastName: 'Doe', localizedFirstName: 'John', vanityName: 'johndoe', id: '782bbtaQ', localizedHeadline: 'Builder' });
    const headers = recordHeaders(scope);
    const accounts = await provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ['w_member_social', 'r_basicprofile'] }, client: CLIENT });
    scope.done();
    expect(headers[0]?.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(accounts).toEqual([
      {
        platformAccountId: 'urn:li:person:782bbtaQ',
        kind: 'person',
        displayName: 'John Doe',
        username: 'johndoe',
        profileUrl: 'https://www.linkedin.com/in/johndoe/',
        data: { urn: 'urn:li:person:782bbtaQ', vanityName: 'johndoe' },
      },
    ]);
  });

  it('refuses a grant that cannot identify the member, before any request', async () => {
    await expect(
      provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ['w_member_social'] }, client: CLIENT }),
    ).rejects.toMatchObject({ code: 'permission_denied', platform: 'linkedin' });
  });

  it('retries a fresh token LinkedIn still reports as revoked while it propagates', async () => {
    const scope = nock(API).get('/v2/userinfo').reply(401, errorRevoked).get('/v2/userinfo').reply(200, userInfo);
    const accounts = await provider().listAccounts!({ tokens: { accessToken: TOKEN, scopes: ['openid'] }, client: CLIENT });
    scope.done();
    expect(accounts).toHaveLength(1);
  });

  it('gives up after the configured attempts with reauth_required, without leaking the token', async () => {
    const scope = nock(API).get('/v2/userinfo').times(3).reply(401, errorRevoked);
    const error = await provider()
      .listAccounts!({ tokens: { accessToken: TOKEN, scopes: ['openid'] }, client: CLIENT })
      .catch((caught: unknown) => caught);
    scope.done();
    expect(LetmepostError.isInstance(error) && error.code).toBe('reauth_required');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });
});
