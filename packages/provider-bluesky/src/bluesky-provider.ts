import { systemClock, type ProviderCapabilities, type ProviderV2, type TokenSet } from '@letmepost/core';
import {
  abortableSleep,
  baseProviderSettingsSchema,
  createHttpClient,
  createSafeFetcher,
  defineProvider,
  httpClientSettingsOf,
  type BaseProviderSettings,
} from '@letmepost/provider-utils';
import { z } from 'zod';
import { profileResponseSchema } from './bluesky-api.js';
import type { BlueskyContext, VideoProcessingSettings } from './bluesky-context.js';
import {
  blueskyAccountDataSchema,
  blueskyCredentialsSchema,
  serviceUrlSchema,
  type BlueskyCredentials,
} from './bluesky-credentials.js';
import { createBlueskyErrorMapper } from './bluesky-error.js';
import { createIdentityResolver, type ResolveTxt } from './bluesky-identity.js';
import { didWebOf } from './bluesky-media-upload.js';
import { blueskyOptionsSchema, type BlueskyOptions } from './bluesky-options.js';
import { checkPublishStatus, deletePost, finalizePublish, publishPost } from './bluesky-publish.js';
import {
  SessionCache,
  loginWithAppPassword,
  refreshAccountTokens,
  tokenSetFromSession,
  type BlueskySession,
  type SessionCacheSettings,
} from './bluesky-session.js';
import { BLUESKY_IMAGE_MIME_TYPES, BLUESKY_LIMITS, BLUESKY_VIDEO_MIME_TYPES, validateBlueskyPost } from './bluesky-validate.js';

export interface BlueskyProviderSettings extends Omit<BaseProviderSettings, 'clientId' | 'clientSecret'> {
  /**
   * Entryway used to resolve handles when neither DNS nor HTTPS does. Default `https://bsky.social`.
   * Logins and writes always go to the account's own PDS, found from its DID document.
   */
  serviceUrl?: string;
  /**
   * The generic base-URL setting every provider takes (what `loadConfigFromEnv` fills from
   * `BLUESKY_API_BASE`); for Bluesky it is the service URL. `serviceUrl` wins when both are set.
   */
  apiBaseUrl?: string;
  /** Where `did:plc` documents are read. Default `https://plc.directory`. */
  plcDirectoryUrl?: string;
  /** The video service. Default `https://video.bsky.app`. */
  videoServiceUrl?: string;
  /** `did:web` of the video service (audience of its tokens). Default: derived from `videoServiceUrl`. */
  videoServiceDid?: string;
  /** AppView for reading other accounts' posts (replies). Default `https://public.api.bsky.app`. */
  appViewUrl?: string;
  /** DNS TXT resolver for `_atproto.<handle>`; default `node:dns/promises` `resolveTxt`. */
  resolveTxt?: ResolveTxt;
  /**
   * In-memory session cache for pass-per-request credentials (default on). Bluesky allows 30
   * logins per 5 minutes per account, so without it busy accounts get rate-limited; `false`
   * logs in on every publish.
   */
  sessionCache?: boolean | SessionCacheSettings;
  /** How long `publish` waits for video processing before answering `pending`. */
  videoProcessing?: Partial<VideoProcessingSettings>;
}

export type BlueskyProvider = ProviderV2<BlueskyCredentials, BlueskyOptions>;

const isFunction = (value: unknown): boolean => typeof value === 'function';

const blueskySettingsSchema = baseProviderSettingsSchema.omit({ clientId: true, clientSecret: true }).extend({
  serviceUrl: serviceUrlSchema.optional(),
  apiBaseUrl: serviceUrlSchema.optional(),
  plcDirectoryUrl: serviceUrlSchema.optional(),
  videoServiceUrl: serviceUrlSchema.optional(),
  videoServiceDid: z.string().min(1).optional(),
  appViewUrl: serviceUrlSchema.optional(),
  resolveTxt: z.custom<ResolveTxt>(isFunction, 'must be a function').optional(),
  sessionCache: z.union([z.boolean(), z.object({ maxEntries: z.number().int().positive().optional() })]).optional(),
  videoProcessing: z
    .object({
      pollIntervalMs: z.number().int().nonnegative().optional(),
      maxWaitMs: z.number().int().nonnegative().optional(),
      sleep: z.custom<VideoProcessingSettings['sleep']>(isFunction, 'must be a function').optional(),
    })
    .optional(),
});

type BlueskyParsedSettings = z.output<typeof blueskySettingsSchema>;

export const blueskyCapabilities: ProviderCapabilities = {
  text: { maxLength: BLUESKY_LIMITS.textGraphemes, unit: 'graphemes', required: false },
  media: {
    maxItems: BLUESKY_LIMITS.images,
    maxImages: BLUESKY_LIMITS.images,
    maxVideos: BLUESKY_LIMITS.videos,
    imageMimeTypes: BLUESKY_IMAGE_MIME_TYPES,
    videoMimeTypes: BLUESKY_VIDEO_MIME_TYPES,
    maxImageBytes: BLUESKY_LIMITS.imageBytes,
    maxVideoBytes: BLUESKY_LIMITS.videoBytes,
    mixedImagesAndVideo: false,
    altText: true,
    ingest: 'push',
  },
  thread: true,
  replyTo: true,
  firstComment: true,
  link: 'card',
  deletePost: true,
  pending: true,
};

function createBlueskyContext({ settings }: { settings: BlueskyParsedSettings }): BlueskyContext {
  const clock = settings.clock ?? systemClock;
  const allowPrivateNetwork = settings.allowPrivateNetwork ?? false;
  const http = createHttpClient({
    platform: 'bluesky',
    ...httpClientSettingsOf({ settings }),
    // Logins and writes go to the PDS that the account's DID document names, which its owner
    // controls: a name there could resolve to an internal address.
    refusePrivateAddresses: !allowPrivateNetwork,
    mapError: createBlueskyErrorMapper({ clock }),
  });
  const fetcher =
    settings.mediaFetcher ?? createSafeFetcher({ dispatcher: settings.dispatcher, allowPrivateNetwork, platform: 'bluesky' });
  const serviceUrl = settings.serviceUrl ?? settings.apiBaseUrl ?? 'https://bsky.social';
  const videoServiceUrl = settings.videoServiceUrl ?? 'https://video.bsky.app';
  const identity = createIdentityResolver({
    http,
    fetcher,
    plcDirectoryUrl: settings.plcDirectoryUrl ?? 'https://plc.directory',
    fallbackServiceUrl: serviceUrl,
    resolveTxt: settings.resolveTxt,
    allowPrivateNetwork,
  });
  const cacheSetting = settings.sessionCache ?? true;
  return {
    http,
    fetcher,
    identity,
    clock,
    sessionCache: cacheSetting === false ? undefined : new SessionCache(cacheSetting === true ? {} : cacheSetting),
    videoServiceUrl,
    videoServiceDid: settings.videoServiceDid ?? didWebOf(videoServiceUrl),
    appViewUrl: settings.appViewUrl ?? 'https://public.api.bsky.app',
    video: {
      pollIntervalMs: settings.videoProcessing?.pollIntervalMs ?? 2000,
      maxWaitMs: settings.videoProcessing?.maxWaitMs ?? 45_000,
      sleep: settings.videoProcessing?.sleep ?? abortableSleep,
    },
    blobLimits: new Map(),
  };
}

/** Display name and avatar for the connected account; cosmetic, so failures are ignored. */
async function profileOf(options: { context: BlueskyContext; session: BlueskySession; signal: AbortSignal | undefined }) {
  const { context, session, signal } = options;
  try {
    const { value } = await context.http.json({
      method: 'GET',
      url: `${session.pdsUrl}/xrpc/app.bsky.actor.getProfile`,
      query: { actor: session.did },
      auth: { bearer: session.accessJwt },
      schema: profileResponseSchema(),
      retry: 'safe',
      signal,
    });
    return value;
  } catch {
    return undefined;
  }
}

/**
 * Bluesky (AT Protocol) provider: app-password sessions on the account's own PDS, rich-text
 * facets, images, link cards, video through the video service, threads, replies and deletes.
 */
export const createBluesky: (settings?: BlueskyProviderSettings) => BlueskyProvider = defineProvider({
  id: 'bluesky',
  displayName: 'Bluesky',
  settingsSchema: blueskySettingsSchema,
  credentialSchema: blueskyCredentialsSchema as unknown as z.ZodType<BlueskyCredentials>,
  accountSchema: blueskyAccountDataSchema,
  optionsSchema: blueskyOptionsSchema as unknown as z.ZodType<BlueskyOptions>,
  auth: { kind: 'credentials' },
  capabilities: blueskyCapabilities,
  createContext: createBlueskyContext,
  methods: {
    connectWithCredentials: async ({ context, credentials, signal }) => {
      const session = await loginWithAppPassword({ http: context.http, identity: context.identity, credentials, signal });
      const profile = await profileOf({ context, session, signal });
      return {
        account: {
          platformAccountId: session.did,
          kind: 'person',
          username: session.handle,
          ...(profile?.displayName ? { displayName: profile.displayName } : {}),
          ...(profile?.avatar ? { avatarUrl: profile.avatar } : {}),
          profileUrl: `https://bsky.app/profile/${session.did}`,
          data: { pdsUrl: session.pdsUrl, did: session.did, handle: session.handle },
        },
        tokens: tokenSetFromSession({ session, appPassword: credentials.appPassword }),
        // The session lives on this PDS for this DID; refreshing it later needs both.
        grantData: { pdsUrl: session.pdsUrl, did: session.did },
      };
    },
    refresh: ({ context, tokens, grantData, signal }): Promise<TokenSet> => refreshAccountTokens({ http: context.http, tokens, grantData, signal }),
    validate: ({ post, options }) => validateBlueskyPost({ post, options }),
    publish: ({ context, post, auth, options, signal, onProgress }) => publishPost({ context, post, auth, options, signal, onProgress }),
    checkStatus: ({ context, auth, resume, signal }) => checkPublishStatus({ context, auth, resume, signal }),
    finalize: ({ context, auth, resume, signal }) => finalizePublish({ context, auth, resume, signal }),
    deletePost: ({ context, auth, postId, signal }) => deletePost({ context, auth, postId, signal }),
  },
});
