import { postItems, systemClock, type ProviderCapabilities, type ProviderV2 } from '@letmepost/core';
import { deepFreeze } from '@letmepost/core/internal';
import {
  baseProviderSettingsSchema,
  baseUrlSettingSchema,
  createHttpClient,
  createSafeFetcher,
  defineProvider,
  httpClientSettingsOf,
  type BaseProviderSettings,
  type SafeFetcher,
  defaultClientFromSettings,
} from '@letmepost/provider-utils';
import { z } from 'zod';
import type { TwitterPublishOptions } from './convert-to-twitter-post.js';
import type { TwitterContext } from './twitter-context.js';
import { twitterAccountDataSchema, twitterCredentialsSchema, type TwitterCredentials } from './twitter-credentials.js';
import { createTwitterErrorMapper } from './twitter-error.js';
import {
  TWITTER_EXTENDED_SCOPES,
  TWITTER_WRITE_SCOPES,
  connectTwitterWithCredentials,
  createTwitterOAuth,
  listTwitterAccounts,
} from './twitter-oauth.js';
import { checkTwitterStatus, deleteTwitterPost, finalizeTwitterPost, publishTwitterPost } from './twitter-publish.js';
import { TWITTER_LIMITS, twitterMaxWeightedLength, twitterMediaKind, twitterOptionsSchema, validateTwitterPost } from './twitter-validate.js';

export interface TwitterProviderSettings extends BaseProviderSettings {
  /** X API host. Default `https://api.x.com`; point it at the sandbox or X's API Playground. */
  apiBaseUrl?: string;
  /**
   * Largest video accepted, in bytes. Default 512 MiB, X's baseline; X lets Premium accounts post
   * larger videos, so a host that knows its accounts are Premium may raise it (X still enforces
   * each account's own limit).
   */
  maxVideoBytes?: number;
  /**
   * Consent page. Default `https://x.com/i/oauth2/authorize` (`TWITTER_OAUTH_AUTHORIZE_URL`).
   * X's token and revocation endpoints are on the API host, so `apiBaseUrl` moves those.
   */
  oauthAuthorizeUrl?: string;
}

export type TwitterProvider = ProviderV2<TwitterCredentials, TwitterPublishOptions>;

const DEFAULT_API_BASE_URL = 'https://api.x.com';
const DEFAULT_AUTHORIZE_URL = 'https://x.com/i/oauth2/authorize';

export const twitterCapabilities: ProviderCapabilities = {
  text: { maxLength: TWITTER_LIMITS.maxWeightedLength, unit: 'twitter-weighted', required: false },
  media: {
    maxItems: 4,
    maxImages: TWITTER_LIMITS.maxImages,
    maxVideos: 1,
    imageMimeTypes: [...TWITTER_LIMITS.imageMimeTypes, ...TWITTER_LIMITS.gifMimeTypes],
    videoMimeTypes: TWITTER_LIMITS.videoMimeTypes,
    maxImageBytes: TWITTER_LIMITS.maxImageBytes,
    maxVideoBytes: TWITTER_LIMITS.maxVideoBytes,
    mixedImagesAndVideo: false,
    altText: true,
    ingest: 'push',
  },
  thread: true,
  replyTo: true,
  firstComment: true,
  link: 'inline',
  deletePost: true,
  pending: true,
};

const twitterSettingsSchema = baseProviderSettingsSchema.extend({
  apiBaseUrl: baseUrlSettingSchema.optional(),
  oauthAuthorizeUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  maxVideoBytes: z.number().int('must be a whole number of bytes').positive('must be a positive number of bytes').optional(),
});

type TwitterParsedSettings = z.output<typeof twitterSettingsSchema>;

function createTwitterContext({ settings }: { settings: TwitterParsedSettings }): TwitterContext {
  const clock = settings.clock ?? systemClock;
  const apiBaseUrl = settings.apiBaseUrl ?? DEFAULT_API_BASE_URL;
  const http = createHttpClient({ platform: 'twitter', ...httpClientSettingsOf({ settings }), mapError: createTwitterErrorMapper({ clock }) });
  // Built on first use: a provider that only validates or signs in never opens a media pool.
  let safeFetcher: SafeFetcher | undefined;
  const mediaFetcher: SafeFetcher = settings.mediaFetcher ?? {
    fetch: (options) =>
      (safeFetcher ??= createSafeFetcher({ platform: 'twitter', allowPrivateNetwork: settings.allowPrivateNetwork })).fetch(options),
  };
  const oauth = createTwitterOAuth({
    apiBaseUrl,
    authorizeUrl: settings.oauthAuthorizeUrl ?? DEFAULT_AUTHORIZE_URL,
    clock,
    defaultClient: defaultClientFromSettings({ settings }),
    dispatcher: settings.dispatcher,
    timeouts: settings.http?.timeouts,
  });
  return { http, apiBaseUrl, clock, mediaFetcher, maxVideoBytes: settings.maxVideoBytes ?? TWITTER_LIMITS.maxVideoBytes, oauth };
}

/**
 * Each provider instance's capabilities by text limit and GIF or not: a handful of shapes, each
 * made once and frozen (every preflight asks for one).
 */
const capabilitiesByContext = new WeakMap<TwitterContext, Map<string, ProviderCapabilities>>();

function twitterCapabilitiesWith({ context, maxLength, hasGif }: { context: TwitterContext; maxLength: number; hasGif: boolean }): ProviderCapabilities {
  let made = capabilitiesByContext.get(context);
  if (made === undefined) {
    made = new Map();
    capabilitiesByContext.set(context, made);
  }
  const key = `${maxLength}/${hasGif}`;
  let capabilities = made.get(key);
  if (capabilities === undefined) {
    capabilities = deepFreeze({
      ...twitterCapabilities,
      text: { ...twitterCapabilities.text, maxLength },
      media: {
        ...twitterCapabilities.media,
        maxVideoBytes: context.maxVideoBytes,
        maxImageBytes: hasGif ? TWITTER_LIMITS.maxGifBytes : TWITTER_LIMITS.maxImageBytes,
      },
    });
    made.set(key, capabilities);
  }
  return capabilities;
}

/**
 * The X (Twitter) provider: OAuth 2.0 with PKCE for connected accounts, OAuth 1.0a user keys per
 * request, posts with up to four images or one video/GIF, threads as reply chains. Stateless and
 * side-effect free: it reads no environment variable.
 */
export const createTwitter: (settings?: TwitterProviderSettings) => TwitterProvider = defineProvider({
  id: 'twitter',
  displayName: 'X (Twitter)',
  settingsSchema: twitterSettingsSchema,
  credentialSchema: twitterCredentialsSchema,
  accountSchema: twitterAccountDataSchema,
  optionsSchema: twitterOptionsSchema,
  auth: {
    kind: 'oauth2',
    scopes: { write: TWITTER_WRITE_SCOPES, extended: TWITTER_EXTENDED_SCOPES },
    pkce: true,
    refresh: 'rotating',
  },
  capabilities: ({ settings }) =>
    settings.maxVideoBytes === undefined
      ? twitterCapabilities
      : { ...twitterCapabilities, media: { ...twitterCapabilities.media, maxVideoBytes: settings.maxVideoBytes } },
  createContext: createTwitterContext,
  methods: {
    // Premium accounts post longer text; a GIF may be larger than a still image.
    capabilitiesFor: ({ context, account, post }) =>
      twitterCapabilitiesWith({
        context,
        maxLength: twitterMaxWeightedLength(account),
        hasGif: postItems(post).some((item) => (item.media ?? []).some((media) => twitterMediaKind(media.mimeType) === 'gif')),
      }),
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => context.oauth.exchangeCode(options),
    refresh: ({ context, tokens, client, signal }) => context.oauth.refresh({ tokens, client, signal }),
    revoke: ({ context, tokens, client, signal }) => context.oauth.revoke({ tokens, client, signal }),
    listAccounts: ({ context, tokens, signal }) => listTwitterAccounts({ context, tokens, signal }),
    connectWithCredentials: ({ context, credentials, signal }) => connectTwitterWithCredentials({ context, credentials, signal }),
    validate: ({ context, post, options, account }) =>
      validateTwitterPost({ post, options, maxVideoBytes: context.maxVideoBytes, ...(account !== undefined && { account }) }),
    publish: ({ context, post, auth, options, signal, onProgress }) => publishTwitterPost({ context, post, auth, options, signal, onProgress }),
    checkStatus: ({ context, auth, resume, signal }) => checkTwitterStatus({ context, auth, resume, signal }),
    finalize: ({ context, auth, resume, signal }) => finalizeTwitterPost({ context, auth, resume, signal }),
    deletePost: ({ context, auth, postId, signal }) => deleteTwitterPost({ context, auth, postId, signal }),
  },
});
