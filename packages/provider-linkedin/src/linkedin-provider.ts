import { LetmepostError, systemClock, type ClientCredentials, type ProviderV1 } from '@letmepost/core';
import { abortableSleep, createSafeFetcher, type BaseProviderSettings, type SafeFetcher } from '@letmepost/provider-utils';
import { z } from 'zod';
import { listLinkedInAccounts } from './linkedin-accounts.js';
import { createLinkedInHttpClients, type LinkedInClient } from './linkedin-client.js';
import { linkedInAccountDataSchema, linkedInCredentialSchema, type LinkedInCredentials } from './linkedin-credentials.js';
import { createLinkedInOAuth, LINKEDIN_EXTENDED_SCOPES, LINKEDIN_WRITE_SCOPES, noRefreshTokenError } from './linkedin-oauth.js';
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

const baseUrlSchema = z
  .url({ protocol: /^https?$/ })
  .transform((value) => value.replace(/\/+$/, ''));

const settingsSchema = z.looseObject({
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
  apiBaseUrl: baseUrlSchema.optional(),
  oauthBaseUrl: baseUrlSchema.optional(),
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
      write: z.array(z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a single scope name')).min(1).optional(),
      extended: z.array(z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'must be a single scope name')).optional(),
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

function parseSettings(settings: LinkedInProviderSettings): z.infer<typeof settingsSchema> {
  const parsed = settingsSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  const field = issue?.path.map(String).join('.') ?? '';
  throw new LetmepostError({
    code: 'validation_failed',
    message: `Invalid LinkedIn provider settings: ${field} ${issue?.message ?? 'is invalid'}.`,
    platform: 'linkedin',
    field: `settings.${field}`,
    issues: parsed.error.issues.map((item) => ({ field: `settings.${item.path.map(String).join('.')}`, message: item.message })),
    knownSecrets: settings.clientSecret !== undefined ? [settings.clientSecret] : [],
  });
}

/** Re-checks input at the provider boundary, so a direct caller gets the same field errors as core's. */
function parseInput<T>(options: { schema: z.ZodType<T, unknown>; value: unknown; field: string }): T {
  const parsed = options.schema.safeParse(options.value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    field: [options.field, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const [first] = issues;
  throw new LetmepostError({
    code: 'validation_failed',
    message: `${first?.field ?? options.field} ${first?.message ?? 'is invalid'}`,
    platform: 'linkedin',
    field: first?.field ?? options.field,
    issues,
  });
}

export type LinkedInProvider = ProviderV1<LinkedInCredentials, LinkedInPublishOptions>;

/**
 * Creates the LinkedIn provider: members and company pages, through the versioned Posts,
 * Images and Videos APIs. Stateless; reads no environment variables.
 */
export function createLinkedIn(settings: LinkedInProviderSettings = {}): LinkedInProvider {
  const parsed = parseSettings(settings);
  const clock = settings.clock ?? systemClock;
  const apiBaseUrl = parsed.apiBaseUrl ?? 'https://api.linkedin.com';
  const oauthBaseUrl = parsed.oauthBaseUrl ?? 'https://www.linkedin.com';
  const http = settings.http ?? {};

  let mediaFetcher: SafeFetcher | undefined;
  const client: LinkedInClient = {
    apiBaseUrl,
    apiVersion: parsed.apiVersion ?? LINKEDIN_DEFAULT_API_VERSION,
    clock,
    ...createLinkedInHttpClients({
      clock,
      ...(settings.dispatcher !== undefined ? { dispatcher: settings.dispatcher } : {}),
      ...(http.timeouts !== undefined ? { timeouts: http.timeouts } : {}),
      ...(http.retry !== undefined ? { retry: http.retry } : {}),
      ...(http.maxResponseBytes !== undefined ? { maxResponseBytes: http.maxResponseBytes } : {}),
      ...(http.userAgent !== undefined ? { userAgent: http.userAgent } : {}),
    }),
    mediaFetcher: () =>
      (mediaFetcher ??=
        settings.mediaFetcher ??
        createSafeFetcher({
          platform: 'linkedin',
          ...(settings.allowPrivateNetwork !== undefined ? { allowPrivateNetwork: settings.allowPrivateNetwork } : {}),
        })),
    videoProcessing: {
      pollIntervalMs: parsed.videoProcessing?.pollIntervalMs ?? 3000,
      maxWaitMs: parsed.videoProcessing?.maxWaitMs ?? 30_000,
    },
    identityRetry: {
      attempts: parsed.identityRetry?.attempts ?? 3,
      delayMs: parsed.identityRetry?.delayMs ?? 1000,
    },
    sleep: abortableSleep,
  };

  const oauth = createLinkedInOAuth({
    oauthBaseUrl,
    clock,
    ...(settings.dispatcher !== undefined ? { dispatcher: settings.dispatcher } : {}),
    ...(http.timeouts !== undefined ? { timeouts: http.timeouts } : {}),
  });

  const defaultClient: ClientCredentials | undefined =
    parsed.clientId !== undefined
      ? { clientId: parsed.clientId, ...(parsed.clientSecret !== undefined ? { clientSecret: parsed.clientSecret } : {}) }
      : undefined;

  const appClient = (given: ClientCredentials | undefined): ClientCredentials => {
    const chosen = given ?? defaultClient;
    if (chosen === undefined || chosen.clientSecret === undefined) {
      throw new LetmepostError({
        code: 'app_credentials_missing',
        message: 'Refreshing or revoking a LinkedIn token needs the app’s client id and secret.',
        platform: 'linkedin',
        remediation: 'Configure LINKEDIN_CLIENT_ID / LINKEDIN_CLIENT_SECRET or the workspace’s own LinkedIn app.',
      });
    }
    return chosen;
  };

  return {
    specificationVersion: 'v1',
    id: 'linkedin',
    displayName: 'LinkedIn',
    auth: {
      kind: 'oauth2',
      scopes: {
        write: parsed.scopes?.write ?? LINKEDIN_WRITE_SCOPES,
        extended: parsed.scopes?.extended ?? LINKEDIN_EXTENDED_SCOPES,
      },
      // LinkedIn documents PKCE only for its native-app flow; the web flow does not verify it.
      // The challenge is still sent (harmless, as Auth.js shows), but nothing relies on it.
      pkce: false,
      // Only apps approved for programmatic refresh tokens get one; it is reused, not rotated.
      refresh: 'reusable',
    },
    credentialSchema: linkedInCredentialSchema,
    accountSchema: linkedInAccountDataSchema,
    optionsSchema: linkedInPublishOptionsSchema,
    capabilities: linkedInCapabilities,
    ...(defaultClient !== undefined ? { defaultClient } : {}),

    authorizationUrl: (options) => oauth.authorizationUrl(options),
    exchangeCode: (options) => oauth.exchangeCode(options),
    listAccounts: (options) =>
      listLinkedInAccounts({ client, tokens: options.tokens, ...(options.signal !== undefined ? { signal: options.signal } : {}) }),
    refresh: async (options) => {
      // Checked first: without a refresh token the answer does not depend on app credentials.
      if (!options.tokens.refreshToken) throw noRefreshTokenError();
      return oauth.refresh({
        client: appClient(options.client),
        tokens: options.tokens,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    },
    revoke: async (options) =>
      oauth.revoke({
        client: appClient(options.client),
        tokens: options.tokens,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
    validate: (options) => validateLinkedInPost(options),
    publish: async (options) =>
      publishToLinkedIn({
        client,
        post: options.post,
        auth:
          options.auth.type === 'credentials'
            ? {
                type: 'credentials',
                credentials: parseInput({ schema: linkedInCredentialSchema, value: options.auth.credentials, field: 'credentials' }),
              }
            : options.auth,
        publishOptions: parseInput({ schema: linkedInPublishOptionsSchema, value: options.options ?? {}, field: 'options' }),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
      }),
    checkStatus: (options) =>
      checkLinkedInStatus({
        client,
        auth: options.auth,
        resume: options.resume,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
    finalize: (options) =>
      finalizeLinkedInPost({
        client,
        auth: options.auth,
        resume: options.resume,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
    deletePost: (options) =>
      deleteLinkedInPost({
        client,
        auth: options.auth,
        postId: options.postId,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      }),
  };
}
