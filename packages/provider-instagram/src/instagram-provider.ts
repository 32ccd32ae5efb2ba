import { systemClock, type ProviderV2, type TokenSet } from '@letmepost/core';
import { containerWaitSettingsSchema, createGraphHttpClient, resolveContainerWait, DEFAULT_META_GRAPH_VERSION, graphVersionSettingSchema, type ContainerWaitSettings } from '@letmepost/meta-graph';
import { baseProviderSettingsSchema, baseUrlSettingSchema, defineProvider, httpClientSettingsOf, type BaseProviderSettings, defaultClientFromSettings } from '@letmepost/provider-utils';
import { z } from 'zod';
import { listInstagramAccounts } from './instagram-accounts.js';
import type { InstagramContext } from './instagram-context.js';
import { instagramAccountDataSchema, instagramCredentialsSchema, type InstagramCredentials } from './instagram-credentials.js';
import { INSTAGRAM_ERROR_RULES } from './instagram-error.js';
import { createInstagramOAuth, INSTAGRAM_EXTENDED_SCOPES, INSTAGRAM_WRITE_SCOPES } from './instagram-oauth.js';
import { instagramCapabilities, instagramOptionsSchema, type InstagramOptions } from './instagram-options.js';
import { checkInstagramStatus, finalizeInstagramPost, publishInstagramPost } from './instagram-publish.js';
import { validateInstagramPost } from './instagram-validate.js';

export interface InstagramProviderSettings extends BaseProviderSettings {
  /** Moves every host (Graph, consent page, token endpoint) to one base, e.g. the sandbox's `/instagram`. */
  apiBaseUrl?: string;
  /** `INSTAGRAM_GRAPH_BASE`. Default `https://graph.instagram.com`. */
  graphBase?: string;
  /** `META_GRAPH_VERSION`. Default `v26.0`. */
  graphVersion?: string;
  /** `INSTAGRAM_OAUTH_AUTHORIZE_URL`. Default `https://www.instagram.com/oauth/authorize`. */
  oauthAuthorizeUrl?: string;
  /** `INSTAGRAM_OAUTH_TOKEN_URL`. Default `https://api.instagram.com/oauth/access_token`. */
  oauthTokenUrl?: string;
  /**
   * How long `publish` waits for a container to be `FINISHED` before it answers `pending`
   * (default: a look every 3 s for up to 30 s; images are usually ready at once), and when to
   * resume a pending one (default 30 s).
   */
  containerWait?: ContainerWaitSettings;
  /** Resolves media hosts for the "is this URL public" check (default: the system resolver). */
  lookupHost?: (options: { hostname: string }) => Promise<string[]>;
}

export type InstagramProvider = ProviderV2<InstagramCredentials, InstagramOptions>;

const instagramSettingsSchema = baseProviderSettingsSchema.extend({
  apiBaseUrl: baseUrlSettingSchema.optional(),
  graphBase: baseUrlSettingSchema.optional(),
  graphVersion: graphVersionSettingSchema.optional(),
  oauthAuthorizeUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  oauthTokenUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  containerWait: containerWaitSettingsSchema.optional(),
  lookupHost: z.custom<(options: { hostname: string }) => Promise<string[]>>((value) => typeof value === 'function', 'must be a function').optional(),
});

/** Token lifetime Instagram gives a long-lived token (and each refresh). */
const LONG_LIVED_LIFETIME_MS = 60 * 24 * 60 * 60 * 1000;
/** Instagram refuses to refresh a token younger than a day. */
const MINIMUM_REFRESH_AGE_MS = 24 * 60 * 60 * 1000;

async function systemLookup({ hostname }: { hostname: string }): Promise<string[]> {
  // Reached here, not imported: an ES module import of `node:dns` costs every cold start.
  const addresses = await process.getBuiltinModule('node:dns').promises.lookup(hostname, { all: true });
  return addresses.map((entry) => entry.address);
}

function createInstagramContext({ settings }: { settings: z.output<typeof instagramSettingsSchema> }): InstagramContext {
  const clock = settings.clock ?? systemClock;
  const graphBase = settings.graphBase ?? settings.apiBaseUrl ?? 'https://graph.instagram.com';
  const graph = createGraphHttpClient({
    platform: 'instagram',
    baseUrl: graphBase,
    apiVersion: settings.graphVersion ?? DEFAULT_META_GRAPH_VERSION,
    // No appsecret_proof: Instagram Login tokens belong to the Instagram app (its own id and
    // secret), and a workspace's own app would need its own secret at every publish.
    errorRules: INSTAGRAM_ERROR_RULES,
    ...httpClientSettingsOf({ settings }),
  });
  const oauth = createInstagramOAuth({
    endpoints: {
      authorizationEndpoint: settings.oauthAuthorizeUrl ?? (settings.apiBaseUrl === undefined ? 'https://www.instagram.com/oauth/authorize' : `${settings.apiBaseUrl}/oauth/authorize`),
      tokenEndpoint: settings.oauthTokenUrl ?? (settings.apiBaseUrl === undefined ? 'https://api.instagram.com/oauth/access_token' : `${settings.apiBaseUrl}/oauth/access_token`),
    },
    graph,
    clock,
    ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
    ...(settings.http?.timeouts !== undefined && { timeouts: settings.http.timeouts }),
  });
  const defaultClient = defaultClientFromSettings({ settings });
  return {
    graph,
    clock,
    oauth,
    defaultClient,
    containerWait: resolveContainerWait({ settings: settings.containerWait, checkAfterMs: 30_000 }),
    lookupHost: settings.lookupHost ?? systemLookup,
    allowPrivateMediaUrls: settings.allowPrivateNetwork === true,
  };
}

/** A token refreshed or swapped less than a day ago cannot be refreshed yet; it has ~60 days left. */
function isTooYoungToRefresh(options: { tokens: TokenSet; now: number }): boolean {
  const { expiresAt } = options.tokens;
  return expiresAt !== undefined && expiresAt - options.now > LONG_LIVED_LIFETIME_MS - MINIMUM_REFRESH_AGE_MS;
}

/**
 * Instagram through the Instagram API with Instagram Login (`graph.instagram.com`; professional
 * accounts, no Facebook Page needed). Stateless; reads no environment variables.
 */
export const createInstagram: (settings?: InstagramProviderSettings) => InstagramProvider = defineProvider({
  id: 'instagram',
  displayName: 'Instagram',
  settingsSchema: instagramSettingsSchema,
  credentialSchema: instagramCredentialsSchema,
  accountSchema: instagramAccountDataSchema,
  optionsSchema: instagramOptionsSchema,
  auth: {
    kind: 'oauth2',
    scopes: { write: INSTAGRAM_WRITE_SCOPES, extended: INSTAGRAM_EXTENDED_SCOPES },
    // Instagram Login documents no PKCE; the challenge core sends is ignored by Instagram.
    pkce: false,
    // No refresh token: the long-lived access token itself is refreshed.
    refresh: 'none',
  },
  capabilities: instagramCapabilities,
  createContext: createInstagramContext,
  methods: {
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => context.oauth.exchangeCode(options),
    refresh: async ({ context, tokens, signal }) => {
      if (isTooYoungToRefresh({ tokens, now: context.clock.now() })) return tokens;
      return context.oauth.refresh({ tokens, ...(signal !== undefined && { signal }) });
    },
    listAccounts: ({ context, tokens, signal }) => listInstagramAccounts({ context, tokens, ...(signal !== undefined && { signal }) }),
    validate: ({ context, post, options }) => validateInstagramPost({ post, options, allowPrivateMediaUrls: context.allowPrivateMediaUrls }),
    publish: ({ context, post, auth, options, signal }) => publishInstagramPost({ context, post, auth, options, ...(signal !== undefined && { signal }) }),
    checkStatus: ({ context, auth, resume, signal }) => checkInstagramStatus({ context, auth, resume, ...(signal !== undefined && { signal }) }),
    finalize: ({ context, auth, resume, signal }) => finalizeInstagramPost({ context, auth, resume, ...(signal !== undefined && { signal }) }),
  },
});
