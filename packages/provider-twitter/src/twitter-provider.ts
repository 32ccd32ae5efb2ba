import { LetmepostError, systemClock, type ClientCredentials, type ProviderCapabilities, type ProviderV1 } from '@letmepost/core';
import { createHttpClient, createSafeFetcher, type BaseProviderSettings, type SafeFetcher } from '@letmepost/provider-utils';
import { z } from 'zod';
import type { TwitterPublishOptions } from './convert-to-twitter-post.js';
import type { TwitterContext } from './twitter-context.js';
import { twitterAccountDataSchema, twitterCredentialsSchema, type TwitterCredentials } from './twitter-credentials.js';
import { mapTwitterError } from './twitter-error.js';
import {
  TWITTER_EXTENDED_SCOPES,
  TWITTER_WRITE_SCOPES,
  connectTwitterWithCredentials,
  createTwitterOAuth,
  listTwitterAccounts,
} from './twitter-oauth.js';
import { checkTwitterStatus, deleteTwitterPost, finalizeTwitterPost, publishTwitterPost } from './twitter-publish.js';
import { TWITTER_LIMITS, twitterOptionsSchema, validateTwitterPost } from './twitter-validate.js';

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

export type TwitterProvider = ProviderV1<TwitterCredentials, TwitterPublishOptions>;

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

/**
 * Creates the X (Twitter) provider: OAuth 2.0 with PKCE for connected accounts, OAuth 1.0a user
 * keys per request, posts with up to four images or one video/GIF, threads as reply chains.
 * Stateless and side-effect free: it reads no environment variable.
 */
export function createTwitter(settings: TwitterProviderSettings = {}): TwitterProvider {
  const clock = settings.clock ?? systemClock;
  const apiBaseUrl = parseUrlSetting({ name: 'apiBaseUrl', value: settings.apiBaseUrl ?? DEFAULT_API_BASE_URL }).replace(/\/+$/, '');
  const authorizeUrl = parseUrlSetting({ name: 'oauthAuthorizeUrl', value: settings.oauthAuthorizeUrl ?? DEFAULT_AUTHORIZE_URL });
  const defaultClient: ClientCredentials | undefined =
    settings.clientId === undefined
      ? undefined
      : { clientId: settings.clientId, clientSecret: settings.clientSecret };

  const http = createHttpClient({
    platform: 'twitter',
    clock,
    dispatcher: settings.dispatcher,
    timeouts: settings.http?.timeouts,
    retry: settings.http?.retry,
    maxResponseBytes: settings.http?.maxResponseBytes,
    userAgent: settings.http?.userAgent,
    mapError: (response) => mapTwitterError({ response, now: clock.now() }),
  });
  // Built on first use: a provider that only validates or signs in never opens a media pool.
  let safeFetcher: SafeFetcher | undefined;
  const mediaFetcher: SafeFetcher = settings.mediaFetcher ?? {
    fetch: (options) =>
      (safeFetcher ??= createSafeFetcher({ platform: 'twitter', allowPrivateNetwork: settings.allowPrivateNetwork })).fetch(options),
  };
  const maxVideoBytes = settings.maxVideoBytes ?? TWITTER_LIMITS.maxVideoBytes;
  if (!Number.isSafeInteger(maxVideoBytes) || maxVideoBytes <= 0) {
    throw new LetmepostError({ code: 'validation_failed', platform: 'twitter', field: 'maxVideoBytes', message: 'maxVideoBytes must be a positive whole number of bytes' });
  }
  const context: TwitterContext = { http, apiBaseUrl, clock, mediaFetcher, maxVideoBytes };
  const oauth = createTwitterOAuth({
    apiBaseUrl,
    authorizeUrl,
    clock,
    defaultClient,
    dispatcher: settings.dispatcher,
    timeouts: settings.http?.timeouts,
  });

  return {
    specificationVersion: 'v1',
    id: 'twitter',
    displayName: 'X (Twitter)',
    auth: {
      kind: 'oauth2',
      scopes: { write: TWITTER_WRITE_SCOPES, extended: TWITTER_EXTENDED_SCOPES },
      pkce: true,
      refresh: 'rotating',
    },
    credentialSchema: twitterCredentialsSchema,
    accountSchema: twitterAccountDataSchema,
    optionsSchema: twitterOptionsSchema,
    capabilities: twitterCapabilities,
    defaultClient,

    authorizationUrl: (options) => oauth.authorizationUrl(options),
    exchangeCode: (options) => oauth.exchangeCode(options),
    refresh: ({ tokens, client, signal }) =>
      oauth.refresh({ tokens, client, signal }),
    revoke: ({ tokens, client, signal }) =>
      oauth.revoke({ tokens, client, signal }),
    listAccounts: ({ tokens, signal }) => listTwitterAccounts({ context, tokens, signal }),
    connectWithCredentials: ({ credentials, signal }) =>
      connectTwitterWithCredentials({ context, credentials, signal }),

    validate: ({ post, options }) => validateTwitterPost({ post, options, maxVideoBytes }),
    publish: ({ post, auth, options, signal, onProgress }) =>
      publishTwitterPost({
        context,
        post,
        auth,
        options,
        signal,
        onProgress,
      }),
    checkStatus: ({ auth, resume, signal }) =>
      checkTwitterStatus({ context, auth, resume, signal }),
    finalize: ({ auth, resume, signal }) =>
      finalizeTwitterPost({ context, auth, resume, signal }),
    deletePost: ({ auth, postId, signal }) =>
      deleteTwitterPost({ context, auth, postId, signal }),
  };
}

const urlSettingSchema = z.url({ protocol: /^https?$/ });

function parseUrlSetting(options: { name: string; value: string }): string {
  const result = urlSettingSchema.safeParse(options.value);
  if (result.success) return result.data;
  throw new LetmepostError({
    code: 'validation_failed',
    message: `settings.${options.name} must be an absolute http(s) URL.`,
    platform: 'twitter',
    field: `settings.${options.name}`,
  });
}
