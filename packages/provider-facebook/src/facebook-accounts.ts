import { LetmepostError, type ClientCredentials, type ProviderAccount, type TokenSet } from '@letmepost/core';
import { listGraphEdge } from '@letmepost/meta-graph';
import { facebookBusinessSchema, facebookPageSchema, facebookPermissionSchema, type FacebookPage } from './facebook-api.js';
import type { FacebookContext } from './facebook-context.js';
import { APPSECRET_PROOF_SECRET } from './facebook-credentials.js';
import { withAppSecretProof } from './facebook-oauth.js';

const PAGE_FIELDS = 'id,name,username,access_token,picture.type(large),tasks';
/** A business's Pages carry no `tasks` (those describe the user's own role). */
const BUSINESS_PAGE_FIELDS = 'id,name,username,access_token,picture.type(large)';
/** Without these, a login lists no Page at all (fact sheet § Scopes). */
const PAGE_LISTING_PERMISSIONS = ['pages_show_list', 'pages_manage_posts'] as const;

interface FoundPage {
  page: FacebookPage;
  source: 'user' | 'business';
  businessId?: string;
}

interface UserAuth {
  accessToken: string;
  appSecretProof?: string;
  signal?: AbortSignal;
}

function edge(options: { context: FacebookContext; auth: UserAuth; path: string; fields: string }) {
  const { context, auth } = options;
  return listGraphEdge({
    http: context.graph,
    path: options.path,
    query: { fields: options.fields, limit: 100 },
    accessToken: auth.accessToken,
    ...(auth.appSecretProof !== undefined && { appSecretProof: auth.appSecretProof }),
    ...(auth.signal !== undefined && { signal: auth.signal }),
    item: facebookPageSchema(),
  });
}

/** A business edge the user has no role on, or `business_management` not granted: nothing to list there. */
async function unlessDenied<T>(read: Promise<T[]>): Promise<T[]> {
  try {
    return await read;
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'permission_denied') return [];
    throw error;
  }
}

/**
 * Pages reached through Business Portfolios (`/me/businesses` → `owned_pages`, `client_pages`):
 * users of other tools report them missing when only `/me/accounts` is read.
 */
async function businessPages(options: { context: FacebookContext; auth: UserAuth }): Promise<FoundPage[]> {
  const { context, auth } = options;
  const businesses = await unlessDenied(
    listGraphEdge({
      http: context.graph,
      path: 'me/businesses',
      query: { fields: 'id,name', limit: 100 },
      accessToken: auth.accessToken,
      ...(auth.appSecretProof !== undefined && { appSecretProof: auth.appSecretProof }),
      ...(auth.signal !== undefined && { signal: auth.signal }),
      item: facebookBusinessSchema(),
    }),
  );
  const found: FoundPage[] = [];
  for (const business of businesses) {
    for (const kind of ['owned_pages', 'client_pages'] as const) {
      const pages = await unlessDenied(edge({ context, auth, path: `${encodeURIComponent(business.id)}/${kind}`, fields: BUSINESS_PAGE_FIELDS }));
      found.push(...pages.map((page) => ({ page, source: 'business' as const, businessId: business.id })));
    }
  }
  return found;
}

function canPublish(page: FacebookPage): boolean {
  return page.access_token !== undefined && (page.tasks === undefined || page.tasks.includes('CREATE_CONTENT'));
}

function toAccount(options: { found: FoundPage; client: ClientCredentials }): ProviderAccount {
  const { page, source, businessId } = options.found;
  const pageTokens = withAppSecretProof({ tokens: { accessToken: page.access_token ?? '', tokenType: 'bearer' }, client: options.client });
  const avatarUrl = page.picture?.data?.url;
  return {
    platformAccountId: page.id,
    kind: 'page',
    ...(page.username !== undefined && { username: page.username }),
    ...(page.name !== undefined && { displayName: page.name }),
    ...(avatarUrl !== undefined && { avatarUrl }),
    profileUrl: `https://www.facebook.com/${encodeURIComponent(page.username ?? page.id)}`,
    data: { pageId: page.id, source, ...(page.tasks !== undefined && { tasks: page.tasks }), ...(businessId !== undefined && { businessId }) },
    // Page tokens from a long-lived user token do not expire; they die with the user's role or the app.
    tokens: pageTokens,
  };
}

/** Why a login yields no Page: a permission unticked in the dialog, no Page at all, or none the user may post to. */
async function emptyReason(options: { context: FacebookContext; auth: UserAuth; foundAny: boolean }): Promise<LetmepostError> {
  const { context, auth } = options;
  const permissions = await listGraphEdge({
    http: context.graph,
    path: 'me/permissions',
    accessToken: auth.accessToken,
    ...(auth.appSecretProof !== undefined && { appSecretProof: auth.appSecretProof }),
    ...(auth.signal !== undefined && { signal: auth.signal }),
    item: facebookPermissionSchema(),
  });
  const granted = new Set(permissions.filter((entry) => entry.status === 'granted').map((entry) => entry.permission));
  const missing = PAGE_LISTING_PERMISSIONS.filter((permission) => !granted.has(permission));
  if (missing.length > 0) {
    return new LetmepostError({
      code: 'permission_denied',
      rule: 'facebook.accounts.permission_not_granted',
      message: `The Facebook login did not grant ${missing.join(', ')}, so no Page can be listed.`,
      platform: 'facebook',
      remediation: 'Connect again and keep every permission ticked in the Facebook dialog (Edit access → select the Pages).',
    });
  }
  if (options.foundAny) {
    return new LetmepostError({
      code: 'permission_denied',
      rule: 'facebook.accounts.no_publishable_page',
      message: 'The Facebook user has Pages, but no role on any of them that allows creating content.',
      platform: 'facebook',
      remediation: 'Ask a Page admin for a role with "Create content", then connect again.',
    });
  }
  return new LetmepostError({
    code: 'not_found',
    rule: 'facebook.accounts.no_page',
    message: 'The Facebook user manages no Page (directly or through a Business Portfolio); only Pages can be published to.',
    platform: 'facebook',
    remediation: 'Create a Facebook Page (or get a role on one), then connect again and select it in the dialog.',
  });
}

/**
 * Every Page one login gives access to, each an account with its own Page token: the user's
 * Pages (`/me/accounts`), then those of their Business Portfolios, without duplicates. An empty
 * result is an error naming why.
 */
export async function listFacebookAccounts(options: { context: FacebookContext; tokens: TokenSet; client: ClientCredentials; signal?: AbortSignal }): Promise<ProviderAccount[]> {
  const { context, tokens, client } = options;
  const proof = tokens.secrets?.[APPSECRET_PROOF_SECRET];
  const auth: UserAuth = { accessToken: tokens.accessToken, ...(proof !== undefined && { appSecretProof: proof }), ...(options.signal !== undefined && { signal: options.signal }) };
  const own = (await edge({ context, auth, path: 'me/accounts', fields: PAGE_FIELDS })).map((page) => ({ page, source: 'user' as const }));
  const all: FoundPage[] = [...own, ...(await businessPages({ context, auth }))];
  const seen = new Set<string>();
  const accounts: ProviderAccount[] = [];
  for (const found of all) {
    if (seen.has(found.page.id) || !canPublish(found.page)) continue;
    seen.add(found.page.id);
    accounts.push(toAccount({ found, client }));
  }
  if (accounts.length === 0) throw await emptyReason({ context, auth, foundAny: all.length > 0 });
  return accounts;
}
