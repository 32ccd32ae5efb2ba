import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import errorAccessDenied from './__fixtures__/error-403-access-denied.json' with { type: 'json' };
import organizationAcls from './__fixtures__/organization-acls.json' with { type: 'json' };
import organization from './__fixtures__/organization-2414183.json' with { type: 'json' };
import userInfo from './__fixtures__/userinfo.json' with { type: 'json' };
import { createLinkedIn } from './linkedin-provider.js';

/**
 * Issue 9, shared grants, on the wire: one LinkedIn consent yields the member and the
 * organisations they administer. Removing one of them must not revoke the consent the others
 * still publish with; only removing the last one does.
 */
const API = 'https://api.linkedin.com';
const OAUTH = 'https://www.linkedin.com';
const CLIENT = { clientId: '86xyz123', clientSecret: 'secret-c4n4ry-grant' };
const ACCESS_TOKEN = 'AQX_shared_grant_token_c4n4ry_5151';
const ORG_SCOPES = ['openid', 'profile', 'w_member_social', 'r_organization_social', 'w_organization_social', 'rw_organization_admin'];

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

async function connectMemberAndOrganisations() {
  const linkedin = createLinkedIn({ ...CLIENT, apiVersion: '202607', http: { retry: { maxAttempts: 1 } } });
  const letmepost = createLetmepost({
    providers: [linkedin],
    store: memoryTokenStore(),
    encryptionKey: Buffer.alloc(32, 3).toString('base64'),
    baseUrl: 'https://app.example',
  });
  nock(OAUTH).post('/oauth/v2/accessToken').reply(200, { access_token: ACCESS_TOKEN, expires_in: 5183999, scope: ORG_SCOPES.join(',') });
  nock(API)
    .get('/v2/userinfo')
    .reply(200, userInfo)
    .get('/rest/organizationAcls')
    .query(true)
    .reply(200, organizationAcls)
    .get('/rest/organizations/2414183')
    .reply(200, organization)
    .get('/rest/organizations/5515715')
    .reply(403, errorAccessDenied);
  const { url } = await letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin', allowQuickstartCreds: true, scopes: 'extended' });
  const state = new URL(url).searchParams.get('state') ?? '';
  const accounts = await letmepost.connect.complete({
    platform: 'linkedin',
    callbackUrl: `https://app.example/v1/accounts/oauth/linkedin/callback?code=c0de&state=${state}`,
  });
  expect(nock.isDone()).toBe(true);
  return { letmepost, accounts };
}

/** Intercepts every revoke; none may be sent unless a test expects it. */
function revokeRecorder() {
  const sent: URLSearchParams[] = [];
  nock(OAUTH)
    .post('/oauth/v2/revoke', (body: string) => {
      sent.push(new URLSearchParams(body));
      return true;
    })
    .times(10)
    .reply(200, '');
  return sent;
}

function interceptPost() {
  const authors: unknown[] = [];
  const tokens: string[] = [];
  const scope = nock(API)
    .post('/rest/posts', (body: { author?: unknown }) => {
      authors.push(body.author);
      return true;
    })
    .reply(201, '', { 'x-restli-id': 'urn:li:share:7000000000000000001' });
  scope.on('request', (request: { headers: Headers }) => tokens.push(request.headers.get('authorization') ?? ''));
  return { authors, tokens };
}

describe('LinkedIn member + 2 organisations from one consent', () => {
  it('removing one organisation sends no revoke and the others still publish; removing the last revokes once', async () => {
    const { letmepost, accounts } = await connectMemberAndOrganisations();
    expect(accounts.map((account) => account.kind)).toEqual(['person', 'organization', 'organization']);
    const [member, devtestco, other] = accounts;
    const revokes = revokeRecorder();

    await letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: devtestco!.id });
    expect(revokes, 'no revoke reached LinkedIn').toHaveLength(0);

    for (const target of [member!, other!]) {
      const sent = interceptPost();
      const [result] = await letmepost.publish({ workspaceId: 'ws-1', post: { text: 'still connected' }, targets: [{ accountId: target.id }] });
      expect(result?.status).toBe('published');
      expect(sent.tokens).toEqual([`Bearer ${ACCESS_TOKEN}`]);
      expect(sent.authors).toEqual([target.platformAccountId]);
    }

    await letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: member!.id });
    expect(revokes).toHaveLength(0);
    await letmepost.accounts.remove({ workspaceId: 'ws-1', accountId: other!.id });
    expect(revokes.map((body) => Object.fromEntries(body))).toEqual([
      { token: ACCESS_TOKEN, client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret },
    ]);
    expect(await letmepost.accounts.list({ workspaceId: 'ws-1' })).toEqual([]);
  });
});
