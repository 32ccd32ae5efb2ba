import {
  LetmepostError,
  systemClock,
  type ProviderCapabilities,
  type ProviderV1,
  type PublishAuth,
  type TokenSet,
} from '@letmepost/core';
import { abortableSleep, createHttpClient, createSafeFetcher, type BaseProviderSettings } from '@letmepost/provider-utils';
import { z } from 'zod';
import { profileResponseSchema } from './bluesky-api.js';
import type { BlueskyContext, VideoProcessingSettings } from './bluesky-context.js';
import {
  blueskyAccountDataSchema,
  blueskyCredentialsSchema,
  serviceUrlSchema,
  type BlueskyCredentials,
} from './bluesky-credentials.js';
import { mapBlueskyError } from './bluesky-error.js';
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

export type BlueskyProvider = ProviderV1<BlueskyCredentials, BlueskyOptions>;

const urlSetting = (name: string, value: string | undefined, fallback: string): string => {
  const parsed = serviceUrlSchema.safeParse(value ?? fallback);
  if (!parsed.success) {
    throw new LetmepostError({
      code: 'validation_failed',
      platform: 'bluesky',
      message: `createBluesky: settings.${name} must be an http(s) URL without query or credentials.`,
      field: `settings.${name}`,
    });
  }
  return parsed.data;
};

const capabilities: ProviderCapabilities = {
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

function parseCredentials(credentials: unknown): BlueskyCredentials {
  const parsed = blueskyCredentialsSchema.safeParse(credentials);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: issue.path.join('.'), message: `${issue.path.join('.') || 'credentials'} ${issue.message}` }));
  throw new LetmepostError({
    code: 'validation_failed',
    platform: 'bluesky',
    message: `Invalid Bluesky credentials: ${issues.map((issue) => issue.message).join('; ')}.`,
    field: issues[0]?.field,
    issues,
  });
}

/** Per-request credentials arrive unchecked from the caller; stored accounts were checked at connect. */
function checkAuth(auth: PublishAuth<BlueskyCredentials>): PublishAuth<BlueskyCredentials> {
  return auth.type === 'credentials' ? { type: 'credentials', credentials: parseCredentials(auth.credentials) } : auth;
}

function parseOptions(options: unknown): BlueskyOptions {
  const parsed = blueskyOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: `options.${issue.path.join('.')}`, message: issue.message }));
  throw new LetmepostError({
    code: 'validation_failed',
    platform: 'bluesky',
    message: `Invalid Bluesky options: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}.`,
    field: issues[0]?.field,
    issues,
  });
}

/**
 * Bluesky (AT Protocol) provider: app-password sessions on the account's own PDS, rich-text
 * facets, images, link cards, video through the video service, threads, replies and deletes.
 */
export function createBluesky(settings: BlueskyProviderSettings = {}): BlueskyProvider {
  const clock = settings.clock ?? systemClock;
  const allowPrivateNetwork = settings.allowPrivateNetwork ?? false;
  const http = createHttpClient({
    platform: 'bluesky',
    dispatcher: settings.dispatcher,
    // Logins and writes go to the PDS that the account's DID document names, which its owner
    // controls: a name there could resolve to an internal address.
    refusePrivateAddresses: !allowPrivateNetwork,
    clock,
    timeouts: settings.http?.timeouts,
    retry: settings.http?.retry,
    maxResponseBytes: settings.http?.maxResponseBytes,
    userAgent: settings.http?.userAgent,
    mapError: (response) => mapBlueskyError({ response, clock }),
  });
  const fetcher =
    settings.mediaFetcher ?? createSafeFetcher({ dispatcher: settings.dispatcher, allowPrivateNetwork, platform: 'bluesky' });
  const serviceUrl = urlSetting('serviceUrl', settings.serviceUrl ?? settings.apiBaseUrl, 'https://bsky.social');
  const videoServiceUrl = urlSetting('videoServiceUrl', settings.videoServiceUrl, 'https://video.bsky.app');
  const identity = createIdentityResolver({
    http,
    fetcher,
    plcDirectoryUrl: urlSetting('plcDirectoryUrl', settings.plcDirectoryUrl, 'https://plc.directory'),
    fallbackServiceUrl: serviceUrl,
    resolveTxt: settings.resolveTxt,
    allowPrivateNetwork,
  });
  const cacheSetting = settings.sessionCache ?? true;
  const context: BlueskyContext = {
    http,
    fetcher,
    identity,
    clock,
    sessionCache: cacheSetting === false ? undefined : new SessionCache(cacheSetting === true ? {} : cacheSetting),
    videoServiceUrl,
    videoServiceDid: settings.videoServiceDid ?? didWebOf(videoServiceUrl),
    appViewUrl: urlSetting('appViewUrl', settings.appViewUrl, 'https://public.api.bsky.app'),
    video: {
      pollIntervalMs: settings.videoProcessing?.pollIntervalMs ?? 2000,
      maxWaitMs: settings.videoProcessing?.maxWaitMs ?? 45_000,
      sleep: settings.videoProcessing?.sleep ?? abortableSleep,
    },
    blobLimits: new Map(),
  };

  /** Display name and avatar for the connected account; cosmetic, so failures are ignored. */
  async function profileOf(session: BlueskySession, signal: AbortSignal | undefined) {
    try {
      const { value } = await http.json({
        method: 'GET',
        url: `${session.pdsUrl}/xrpc/app.bsky.actor.getProfile`,
        query: { actor: session.did },
        auth: { bearer: session.accessJwt },
        schema: profileResponseSchema,
        retry: 'safe',
        signal,
      });
      return value;
    } catch {
      return undefined;
    }
  }

  return {
    specificationVersion: 'v1',
    id: 'bluesky',
    displayName: 'Bluesky',
    auth: { kind: 'credentials' },
    credentialSchema: blueskyCredentialsSchema as unknown as z.ZodType<BlueskyCredentials>,
    accountSchema: blueskyAccountDataSchema,
    optionsSchema: blueskyOptionsSchema as unknown as z.ZodType<BlueskyOptions>,
    capabilities,

    async connectWithCredentials({ credentials, signal }) {
      const parsed = parseCredentials(credentials);
      const session = await loginWithAppPassword({ http, identity, credentials: parsed, signal });
      const profile = await profileOf(session, signal);
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
        tokens: tokenSetFromSession({ session, appPassword: parsed.appPassword }),
        // The session lives on this PDS for this DID; refreshing it later needs both.
        grantData: { pdsUrl: session.pdsUrl, did: session.did },
      };
    },

    refresh({ tokens, grantData, signal }): Promise<TokenSet> {
      return refreshAccountTokens({ http, tokens, grantData, signal });
    },

    validate({ post, options }) {
      const parsed = blueskyOptionsSchema.safeParse(options ?? {});
      const optionIssues = parsed.success
        ? []
        : parsed.error.issues.map((issue) => ({
            rule: 'bluesky.options.invalid',
            field: `options.${issue.path.join('.')}`,
            message: issue.message,
          }));
      return [...validateBlueskyPost({ post, options: parsed.success ? parsed.data : {} }), ...optionIssues];
    },

    async publish({ post, auth, options, signal, onProgress }) {
      return publishPost({ context, post, auth: checkAuth(auth), options: parseOptions(options), signal, onProgress });
    },

    async checkStatus({ auth, resume, signal }) {
      return checkPublishStatus({ context, auth: checkAuth(auth), resume, signal });
    },

    async finalize({ auth, resume, signal }) {
      return finalizePublish({ context, auth: checkAuth(auth), resume, signal });
    },

    async deletePost({ auth, postId, signal }) {
      return deletePost({ context, auth: checkAuth(auth), postId, signal });
    },
  };
}
