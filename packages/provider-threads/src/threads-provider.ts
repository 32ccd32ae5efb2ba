import { systemClock, type ProviderV2 } from '@letmepost/core';
import { containerWaitSettingsSchema, createGraphHttpClient, resolveContainerWait, graphVersionSettingSchema, type ContainerWaitSettings } from '@letmepost/meta-graph';
import {
  baseProviderSettingsSchema,
  baseUrlSettingSchema,
  defineProvider,
  httpClientSettingsOf,
  resolveAppClient,
  type BaseProviderSettings,
  defaultClientFromSettings,
} from '@letmepost/provider-utils';
import { z } from 'zod';
import type { ThreadsContext } from './threads-context.js';
import { THREADS_ERROR_RULES } from './threads-error.js';
import { threadsAccountDataSchema, threadsCredentialsSchema, type ThreadsCredentials } from './threads-credentials.js';
import { createThreadsOAuth, THREADS_EXTENDED_SCOPES, THREADS_WRITE_SCOPES } from './threads-oauth.js';
import { threadsCapabilities, threadsOptionsSchema, type ThreadsOptions } from './threads-options.js';
import { checkThreadsStatus, deleteThreadsPost, finalizeThreadsPublish, listThreadsAccounts, publishThreadsPost } from './threads-publish.js';
import { validateThreadsPost } from './threads-validate.js';

export const THREADS_DEFAULT_API_BASE_URL = 'https://graph.threads.net';
export const THREADS_DEFAULT_API_VERSION = 'v1.0';
export const THREADS_DEFAULT_AUTHORIZE_URL = 'https://threads.net/oauth/authorize';

export interface ThreadsProviderSettings extends BaseProviderSettings {
  /** Threads App ID and Threads App Secret (`THREADS_CLIENT_ID` / `THREADS_CLIENT_SECRET`), not the Meta app id. */
  clientId?: string;
  clientSecret?: string;
  /** API and token host. Default `https://graph.threads.net` (`THREADS_API_BASE`). */
  apiBaseUrl?: string;
  /** Path version. Default `v1.0`, the only one Threads serves (`THREADS_API_VERSION`). */
  apiVersion?: string;
  /** Consent page. Default `https://threads.net/oauth/authorize` (`THREADS_OAUTH_AUTHORIZE_URL`). */
  oauthAuthorizeUrl?: string;
  /**
   * How long `publish` waits for media containers before answering `pending` (default: a look
   * every 3 s for up to 30 s, the wait Threads suggests for a video), and when to resume a pending
   * one (default 60 s; Threads suggests a look a minute, for up to 5 minutes).
   */
  containerWait?: ContainerWaitSettings;
}

export type ThreadsProvider = ProviderV2<ThreadsCredentials, ThreadsOptions>;

const threadsSettingsSchema = baseProviderSettingsSchema.extend({
  apiBaseUrl: baseUrlSettingSchema.optional(),
  apiVersion: graphVersionSettingSchema.optional(),
  oauthAuthorizeUrl: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  containerWait: containerWaitSettingsSchema.optional(),
});

function createThreadsContext({ settings }: { settings: z.output<typeof threadsSettingsSchema> }): ThreadsContext {
  const clock = settings.clock ?? systemClock;
  const baseUrl = settings.apiBaseUrl ?? THREADS_DEFAULT_API_BASE_URL;
  const apiVersion = settings.apiVersion ?? THREADS_DEFAULT_API_VERSION;
  // No appsecret_proof: Threads documents none, and its tokens belong to the Threads app.
  const graph = createGraphHttpClient({ platform: 'threads', baseUrl, apiVersion, errorRules: THREADS_ERROR_RULES, ...httpClientSettingsOf({ settings }) });
  const oauth = createThreadsOAuth({
    authorizationEndpoint: settings.oauthAuthorizeUrl ?? THREADS_DEFAULT_AUTHORIZE_URL,
    apiBaseUrl: baseUrl,
    http: graph,
    clock,
    ...(settings.dispatcher !== undefined && { dispatcher: settings.dispatcher }),
    ...(settings.http?.timeouts !== undefined && { timeouts: settings.http.timeouts }),
  });
  const defaultClient = defaultClientFromSettings({ settings });
  return {
    graph,
    baseUrl,
    clock,
    oauth,
    defaultClient,
    containerWait: resolveContainerWait({ settings: settings.containerWait, checkAfterMs: 60_000 }),
  };
}

/**
 * The Threads provider: Threads Login with long-lived (60-day) tokens refreshed in place, and
 * text, link, image, video and carousel posts, replies, threads and first comments published
 * through media containers. Stateless; reads no environment variables.
 */
export const createThreads: (settings?: ThreadsProviderSettings) => ThreadsProvider = defineProvider({
  id: 'threads',
  displayName: 'Threads',
  settingsSchema: threadsSettingsSchema,
  credentialSchema: threadsCredentialsSchema,
  accountSchema: threadsAccountDataSchema,
  optionsSchema: threadsOptionsSchema,
  auth: {
    kind: 'oauth2',
    scopes: { write: THREADS_WRITE_SCOPES, extended: THREADS_EXTENDED_SCOPES },
    // Threads documents no PKCE; the challenge core sends is ignored there.
    pkce: false,
    // No refresh token: the long-lived access token renews itself.
    refresh: 'none',
  },
  capabilities: threadsCapabilities,
  createContext: createThreadsContext,
  methods: {
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => context.oauth.exchangeCode(options),
    refresh: ({ context, tokens, client, signal }) =>
      context.oauth.refresh({ tokens, client: resolveAppClient({ platform: 'threads', client, defaultClient: context.defaultClient }), ...(signal !== undefined && { signal }) }),
    listAccounts: ({ context, tokens, signal }) => listThreadsAccounts({ context, tokens, ...(signal !== undefined && { signal }) }),
    validate: ({ post, options }) => validateThreadsPost({ post, options }),
    publish: ({ context, post, auth, options, signal }) => publishThreadsPost({ context, post, auth, options, ...(signal !== undefined && { signal }) }),
    checkStatus: ({ context, auth, resume, signal }) => checkThreadsStatus({ context, auth, resume, ...(signal !== undefined && { signal }) }),
    finalize: ({ context, auth, resume, signal }) => finalizeThreadsPublish({ context, auth, resume, ...(signal !== undefined && { signal }) }),
    deletePost: ({ context, auth, postId, signal }) => deleteThreadsPost({ context, auth, postId, ...(signal !== undefined && { signal }) }),
  },
});
