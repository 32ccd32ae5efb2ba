import { LetmepostError, type PlatformId, type ProviderCapabilities, type ProviderV2, type TokenSet } from '@letmepost/core';
import { createHttpClient, createOAuth2Client } from '@letmepost/provider-utils';
import { z } from 'zod';

export interface LoopbackProviderSettings {
  /** Which platform id the provider stands in for (`twitter` to get X's launch cap). */
  id: PlatformId;
  /** The loopback platform, `http://127.0.0.1:<port>`. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /**
   * Simulates a refresh holder that outlives its lease (a frozen VM, a stop-the-world pause): the
   * refresh ignores core's abort signal and waits up to `stalledRefreshTimeoutMs` for the token
   * endpoint. A real provider always honours the signal.
   */
  ignoreRefreshAbort?: boolean;
  stalledRefreshTimeoutMs?: number;
  /**
   * Accounts one consent yields, all sharing its tokens (a member and the pages they manage).
   * Default 1.
   */
  accounts?: number;
}

/** A platform that takes plain text posts of up to 500 characters and nothing else. */
export const TEXT_ONLY_CAPABILITIES: ProviderCapabilities = {
  text: { maxLength: 500, unit: 'characters', required: true },
  media: {
    maxItems: 0,
    maxImages: 0,
    maxVideos: 0,
    imageMimeTypes: [],
    videoMimeTypes: [],
    mixedImagesAndVideo: false,
    altText: false,
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: false,
  link: 'inline',
  deletePost: false,
  pending: false,
};

const publishAnswerSchema = z.object({ id: z.string().min(1) });
const credentialSchema = z.object({ accessToken: z.string().min(1) });

/**
 * A small but real provider for the multi-process scenarios, built the way every provider is:
 * OAuth 2.0 (authorization code + PKCE, rotating refresh) through `createOAuth2Client` and the
 * publish call through `createHttpClient`, both pointed at the loopback platform. Its error
 * handling is provider-utils' own: `invalid_grant` on refresh is `reauth_required`, 401 on
 * publish is `auth_expired`.
 */
export function createLoopbackProvider(settings: LoopbackProviderSettings): ProviderV2<z.infer<typeof credentialSchema>, Record<string, never>> {
  const { id, baseUrl } = settings;
  const oauth = createOAuth2Client({
    platform: id,
    endpoints: { authorizationEndpoint: `${baseUrl}/oauth/authorize`, tokenEndpoint: `${baseUrl}/oauth/token` },
    ...(settings.ignoreRefreshAbort
      ? { timeouts: { headersMs: settings.stalledRefreshTimeoutMs ?? 120_000, bodyMs: settings.stalledRefreshTimeoutMs ?? 120_000 } }
      : {}),
  });
  const http = createHttpClient({ platform: id, retry: { maxAttempts: 1 } });
  const withoutRaw = (tokens: TokenSet & { raw?: unknown }): TokenSet => {
    const { raw: _raw, ...rest } = tokens;
    return rest;
  };

  return {
    specificationVersion: 'v2',
    id,
    displayName: `Loopback (${id})`,
    auth: { kind: 'oauth2', scopes: { write: ['write'], extended: ['write', 'read'] }, pkce: true, refresh: 'rotating' },
    credentialSchema,
    accountSchema: z.looseObject({}),
    optionsSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    defaultClient: { clientId: settings.clientId, clientSecret: settings.clientSecret },
    capabilities: TEXT_ONLY_CAPABILITIES,

    authorizationUrl: (options) => oauth.authorizationUrl(options),

    exchangeCode: async (options) => withoutRaw(await oauth.exchangeCode(options)),

    listAccounts: async () =>
      Array.from({ length: settings.accounts ?? 1 }, (_, index) =>
        index === 0
          ? { platformAccountId: 'loopback-user-1', kind: 'person' as const, username: 'loopback' }
          : { platformAccountId: `loopback-page-${index}`, kind: 'page' as const, displayName: `Loopback page ${index}` },
      ),

    refresh: async ({ tokens, client, signal }) => {
      if (tokens.refreshToken === undefined || client === undefined) {
        throw new LetmepostError({ code: 'reauth_required', platform: id, message: 'No refresh token to refresh with.' });
      }
      const refreshed = await oauth.refresh({
        client,
        refreshToken: tokens.refreshToken,
        ...(settings.ignoreRefreshAbort || signal === undefined ? {} : { signal }),
      });
      return withoutRaw(refreshed);
    },

    validate: () => [],

    publish: async ({ post, auth, signal }) => {
      const accessToken = auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken;
      const { value } = await http.json({
        method: 'POST',
        url: `${baseUrl}/publish`,
        auth: { bearer: accessToken },
        body: { json: { text: post.text } },
        schema: publishAnswerSchema,
        retry: 'create',
        ...(signal === undefined ? {} : { signal }),
      });
      return { status: 'published', postId: value.id, warnings: [] };
    },
  };
}
