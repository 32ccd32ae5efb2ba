import { LetmepostError, systemClock, type ClientCredentials, type ProviderV2 } from '@letmepost/core';
import {
  abortableSleep,
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
import { z } from 'zod';
import { listLinkedInAccounts } from './linkedin-accounts.js';
import { createLinkedInHttpClients, type LinkedInClient } from './linkedin-client.js';
import { linkedInAccountDataSchema, linkedInCredentialSchema, type LinkedInCredentials } from './linkedin-credentials.js';
import { createLinkedInOAuth, LINKEDIN_EXTENDED_SCOPES, LINKEDIN_WRITE_SCOPES, noRefreshTokenError, type LinkedInOAuth } from './linkedin-oauth.js';
import { linkedInCapabilities, linkedInPublishOptionsSchema, type LinkedInPublishOptions } from './linkedin-options.js';
import { checkLinkedInStatus, deleteLinkedInPost, finalizeLinkedInPost, publishToLinkedIn } from './linkedin-publish.js';
import { validateLinkedInPost } from './linkedin-validate.js';

/**
 * The `LinkedIn-Version` sent when none is configured. Marketing versions are served for about
 * a year; 202607 (July 2026) is supported until mid-2027. There is no fallback once a version
 * is sunset (every call answers 426), so hosts should be able to move it without a release.
 */
export const LINKEDIN_DEFAULT_API_VERSION = '202607';

export interface LinkedInProviderSettings extends BaseProviderSettings {
  /** REST host; default `https://api.linkedin.com` (`LINKEDIN_API_BASE`). */
  apiBaseUrl?: string;
  /** OAuth host; default `https://www.linkedin.com`. */
  oauthBaseUrl?: string;
  /** `LinkedIn-Version` as `YYYYMM` (or `YYYYMM.NN` patch releases). */
  apiVersion?: string;
  /**
   * How long `publish` waits for LinkedIn to process an uploaded video before answering
   * `pending` (the host finishes it with `letmepost.resume()`, which asks again through
   * `checkStatus`). Default: poll every 3 s for up to 30 s.
   */
  videoProcessing?: { pollIntervalMs?: number; maxWaitMs?: number };
  /** Retries of the identity call while a fresh token propagates. Default 3 attempts, 1 s apart (growing). */
  identityRetry?: { attempts?: number; delayMs?: number };
  /**
   * Replaces the declared scope sets. A Community Management API app must hold no other
   * product, so it has no OpenID Connect: declare e.g.
   * `{ write: ['w_member_social', 'r_basicprofile'], extended: ['w_organization_social', 'r_organization_social', 'rw_organization_admin'] }`
   * and the member is read from `/v2/me` instead of `/v2/userinfo`.
   */
  scopes?: { write?: readonly string[]; extended?: readonly string[] };
}

const scopeNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a single scope name');

const linkedInSettingsSchema = baseProviderSettingsSchema.extend({
  apiBaseUrl: baseUrlSettingSchema.optional(),
  oauthBaseUrl: baseUrlSettingSchema.optional(),
  apiVersion: z
    .string()
    .regex(/^\d{6}(\.\d{2})?$/, 'must be a LinkedIn-Version such as 202607')
    .optional(),
  videoProcessing: z
    .object({
      pollIntervalMs: z.number().int().nonnegative().optional(),
      maxWaitMs: z.number().int().nonnegative().optional(),
    })
    .strict()
    .optional(),
  scopes: z
    .object({
      write: z.array(scopeNameSchema).min(1).readonly().optional(),
      extended: z.array(scopeNameSchema).readonly().optional(),
    })
    .strict()
    .optional(),
  identityRetry: z
    .object({
      attempts: z.number().int().min(1).max(10).optional(),
      delayMs: z.number().int().nonnegative().optional(),
    })
    .strict()
    .optional(),
});

type LinkedInParsedSettings = z.output<typeof linkedInSettingsSchema>;

/** What every LinkedIn method of one provider instance shares. */
interface LinkedInContext {
  client: LinkedInClient;
  oauth: LinkedInOAuth;
  /** The app that refreshes and revokes: the grant's own, else the instance's. */
  appClient(given: ClientCredentials | undefined): ClientCredentials;
}

function createLinkedInContext({ settings }: { settings: LinkedInParsedSettings }): LinkedInContext {
  const clock = settings.clock ?? systemClock;
  const apiVersion = settings.apiVersion ?? LINKEDIN_DEFAULT_API_VERSION;
  const http = settings.http ?? {};
  let mediaFetcher: SafeFetcher | undefined;
  const client: LinkedInClient = {
    apiBaseUrl: settings.apiBaseUrl ?? 'https://api.linkedin.com',
    apiVersion,
    clock,
    ...createLinkedInHttpClients({ ...httpClientSettingsOf({ settings }), clock, apiVersion }),
    mediaFetcher: () =>
      (mediaFetcher ??=
        settings.mediaFetcher ??
        createSafeFetcher({
          platform: 'linkedin',
          ...(settings.allowPrivateNetwork !== undefined ? { allowPrivateNetwork: settings.allowPrivateNetwork } : {}),
        })),
    videoProcessing: {
      pollIntervalMs: settings.videoProcessing?.pollIntervalMs ?? 3000,
      maxWaitMs: settings.videoProcessing?.maxWaitMs ?? 30_000,
    },
    identityRetry: {
      attempts: settings.identityRetry?.attempts ?? 3,
      delayMs: settings.identityRetry?.delayMs ?? 1000,
    },
    sleep: abortableSleep,
  };
  const oauth = createLinkedInOAuth({
    oauthBaseUrl: settings.oauthBaseUrl ?? 'https://www.linkedin.com',
    clock,
    ...(settings.dispatcher !== undefined ? { dispatcher: settings.dispatcher } : {}),
    ...(http.timeouts !== undefined ? { timeouts: http.timeouts } : {}),
  });
  const defaultClient = defaultClientFromSettings({ settings });
  // LinkedIn's token endpoint wants the secret for refresh and revoke alike.
  const appClient = (given: ClientCredentials | undefined): ClientCredentials =>
    resolveAppClient({ platform: 'linkedin', client: given, defaultClient, requireSecret: true });
  return { client, oauth, appClient };
}

export type LinkedInProvider = ProviderV2<LinkedInCredentials, LinkedInPublishOptions>;

/**
 * The LinkedIn provider: members and company pages, through the versioned Posts, Images and
 * Videos APIs. Stateless; reads no environment variables.
 */
export const createLinkedIn: (settings?: LinkedInProviderSettings) => LinkedInProvider = defineProvider({
  id: 'linkedin',
  displayName: 'LinkedIn',
  settingsSchema: linkedInSettingsSchema,
  credentialSchema: linkedInCredentialSchema,
  accountSchema: linkedInAccountDataSchema,
  optionsSchema: linkedInPublishOptionsSchema,
  auth: ({ settings }) => ({
    kind: 'oauth2',
    scopes: {
      write: settings.scopes?.write ?? LINKEDIN_WRITE_SCOPES,
      extended: settings.scopes?.extended ?? LINKEDIN_EXTENDED_SCOPES,
    },
    // LinkedIn documents PKCE only for its native-app flow; the web flow does not verify it.
    // The challenge is still sent (harmless, as Auth.js shows), but nothing relies on it.
    pkce: false,
    // Only apps approved for programmatic refresh tokens get one; it is reused, not rotated.
    refresh: 'reusable',
  }),
  capabilities: linkedInCapabilities,
  createContext: createLinkedInContext,
  methods: {
    authorizationUrl: ({ context, ...options }) => context.oauth.authorizationUrl(options),
    exchangeCode: ({ context, ...options }) => context.oauth.exchangeCode(options),
    listAccounts: ({ context, tokens, signal }) =>
      listLinkedInAccounts({ client: context.client, tokens, ...(signal !== undefined ? { signal } : {}) }),
    refresh: async ({ context, tokens, client, signal }) => {
      // Checked first: without a refresh token the answer does not depend on app credentials.
      if (!tokens.refreshToken) throw noRefreshTokenError();
      return context.oauth.refresh({ client: context.appClient(client), tokens, ...(signal !== undefined ? { signal } : {}) });
    },
    revoke: async ({ context, tokens, client, signal }) =>
      context.oauth.revoke({ client: context.appClient(client), tokens, ...(signal !== undefined ? { signal } : {}) }),
    validate: ({ post, options }) => validateLinkedInPost({ post, options }),
    publish: ({ context, post, auth, options, signal, onProgress }) =>
      publishToLinkedIn({
        client: context.client,
        post,
        auth,
        publishOptions: options,
        ...(signal !== undefined ? { signal } : {}),
        ...(onProgress !== undefined ? { onProgress } : {}),
      }),
    checkStatus: ({ context, auth, resume, signal }) =>
      checkLinkedInStatus({ client: context.client, auth, resume, ...(signal !== undefined ? { signal } : {}) }),
    finalize: ({ context, auth, resume, signal }) =>
      finalizeLinkedInPost({ client: context.client, auth, resume, ...(signal !== undefined ? { signal } : {}) }),
    deletePost: ({ context, auth, postId, signal }) =>
      deleteLinkedInPost({ client: context.client, auth, postId, ...(signal !== undefined ? { signal } : {}) }),
  },
});
