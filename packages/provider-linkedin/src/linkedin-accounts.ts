import { LetmepostError, type ProviderAccount, type TokenSet } from '@letmepost/core';
import {
  linkedInOrganizationAclsSchema,
  linkedInOrganizationSchema,
  linkedInMeSchema,
  linkedInUserInfoSchema,
  type LinkedInMe,
  type LinkedInOrganization,
  type LinkedInUserInfo,
} from './linkedin-api.js';
import { restHeaders, restUrl, type LinkedInClient } from './linkedin-client.js';
import { organizationUrn, personUrn, type LinkedInAccountData } from './linkedin-credentials.js';

/** Page roles that may post as the organization (Posts API permissions). */
const POSTING_ROLES = ['ADMINISTRATOR', 'CONTENT_ADMIN', 'CONTENT_ADMINISTRATOR', 'DIRECT_SPONSORED_CONTENT_POSTER'] as const;
const ORGANIZATION_URN = /^urn:li:organization:(\d+)$/;
const ACL_PAGE_SIZE = 100;
// Bounds the listing: a member administering more pages than this is not a realistic grant.
const ACL_MAX_PAGES = 10;

/**
 * Runs an identity call, retrying the answers a token LinkedIn has just minted can get for a few
 * seconds while it propagates ("revoked", "invalid") before the grant is declared dead.
 */
async function withPropagationRetry<T>(options: {
  client: LinkedInClient;
  signal?: AbortSignal;
  call: () => Promise<T>;
}): Promise<T> {
  const { client, signal } = options;
  const { attempts, delayMs } = client.identityRetry;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await options.call();
    } catch (error) {
      const propagating =
        LetmepostError.isInstance(error) && (error.code === 'reauth_required' || error.code === 'auth_expired') && error.status === 401;
      if (!propagating || attempt >= attempts) throw error;
      await client.sleep({ ms: delayMs * attempt, ...(signal !== undefined ? { signal } : {}) });
    }
  }
}

/** `GET /v2/userinfo` (OpenID Connect: `openid profile`). */
export async function fetchLinkedInUserInfo(options: {
  client: LinkedInClient;
  accessToken: string;
  signal?: AbortSignal;
}): Promise<LinkedInUserInfo> {
  const { client, accessToken, signal } = options;
  return withPropagationRetry({
    client,
    ...(signal !== undefined ? { signal } : {}),
    call: async () =>
      (
        await client.http.json({
          method: 'GET',
          url: restUrl({ client, path: '/v2/userinfo' }),
          auth: { bearer: accessToken },
          schema: linkedInUserInfoSchema(),
          secrets: [accessToken],
          ...(signal !== undefined ? { signal } : {}),
        })
      ).value,
  });
}

/** `GET /v2/me` (`r_basicprofile`), for apps without OpenID Connect. */
async function fetchLinkedInMe(options: { client: LinkedInClient; accessToken: string; signal?: AbortSignal }): Promise<LinkedInMe> {
  const { client, accessToken, signal } = options;
  return withPropagationRetry({
    client,
    ...(signal !== undefined ? { signal } : {}),
    call: async () =>
      (
        await client.http.json({
          method: 'GET',
          url: restUrl({ client, path: '/v2/me' }),
          headers: { 'X-Restli-Protocol-Version': '2.0.0' },
          auth: { bearer: accessToken },
          schema: linkedInMeSchema(),
          secrets: [accessToken],
          ...(signal !== undefined ? { signal } : {}),
        })
      ).value,
  });
}

function personAccount(userInfo: LinkedInUserInfo): ProviderAccount {
  const urn = personUrn(userInfo.sub);
  const data: LinkedInAccountData = { urn };
  return {
    platformAccountId: urn,
    kind: 'person',
    // OpenID Connect exposes no handle; that needs r_basicprofile (/v2/me).
    ...(userInfo.name !== undefined ? { displayName: userInfo.name } : {}),
    ...(userInfo.picture !== undefined ? { avatarUrl: userInfo.picture } : {}),
    data,
  };
}

function personAccountFromMe(me: LinkedInMe): ProviderAccount {
  const urn = personUrn(me.id);
  const name = [me.localizedFirstName, me.localizedLastName].filter((part) => part !== undefined && part.length > 0).join(' ');
  const data: LinkedInAccountData = { urn, ...(me.vanityName !== undefined ? { vanityName: me.vanityName } : {}) };
  return {
    platformAccountId: urn,
    kind: 'person',
    ...(name.length > 0 ? { displayName: name } : {}),
    ...(me.vanityName !== undefined
      ? { username: me.vanityName, profileUrl: `https://www.linkedin.com/in/${me.vanityName}/` }
      : {}),
    data,
  };
}

/**
 * The member behind a token: OpenID Connect `/v2/userinfo` when `openid`/`profile` were granted
 * (or the grant's scopes are unknown), otherwise `/v2/me` with `r_basicprofile`.
 */
async function fetchMember(options: { client: LinkedInClient; tokens: TokenSet; signal?: AbortSignal }): Promise<ProviderAccount> {
  const { client, tokens, signal } = options;
  const scopes = tokens.scopes ?? [];
  const common = { client, accessToken: tokens.accessToken, ...(signal !== undefined ? { signal } : {}) };
  if (scopes.length === 0 || scopes.includes('openid') || scopes.includes('profile')) {
    return personAccount(await fetchLinkedInUserInfo(common));
  }
  if (scopes.includes('r_basicprofile')) return personAccountFromMe(await fetchLinkedInMe(common));
  throw new LetmepostError({
    code: 'permission_denied',
    message: `The LinkedIn grant (${scopes.join(' ')}) cannot identify the member: it has neither openid/profile nor r_basicprofile.`,
    platform: 'linkedin',
    remediation:
      'Request openid and profile ("Sign In with LinkedIn using OpenID Connect"), or r_basicprofile on a Community Management app.',
  });
}

/** Organizations the member may post for, with the strongest role held on each. */
async function listPostableOrganizations(options: {
  client: LinkedInClient;
  accessToken: string;
  signal?: AbortSignal;
}): Promise<Map<string, string>> {
  const { client, accessToken, signal } = options;
  const organizations = new Map<string, string>();
  for (let page = 0; page < ACL_MAX_PAGES; page += 1) {
    const { value } = await client.http.json({
      method: 'GET',
      url: restUrl({ client, path: '/rest/organizationAcls' }),
      query: { q: 'roleAssignee', state: 'APPROVED', start: page * ACL_PAGE_SIZE, count: ACL_PAGE_SIZE },
      headers: restHeaders(client),
      auth: { bearer: accessToken },
      schema: linkedInOrganizationAclsSchema(),
      secrets: [accessToken],
      ...(signal !== undefined ? { signal } : {}),
    });
    for (const element of value.elements) {
      const match = ORGANIZATION_URN.exec(element.organization ?? element.organizationalTarget ?? '');
      const role = element.role ?? '';
      if (match === null || !(POSTING_ROLES as readonly string[]).includes(role)) continue;
      if (element.state !== undefined && element.state !== 'APPROVED') continue;
      const id = match[1] as string;
      const held = organizations.get(id);
      if (held === undefined || POSTING_ROLES.indexOf(role as never) < POSTING_ROLES.indexOf(held as never)) {
        organizations.set(id, role);
      }
    }
    const total = value.paging?.total;
    const fetched = (page + 1) * ACL_PAGE_SIZE;
    if (value.elements.length < ACL_PAGE_SIZE || (total !== undefined && fetched >= total)) break;
  }
  return organizations;
}

async function fetchOrganization(options: {
  client: LinkedInClient;
  accessToken: string;
  id: string;
  signal?: AbortSignal;
}): Promise<LinkedInOrganization | undefined> {
  const { client, accessToken, id, signal } = options;
  try {
    const { value } = await client.http.json({
      method: 'GET',
      url: restUrl({ client, path: `/rest/organizations/${id}` }),
      headers: restHeaders(client),
      auth: { bearer: accessToken },
      schema: linkedInOrganizationSchema(),
      secrets: [accessToken],
      ...(signal !== undefined ? { signal } : {}),
    });
    return value;
  } catch (error) {
    // Details are cosmetic; a page we may post to but not read is still listed, by id.
    if (LetmepostError.isInstance(error) && (error.code === 'permission_denied' || error.code === 'not_found')) return undefined;
    throw error;
  }
}

function organizationAccount(options: {
  id: string;
  role: string;
  member: string;
  organization: LinkedInOrganization | undefined;
}): ProviderAccount {
  const { id, role, member, organization } = options;
  const urn = organizationUrn(id);
  const vanityName = organization?.vanityName;
  const data: LinkedInAccountData = { urn, memberUrn: member, role, ...(vanityName !== undefined ? { vanityName } : {}) };
  return {
    platformAccountId: urn,
    kind: 'organization',
    displayName: organization?.localizedName ?? `LinkedIn organization ${id}`,
    ...(vanityName !== undefined
      ? { username: vanityName, profileUrl: `https://www.linkedin.com/company/${vanityName}/` }
      : {}),
    data,
  };
}

/**
 * The member behind a fresh grant, then, when the grant allows posting as organizations
 * (`w_organization_social`), every page the member may post for, each as its own account.
 */
export async function listLinkedInAccounts(options: {
  client: LinkedInClient;
  tokens: TokenSet;
  signal?: AbortSignal;
}): Promise<ProviderAccount[]> {
  const { client, tokens, signal } = options;
  const accessToken = tokens.accessToken;
  const member = await fetchMember({ client, tokens, ...(signal !== undefined ? { signal } : {}) });
  if (!(tokens.scopes ?? []).includes('w_organization_social')) return [member];

  let organizations: Map<string, string>;
  try {
    organizations = await listPostableOrganizations({ client, accessToken, ...(signal !== undefined ? { signal } : {}) });
  } catch (error) {
    // Listing pages needs rw_organization_admin; without it the member account still works.
    if (LetmepostError.isInstance(error) && error.code === 'permission_denied') return [member];
    throw error;
  }
  const accounts = [member];
  for (const [id, role] of organizations) {
    const organization = await fetchOrganization({ client, accessToken, id, ...(signal !== undefined ? { signal } : {}) });
    accounts.push(organizationAccount({ id, role, member: member.platformAccountId, organization }));
  }
  return accounts;
}
