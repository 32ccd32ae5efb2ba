import { systemClock, type ProviderV2 } from '@letmepost/core';
import { createGraphHttpClient, DEFAULT_META_GRAPH_VERSION, graphVersionSettingSchema } from '@letmepost/meta-graph';
import {
  baseProviderSettingsSchema,
  baseUrlSettingSchema,
  createSafeFetcher,
  defineProvider,
  httpClientSettingsOf,
  resolveAppClient,
  type BaseProviderSettings,
  type SafeFetcher,
  defaultClientFromSettings,
} from '@letmepost/provider-utils';
import type { z } from 'zod';
import { listFacebookAccounts } from './facebook-accounts.js';
import type { FacebookContext } from './facebook-context.js';
import { facebookAccountDataSchema, facebookCredentialsSchema, type FacebookCredentials } from './facebook-credentials.js';
import { createFacebookOAuth, exchangeFacebookCode, FACEBOOK_EXTENDED_SCOPES, FACEBOOK_WRITE_SCOPES, revokeFacebookGrant } from './facebook-oauth.js';
import { facebookCapabilities, facebookOptionsSchema, type FacebookOptions } from './facebook-options.js';
import { deleteFacebookPost, publishFacebookPost } from './facebook-publish.js';
import { validateFacebookPost } from './facebook-validate.js';

export interface FacebookProviderSettings extends BaseProviderSettings {
  /** Graph API version, e.g. `v26.0` (`META_GRAPH_VERSION`). Default `v26.0`. */
  graphVersion?: string;
  /** Graph API host (`FACEBOOK_API_BASE`). Default `https://graph.facebook.com`. */
  apiBaseUrl?: string;
  /**
   * Where Page videos are uploaded. Default `https://graph-video.facebook.com`, or `apiBaseUrl`
   * when that is moved (Graph takes uploads on its main host too), so one setting moves both.
   */
  videoBaseUrl?: string;
  /** The Login dialog (`FACEBOOK_OAUTH_AUTHORIZE_URL`). Default `https://www.facebook.com/<graphVersion>/dialog/oauth`. */
  oauthAuthorizeUrl?: string;
}

export type FacebookProvider = ProviderV2<FacebookCredentials, FacebookOptions>;

const facebookSettingsSchema = baseProviderSettingsSchema.extend({
  graphVersion: graphVersionSettingSchema.optional(),
  apiBaseUrl: baseUrlSettingSchema.optional(),
  videoBaseUrl: baseUrlSettingSchema.optional(),
  oauthAuthorizeUrl: baseUrlSettingSchema.optional(),
});

function createFacebookContext({ settings }: { settings: z.output<typeof facebookSettingsSchema> }): FacebookContext {
  const clock = settings.clock ?? systemClock;
  const graphVersion = settings.graphVersion ?? DEFAULT_META_GRAPH_VERSION;
  const graphBaseUrl = settings.apiBaseUrl ?? 'https://graph.facebook.com';
  const graph = createGraphHttpClient({
    platform: 'facebook',
    baseUrl: graphBaseUrl,
    apiVersion: graphVersion,
    // Per-request Page tokens get their proof from the instance's app; stored tokens carry their own.
    ...(settings.clientSecret !== undefined && { appSecret: settings.clientSecret }),
    ...httpClientSettingsOf({ settings }),
    clock,
  });
  const oauth = createFacebookOAuth({
    authorizationEndpoint: settings.oauthAuthorizeUrl ?? `https://www.facebook.com/${graphVersion}/dialog/oauth`,
    graphBaseUrl,
    graphVersion,
    clock,
    ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
    ...(settings.http?.timeouts !== undefined && { timeouts: settings.http.timeouts }),
  });
  let mediaFetcher: SafeFetcher | undefined;
  return {
    graph,
    videoBaseUrl: settings.videoBaseUrl ?? settings.apiBaseUrl ?? 'https://graph-video.facebook.com',
    graphVersion,
    clock,
    oauth,
    defaultClient: defaultClientFromSettings({ settings }),
    mediaFetcher: () =>
      (mediaFetcher ??=
        settings.mediaFetcher ??
        createSafeFetcher({
          ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
          ...(settings.allowPrivateNetwork !== undefined && { allowPrivateNetwork: settings.allowPrivateNetwork }),
        })),
  };
}

/**
 * The Facebook Pages provider: Facebook Login (long-lived user token, swapped server-side), every
 * Page of the login as an account with its own Page token, and publishing as a Page. Stateless;
 * reads no environment variables.
 */
export const createFacebook: (settings?: FacebookProviderSettings) => FacebookProvider = defineProvider({
  id: 'facebook',
  displayName: 'Facebook',
  settingsSchema: facebookSettingsSchema,
  credentialSchema: facebookCredentialsSchema,
  accountSchema: facebookAccountDataSchema,
  optionsSchema: facebookOptionsSchema,
  auth: {
    kind: 'oauth2',
    scopes: { write: FACEBOOK_WRITE_SCOPES, extended: FACEBOOK_EXTENDED_SCOPES },
    pkce: true,
    // No refresh token: the long-lived user token lasts about 60 days, Page tokens do not expire.
    refresh: 'none',
  },
  capabilities: facebookCapabilities,
  createContext: createFacebookContext,
  methods: {
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => exchangeFacebookCode({ context, ...options }),
    revoke: ({ context, tokens, signal }) => revokeFacebookGrant({ graph: context.graph, tokens, ...(signal !== undefined && { signal }) }),
    listAccounts: ({ context, tokens, client, signal }) =>
      listFacebookAccounts({
        context,
        tokens,
        client: resolveAppClient({ platform: 'facebook', client, defaultClient: context.defaultClient }),
        ...(signal !== undefined && { signal }),
      }),
    validate: ({ post, options }) => validateFacebookPost({ post, options }),
    publish: ({ context, post, auth, options, signal }) => publishFacebookPost({ context, post, auth, options, ...(signal !== undefined && { signal }) }),
    deletePost: ({ context, auth, postId, signal }) => deleteFacebookPost({ context, auth, postId, ...(signal !== undefined && { signal }) }),
  },
});
