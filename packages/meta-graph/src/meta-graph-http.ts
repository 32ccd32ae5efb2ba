import type { PlatformId } from '@letmepost/core';
import { nodeCrypto } from '@letmepost/core/internal';
import {
  createHttpClient,
  type ErrorMapperRule,
  type HttpClient,
  type HttpClientSettings,
  type HttpRawRequestOptions,
  type HttpResponse,
} from '@letmepost/provider-utils';
import { z } from 'zod';
import { createGraphErrorMapper, createGraphSuccessInspector, type GraphErrorFields } from './meta-graph-error.js';

/** The Graph API version the family pins by default (the fact sheets' current one, 2026-11). */
export const DEFAULT_META_GRAPH_VERSION = 'v26.0';

/** A Graph version setting (`META_GRAPH_VERSION`, `THREADS_API_VERSION`): `v26.0`, `v1.0`. */
export const graphVersionSettingSchema = z.string().regex(/^v\d+\.\d+$/, 'must look like v26.0');

/** The HTTP settings a provider's settings carry (`httpClientSettingsOf({ settings })` gives them). */
type GraphHttpSettings = Pick<HttpClientSettings, 'dispatcher' | 'clock' | 'timeouts' | 'retry' | 'maxResponseBytes' | 'userAgent'>;

export interface CreateGraphHttpClientOptions extends GraphHttpSettings {
  platform: PlatformId;
  /** `https://graph.facebook.com`, `https://graph.instagram.com`, `https://graph.threads.net`; no trailing slash. */
  baseUrl: string;
  /** Prefixed to every relative path (`v26.0`); absent: paths are used as they are. */
  apiVersion?: string;
  /**
   * The app secret `appsecret_proof` is computed with for calls made with a token, unless the
   * call brings its own proof (computed at connect time with the grant's own app).
   */
  appSecret?: string;
  /** The member's own error rows, tried before the shared Graph table. */
  errorRules?: ReadonlyArray<ErrorMapperRule<GraphErrorFields>>;
}

export interface GraphRequestOptions extends Omit<HttpRawRequestOptions, 'url' | 'auth'> {
  /** Relative to the versioned base (`me/accounts`, `123/feed`), or an absolute URL (a `paging.next`, an upload host). */
  path: string;
  /** The user, Page or Instagram/Threads token; sent as `access_token` with its `appsecret_proof`. */
  accessToken?: string;
  /** A proof computed earlier (with the grant's own app secret); wins over the client's `appSecret`. */
  appSecretProof?: string;
  /**
   * `query` (default): `access_token` and `appsecret_proof` as query parameters (what every Graph
   * host documents). `oauth-header`: `Authorization: OAuth <token>` (the upload hosts,
   * `rupload.facebook.com` and `upload:<session>`), proof still in the query.
   */
  tokenPlacement?: 'query' | 'oauth-header';
}

export interface GraphHttpClient {
  readonly platform: PlatformId;
  readonly baseUrl: string;
  readonly apiVersion: string | undefined;
  /** The underlying provider-utils client (Graph error mapping on non-2xx and 2xx answers). */
  readonly http: HttpClient;
  /** The absolute URL of a relative Graph path. */
  url(path: string): string;
  /** HMAC-SHA256 of the token with the client's app secret, hex; `undefined` without a secret. */
  appSecretProof(options: { accessToken: string }): string | undefined;
  request(options: GraphRequestOptions): Promise<HttpResponse>;
  json<T>(options: GraphRequestOptions & { schema: z.ZodType<T> }): Promise<{ value: T; response: HttpResponse }>;
}

/** `appsecret_proof`: HMAC-SHA256 of the access token keyed with the app secret, lowercase hex. */
export function computeAppSecretProof(options: { accessToken: string; appSecret: string }): string {
  return nodeCrypto().createHmac('sha256', options.appSecret).update(options.accessToken).digest('hex');
}

/**
 * The HTTP client of a Graph host: provider-utils' client with the Graph error table on non-2xx
 * answers and on 2xx answers that carry an `error` object, the version prefix, and
 * `appsecret_proof` beside every token (Meta apps may require it; it is harmless otherwise).
 */
export function createGraphHttpClient(options: CreateGraphHttpClientOptions): GraphHttpClient {
  const { platform, appSecret, apiVersion, errorRules, baseUrl: givenBaseUrl, ...httpSettings } = options;
  const baseUrl = givenBaseUrl.replace(/\/+$/, '');
  const errorOptions = {
    platform,
    ...(httpSettings.clock !== undefined && { clock: httpSettings.clock }),
    ...(errorRules !== undefined && { rules: errorRules }),
  };
  const http = createHttpClient({
    ...httpSettings,
    platform,
    mapError: createGraphErrorMapper(errorOptions),
    inspectSuccess: createGraphSuccessInspector(errorOptions),
  });

  const url = (path: string): string => {
    if (/^https?:\/\//.test(path)) return path;
    const relative = path.replace(/^\/+/, '');
    return apiVersion === undefined ? `${baseUrl}/${relative}` : `${baseUrl}/${apiVersion}/${relative}`;
  };
  const appSecretProof = ({ accessToken }: { accessToken: string }): string | undefined =>
    appSecret === undefined ? undefined : computeAppSecretProof({ accessToken, appSecret });

  const toHttpOptions = (request: GraphRequestOptions): HttpRawRequestOptions => {
    const { path, accessToken, appSecretProof: givenProof, tokenPlacement, ...rest } = request;
    if (accessToken === undefined) return { ...rest, url: url(path) };
    const proof = givenProof ?? appSecretProof({ accessToken });
    const secrets = [...(rest.secrets ?? []), accessToken, ...(proof === undefined ? [] : [proof])];
    const inHeader = tokenPlacement === 'oauth-header';
    return {
      ...rest,
      url: url(path),
      query: {
        ...rest.query,
        ...(!inHeader && { access_token: accessToken }),
        ...(proof !== undefined && { appsecret_proof: proof }),
      },
      headers: { ...rest.headers, ...(inHeader && { authorization: `OAuth ${accessToken}` }) },
      secrets,
    };
  };

  return {
    platform,
    baseUrl,
    apiVersion,
    http,
    url,
    appSecretProof,
    request: (request) => http.request(toHttpOptions(request)),
    json: <T>(request: GraphRequestOptions & { schema: z.ZodType<T> }) => http.json<T>({ ...toHttpOptions(request), schema: request.schema }),
  };
}
