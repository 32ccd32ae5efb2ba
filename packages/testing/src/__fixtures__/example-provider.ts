/**
 * A deliberately small but honest provider used to prove the conformance kit: Mastodon-shaped
 * endpoints (`POST /api/v1/statuses`, `/oauth/token`), written with plain undici and the injected
 * dispatcher. `flaws` switches on one bug at a time so the tests can show the kit catches it.
 */
import {
  LetmepostError,
  type ClientCredentials,
  type Clock,
  type ProviderV2,
  type TokenSet,
  type ValidationIssue,
} from '@letmepost/core';
import { getPublishContext } from '@letmepost/core/internal';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';

export interface ExampleProviderFlaws {
  /** Re-sends the create after a 5xx. */
  retryCreate?: boolean;
  /** Puts the access token into error messages. */
  leakToken?: boolean;
  /** Uses the global fetch instead of the injected dispatcher. */
  bypassDispatcher?: boolean;
  /** Trusts the response shape (TypeError on a malformed body). */
  trustResponse?: boolean;
  /** Ignores Retry-After. */
  ignoreRetryAfter?: boolean;
  /** Drops PKCE from the authorization URL. */
  noPkce?: boolean;
  /** Calls the token endpoint even when the callback carries an error. */
  ignoreCallbackError?: boolean;
  /** Ignores the dry-run context. */
  ignoreDryRun?: boolean;
  /** Re-sends the create when the connection fails. */
  retryOnNetworkError?: boolean;
  /** Does not pass the abort signal on. */
  ignoreAbort?: boolean;
  /** Calls every transport failure platform_unavailable (retryable), even after the create was written. */
  networkErrorsRetryable?: boolean;
  /** Returns the stored refresh token instead of the rotated one. */
  dropRotatedRefreshToken?: boolean;
  /** Makes up a refresh token when the answer has none. */
  inventRefreshToken?: boolean;
  /** Lists only the first account of the grant. */
  firstAccountOnly?: boolean;
  /** Sends the delete twice. */
  deleteTwice?: boolean;
  /** Maps a missing post on delete to platform_rejected. */
  deleteNotFoundRejected?: boolean;
  /** Reads a 2xx `{ error }` body as a success whose id is missing (an unknown outcome). */
  ignoreSuccessError?: boolean;
  /** finalize() creates the post again on a second call. */
  finalizeTwice?: boolean;
  /** checkStatus() finishes the publish itself (a write). */
  checkStatusWrites?: boolean;
  /** listTargets() hands out options the optionsSchema refuses. */
  unpublishableTargetOptions?: boolean;
}

const credentialsSchema = z.object({ instanceUrl: z.url(), accessToken: z.string().min(1) });
type ExampleCredentials = z.infer<typeof credentialsSchema>;

const statusSchema = z.object({ id: z.string().min(1), url: z.url() });
const tokenSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().optional(),
  expires_in: z.number().optional(),
  scope: z.string().optional(),
  token_type: z.string().optional(),
});

const MAX_LENGTH = 500;

export function createExampleProvider(settings: {
  baseUrl?: string;
  dispatcher: Dispatcher;
  clock: Clock;
  flaws?: ExampleProviderFlaws;
}): ProviderV2<ExampleCredentials, Record<string, never>> {
  const baseUrl = settings.baseUrl ?? 'https://social.example';
  const flaws = settings.flaws ?? {};

  const send = async (options: {
    method: 'POST' | 'GET' | 'DELETE';
    url: string;
    headers: Record<string, string>;
    body: string;
    signal?: AbortSignal;
    secrets: readonly string[];
  }) => {
    if (flaws.bypassDispatcher) {
      const response = await fetch(options.url, { method: options.method, headers: options.headers, body: options.body, signal: options.signal });
      return { status: response.status, headers: Object.fromEntries(response.headers), text: await response.text() };
    }
    const response = await request(options.url, {
      method: options.method,
      headers: options.headers,
      body: options.body,
      dispatcher: settings.dispatcher,
      signal: options.signal,
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers[name] = value;
    return { status: response.statusCode, headers, text: await response.body.text() };
  };

  const statusError = (status: number, headers: Record<string, string>, body: string, secrets: readonly string[]) => {
    const retryAfterSeconds = Number(headers['retry-after']);
    const base = { platform: 'mastodon' as const, status, platformResponse: safeJson(body), knownSecrets: flaws.leakToken ? [] : secrets };
    const suffix = flaws.leakToken ? ` (token ${secrets[0]})` : '';
    if (status === 401) return new LetmepostError({ ...base, code: 'auth_expired', message: `The access token was refused${suffix}.` });
    if (status === 403) return new LetmepostError({ ...base, code: 'permission_denied', message: 'The token lacks write:statuses.' });
    if (status === 429) {
      return new LetmepostError({
        ...base,
        code: 'rate_limited',
        message: 'Rate limited.',
        ...(flaws.ignoreRetryAfter || !Number.isFinite(retryAfterSeconds) ? {} : { retryAfterMs: retryAfterSeconds * 1000 }),
      });
    }
    if (status === 503) return new LetmepostError({ ...base, code: 'platform_unavailable', message: 'The instance is unavailable.' });
    if (status >= 500) return new LetmepostError({ ...base, code: 'publish_outcome_unknown', message: 'The instance failed after receiving the post.' });
    return new LetmepostError({ ...base, code: 'platform_rejected', message: `The instance refused the post (${status}).` });
  };

  return {
    specificationVersion: 'v2',
    id: 'mastodon',
    displayName: 'Example (conformance fixture)',
    auth: { kind: 'oauth2', scopes: { write: ['write:statuses'], extended: ['read:accounts'] }, pkce: true, refresh: 'rotating' },
    credentialSchema: credentialsSchema,
    accountSchema: z.object({ instanceUrl: z.url() }),
    optionsSchema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
    capabilities: {
      text: { maxLength: MAX_LENGTH, unit: 'characters', required: true },
      media: {
        maxItems: 4,
        maxImages: 4,
        maxVideos: 1,
        imageMimeTypes: ['image/png', 'image/jpeg'],
        videoMimeTypes: ['video/mp4'],
        mixedImagesAndVideo: false,
        altText: true,
        ingest: 'push',
      },
      thread: false,
      replyTo: false,
      firstComment: false,
      link: 'inline',
      deletePost: true,
      pending: false,
    },

    authorizationUrl({ client, redirectUri, state, codeChallenge, scopes }) {
      const url = new URL('/oauth/authorize', baseUrl);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', scopes.join(' '));
      url.searchParams.set('state', state);
      if (!flaws.noPkce) {
        url.searchParams.set('code_challenge', codeChallenge);
        url.searchParams.set('code_challenge_method', 'S256');
      }
      return url;
    },

    async exchangeCode({ client, redirectUri, callbackUrl, state, codeVerifier, signal }): Promise<TokenSet> {
      const parameters = callbackUrl.searchParams;
      if (parameters.get('error') && !flaws.ignoreCallbackError) {
        throw new LetmepostError({ code: 'platform_auth_failed', platform: 'mastodon', message: `Consent failed: ${parameters.get('error')}.` });
      }
      if (parameters.get('state') !== state) {
        throw new LetmepostError({ code: 'state_invalid', platform: 'mastodon', message: 'The callback state does not match the session.' });
      }
      const secrets = [client.clientSecret ?? '', codeVerifier, parameters.get('code') ?? ''];
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code: parameters.get('code') ?? '',
        redirect_uri: redirectUri,
        code_verifier: codeVerifier,
        client_id: client.clientId,
        client_secret: client.clientSecret ?? '',
      }).toString();
      const response = await send({
        method: 'POST',
        url: new URL('/oauth/token', baseUrl).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        secrets,
        ...(signal ? { signal } : {}),
      });
      if (response.status === 400 || response.status === 401) {
        throw new LetmepostError({
          code: 'platform_auth_failed',
          platform: 'mastodon',
          status: response.status,
          message: 'The authorization code was refused.',
          platformResponse: safeJson(response.text),
          knownSecrets: secrets,
        });
      }
      if (response.status >= 300) throw statusError(response.status, response.headers, response.text, secrets);
      const parsed = tokenSchema.safeParse(safeJson(response.text));
      if (!parsed.success) {
        throw new LetmepostError({ code: 'platform_unavailable', platform: 'mastodon', message: 'Unexpected token response.' });
      }
      const token = parsed.data;
      return {
        accessToken: token.access_token,
        ...(token.refresh_token ? { refreshToken: token.refresh_token } : {}),
        ...(token.expires_in === undefined ? {} : { expiresAt: settings.clock.now() + token.expires_in * 1000 }),
        ...(token.scope ? { scopes: token.scope.split(' ') } : {}),
        tokenType: token.token_type ?? 'Bearer',
      };
    },

    async refresh({ tokens, client, signal }): Promise<TokenSet> {
      const secrets = [client?.clientSecret ?? '', tokens.refreshToken ?? ''];
      const response = await send({
        method: 'POST',
        url: new URL('/oauth/token', baseUrl).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken ?? '', client_id: client?.clientId ?? '' }).toString(),
        secrets,
        ...(signal ? { signal } : {}),
      });
      if (response.status >= 300) throw statusError(response.status, response.headers, response.text, secrets);
      const parsed = tokenSchema.parse(safeJson(response.text));
      const refreshToken = flaws.dropRotatedRefreshToken
        ? tokens.refreshToken
        : (parsed.refresh_token ?? (flaws.inventRefreshToken ? 'made-up-refresh-token' : tokens.refreshToken));
      return { accessToken: parsed.access_token, ...(refreshToken !== undefined && { refreshToken }), tokenType: 'Bearer' };
    },

    async listAccounts({ tokens, signal }) {
      const response = await send({
        method: 'GET',
        url: new URL('/api/v1/accounts/owned', baseUrl).toString(),
        headers: { authorization: `Bearer ${tokens.accessToken}` },
        body: '',
        secrets: [tokens.accessToken],
        ...(signal ? { signal } : {}),
      });
      if (response.status >= 300) throw statusError(response.status, response.headers, response.text, [tokens.accessToken]);
      const owned = z.array(z.object({ id: z.string(), username: z.string() })).parse(safeJson(response.text));
      const accounts = owned.map((account) => ({ platformAccountId: account.id, username: account.username, data: { instanceUrl: baseUrl } }));
      return flaws.firstAccountOnly ? accounts.slice(0, 1) : accounts;
    },

    async deletePost({ auth, postId, signal }) {
      const accessToken = auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken;
      const remove = () =>
        send({
          method: 'DELETE',
          url: new URL(`/api/v1/statuses/${encodeURIComponent(postId)}`, baseUrl).toString(),
          headers: { authorization: `Bearer ${accessToken}` },
          body: '',
          secrets: [accessToken],
          ...(signal ? { signal } : {}),
        });
      const response = await remove();
      if (flaws.deleteTwice) await remove();
      if (response.status === 404 && !flaws.deleteNotFoundRejected) {
        throw new LetmepostError({ code: 'not_found', platform: 'mastodon', status: 404, message: `Post ${postId} does not exist.` });
      }
      if (response.status >= 300) throw statusError(response.status, response.headers, response.text, [accessToken]);
    },

    async connectWithCredentials() {
      throw new LetmepostError({ code: 'not_supported', platform: 'mastodon', message: 'Use OAuth.' });
    },

    validate({ post }): ValidationIssue[] {
      const issues: ValidationIssue[] = [];
      if ([...post.text].length > MAX_LENGTH) {
        issues.push({ rule: 'mastodon.text.max_characters', field: 'text', message: `Text is longer than ${MAX_LENGTH} characters.` });
      }
      if (post.text.length === 0 && (post.media ?? []).length === 0) {
        issues.push({ rule: 'mastodon.text.required', field: 'text', message: 'Text is required.' });
      }
      if ((post.media ?? []).length > 4) issues.push({ rule: 'mastodon.media.max_items', field: 'media', message: 'At most 4 media items.' });
      return issues;
    },

    async publish({ post, auth, signal }) {
      const accessToken = auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken;
      const secrets = [accessToken];
      if (getPublishContext()?.dryRun && !flaws.ignoreDryRun) {
        throw new LetmepostError({ code: 'not_supported', platform: 'mastodon', message: 'Writes are disabled during a dry run.' });
      }
      let retried = false;
      const attempt = async (): Promise<Awaited<ReturnType<typeof send>>> => {
        try {
          return await send({
            method: 'POST',
            url: new URL('/api/v1/statuses', baseUrl).toString(),
            headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ status: post.text }),
            secrets,
            ...(signal && !flaws.ignoreAbort ? { signal } : {}),
          });
        } catch (cause) {
          if (flaws.retryOnNetworkError && !retried) {
            retried = true;
            return attempt();
          }
          // Once dispatched, a create that fails without an answer may still have landed.
          throw new LetmepostError({
            code: flaws.networkErrorsRetryable ? 'platform_unavailable' : 'publish_outcome_unknown',
            platform: 'mastodon',
            message: 'The connection ended before the instance answered; the post may exist.',
            cause,
          });
        }
      };
      let response = await attempt();
      if (flaws.retryCreate && response.status >= 500) response = await attempt();
      if (response.status >= 300) throw statusError(response.status, response.headers, response.text, secrets);
      // Some instances behind proxies answer a refusal with 200 and an `error` field.
      const refusal = z.object({ error: z.string() }).safeParse(safeJson(response.text));
      if (refusal.success && !flaws.ignoreSuccessError) {
        throw new LetmepostError({ code: 'platform_rejected', platform: 'mastodon', status: response.status, message: 'The instance refused the post.', platformResponse: refusal.data });
      }
      if (flaws.trustResponse) {
        const body = JSON.parse(response.text) as { id: string; url: { href: string } };
        return { status: 'published', postId: body.id, url: body.url.href.toString(), warnings: [] };
      }
      const parsed = statusSchema.safeParse(safeJson(response.text));
      if (!parsed.success) {
        return {
          status: 'unknown',
          warnings: [],
          error: new LetmepostError({
            code: 'publish_outcome_unknown',
            platform: 'mastodon',
            status: response.status,
            message: 'The instance accepted the post but its answer could not be read.',
          }),
        };
      }
      return { status: 'published', postId: parsed.data.id, url: parsed.data.url, warnings: [] };
    },
  };
}

/**
 * `checkStatus`/`finalize` with the resume contract's names, added to the example for the kit's
 * resume section: the resume state names a media id and the text; `finalize` looks for a post
 * already created from it (the instance's idempotency lookup) before creating one.
 */
export function withExampleResume(options: { provider: ReturnType<typeof createExampleProvider>; dispatcher: Dispatcher; flaws?: ExampleProviderFlaws }) {
  const flaws = options.flaws ?? {};
  const call = async (method: 'GET' | 'POST', path: string, accessToken: string, body?: unknown) => {
    const response = await request(new URL(path, 'https://social.example'), {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      dispatcher: options.dispatcher,
    });
    return { status: response.statusCode, body: safeJson(await response.body.text()) };
  };
  const resumeSchema = z.object({ mediaId: z.string(), text: z.string(), key: z.string() });
  const tokenOf = (auth: { type: string; tokens?: TokenSet; credentials?: ExampleCredentials }) =>
    auth.type === 'account' ? (auth.tokens as TokenSet).accessToken : (auth.credentials as ExampleCredentials).accessToken;
  const create = async (accessToken: string, state: z.infer<typeof resumeSchema>) => {
    const created = statusSchema.parse((await call('POST', '/api/v1/statuses', accessToken, { status: state.text, media_ids: [state.mediaId] })).body);
    return { status: 'published' as const, postId: created.id, url: created.url, warnings: [] };
  };
  return Object.assign(options.provider, {
    capabilities: { ...options.provider.capabilities, pending: true },
    async checkStatus({ auth, resume }: { auth: { type: string; tokens?: TokenSet; credentials?: ExampleCredentials }; resume: unknown }) {
      const state = resumeSchema.parse(resume);
      const accessToken = tokenOf(auth);
      if (flaws.checkStatusWrites) return create(accessToken, state);
      // The media is still processing while its url is null; either way nothing is written here.
      z.object({ url: z.string().nullable() }).parse((await call('GET', `/api/v1/media/${state.mediaId}`, accessToken)).body);
      return { status: 'pending' as const, warnings: [] };
    },
    async finalize({ auth, resume }: { auth: { type: string; tokens?: TokenSet; credentials?: ExampleCredentials }; resume: unknown }) {
      const state = resumeSchema.parse(resume);
      const accessToken = tokenOf(auth);
      if (!flaws.finalizeTwice) {
        const found = await call('GET', `/api/v1/statuses/by-key/${state.key}`, accessToken);
        if (found.status === 200) {
          const existing = statusSchema.parse(found.body);
          return { status: 'published' as const, postId: existing.id, url: existing.url, warnings: [] };
        }
      }
      return create(accessToken, state);
    },
  });
}

/**
 * `listTargets` with the connect contract's names, added to the example for the kit's targets
 * section: an account's lists are the destinations, each publishable with no options.
 */
export function withExampleTargets(options: { provider: ReturnType<typeof createExampleProvider>; dispatcher: Dispatcher; flaws?: ExampleProviderFlaws }) {
  const flaws = options.flaws ?? {};
  return Object.assign(options.provider, {
    async listTargets({ auth }: { auth: { type: string; tokens?: TokenSet; credentials?: ExampleCredentials } }) {
      const accessToken = auth.type === 'account' ? (auth.tokens as TokenSet).accessToken : (auth.credentials as ExampleCredentials).accessToken;
      const response = await request('https://social.example/api/v1/lists', { headers: { authorization: `Bearer ${accessToken}` }, dispatcher: options.dispatcher });
      const lists = z.array(z.object({ id: z.string(), title: z.string() })).parse(safeJson(await response.body.text()));
      return {
        targets: lists.map((list) => ({ id: list.id, name: list.title, kind: 'list', options: flaws.unpublishableTargetOptions ? { listId: list.id } : {} })),
      };
    },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const exampleClient: ClientCredentials = { clientId: 'example-client-id', clientSecret: 'canary-client-secret-5b1f0c' };
