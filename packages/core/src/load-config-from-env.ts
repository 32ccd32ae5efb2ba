import { parseEncryptionKey } from './envelope-encryption.js';
import { validationFailed } from './letmepost-context.js';
import { LetmepostError, type LetmepostErrorIssue } from './letmepost-error.js';
import { PLATFORM_IDS, type PlatformId } from './platform-id.js';

/** What a provider's `create<Brand>(settings)` can take from the environment. */
export interface PlatformEnvSettings {
  clientId?: string;
  clientSecret?: string;
  /** `<PLATFORM>_API_BASE`: point the provider at the sandbox or a proxy. */
  apiBaseUrl?: string;
  /** `<PLATFORM>_API_VERSION` (`THREADS_API_VERSION`, LinkedIn's `YYYYMM`...). */
  apiVersion?: string;
  /** Facebook: `META_GRAPH_VERSION`, e.g. `v24.0`. */
  graphVersion?: string;
  /** Instagram: `INSTAGRAM_GRAPH_BASE`. */
  graphBase?: string;
  /** Instagram: `INSTAGRAM_OAUTH_AUTHORIZE_URL`. */
  oauthAuthorizeUrl?: string;
  /** Instagram: `INSTAGRAM_OAUTH_TOKEN_URL`. */
  oauthTokenUrl?: string;
}

export interface LetmepostEnvConfig {
  /** `BETTER_AUTH_URL`, without a trailing slash. */
  baseUrl: string;
  /** `KEK_MASTER`, checked to be base64 of 32 bytes. */
  encryptionKey: string;
  /** From `TWITTER_LAUNCH_CAP_PER_ACCOUNT`, when set; pass to `createLetmepost`. */
  launchCaps: Partial<Record<PlatformId, { limit: number }>>;
  /** Settings per platform that has any variable set; spread into `create<Brand>()`. */
  platforms: Partial<Record<PlatformId, PlatformEnvSettings>>;
}

type Env = Readonly<Record<string, string | undefined>>;

const credentialVariables: Record<PlatformId, { id: string; secret: string }> = Object.fromEntries(
  PLATFORM_IDS.map((platform) => [
    platform,
    platform === 'facebook'
      ? { id: 'META_APP_ID', secret: 'META_APP_SECRET' }
      : { id: `${platform.toUpperCase()}_CLIENT_ID`, secret: `${platform.toUpperCase()}_CLIENT_SECRET` },
  ]),
) as Record<PlatformId, { id: string; secret: string }>;

/**
 * Reads letmepost's configuration from environment variables (DESIGN section 7), for hosts,
 * the demo and self-hosters. Providers never read the environment themselves. Every malformed
 * variable is reported at once, by name; values are never echoed, since most of them are
 * secrets.
 *
 * ```ts
 * const config = loadConfigFromEnv(process.env);
 * const letmepost = createLetmepost({
 *   ...config,
 *   store,
 *   providers: [createTwitter(config.platforms.twitter ?? {}), createLinkedIn(config.platforms.linkedin ?? {})],
 * });
 * ```
 */
export function loadConfigFromEnv(env: Env): LetmepostEnvConfig {
  if (env === null || typeof env !== 'object') {
    throw new LetmepostError({ code: 'validation_failed', field: 'env', message: 'Pass an environment object such as process.env.' });
  }
  const issues: LetmepostErrorIssue[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name];
    // `.env` files commonly carry `NAME=` for "unset".
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const baseUrl = readUrl({ name: 'BETTER_AUTH_URL', value: read('BETTER_AUTH_URL'), required: true, issues });
  const encryptionKey = read('KEK_MASTER');
  if (encryptionKey === undefined) {
    issues.push({ field: 'KEK_MASTER', rule: 'env.required', message: 'is required: base64 of 32 random bytes (openssl rand -base64 32)' });
  } else {
    try {
      parseEncryptionKey(encryptionKey);
    } catch (error) {
      issues.push({
        field: 'KEK_MASTER',
        rule: 'env.encryption_key',
        // parseEncryptionKey describes lengths and alphabets only, never the key itself.
        message: LetmepostError.isInstance(error)
          ? error.message.replaceAll('encryptionKey', 'KEK_MASTER')
          : 'must be base64 of 32 random bytes',
      });
    }
  }

  const launchCaps: LetmepostEnvConfig['launchCaps'] = {};
  const cap = read('TWITTER_LAUNCH_CAP_PER_ACCOUNT');
  if (cap !== undefined) {
    if (/^\d{1,9}$/.test(cap)) launchCaps.twitter = { limit: Number(cap) };
    else issues.push({ field: 'TWITTER_LAUNCH_CAP_PER_ACCOUNT', rule: 'env.integer', message: 'must be a non-negative whole number' });
  }

  const platforms: LetmepostEnvConfig['platforms'] = {};
  for (const platform of PLATFORM_IDS) {
    const settings: PlatformEnvSettings = {};
    const prefix = platform.toUpperCase();
    const names = credentialVariables[platform];
    const clientId = read(names.id);
    const clientSecret = read(names.secret);
    if (clientSecret !== undefined && clientId === undefined) {
      issues.push({ field: names.id, rule: 'env.required', message: `is required when ${names.secret} is set` });
    }
    if (clientId !== undefined) settings.clientId = clientId;
    if (clientSecret !== undefined) settings.clientSecret = clientSecret;

    const apiBase = readUrl({ name: `${prefix}_API_BASE`, value: read(`${prefix}_API_BASE`), issues });
    if (apiBase !== undefined) settings.apiBaseUrl = apiBase;
    const apiVersion = read(`${prefix}_API_VERSION`);
    if (apiVersion !== undefined) {
      if (/^[A-Za-z0-9._-]{1,32}$/.test(apiVersion)) settings.apiVersion = apiVersion;
      else issues.push({ field: `${prefix}_API_VERSION`, rule: 'env.version', message: 'must be a version label such as v1.0 or 202605' });
    }

    if (platform === 'facebook') {
      const graphVersion = read('META_GRAPH_VERSION');
      if (graphVersion !== undefined) {
        if (/^v\d{1,3}\.\d{1,3}$/.test(graphVersion)) settings.graphVersion = graphVersion;
        else issues.push({ field: 'META_GRAPH_VERSION', rule: 'env.version', message: 'must look like v24.0' });
      }
    }
    if (platform === 'instagram') {
      const graphBase = readUrl({ name: 'INSTAGRAM_GRAPH_BASE', value: read('INSTAGRAM_GRAPH_BASE'), issues });
      if (graphBase !== undefined) settings.graphBase = graphBase;
      const authorize = readUrl({
        name: 'INSTAGRAM_OAUTH_AUTHORIZE_URL',
        value: read('INSTAGRAM_OAUTH_AUTHORIZE_URL'),
        issues
      });
      if (authorize !== undefined) settings.oauthAuthorizeUrl = authorize;
      const token = readUrl({ name: 'INSTAGRAM_OAUTH_TOKEN_URL', value: read('INSTAGRAM_OAUTH_TOKEN_URL'), issues });
      if (token !== undefined) settings.oauthTokenUrl = token;
    }

    if (Object.keys(settings).length > 0) platforms[platform] = settings;
  }

  if (issues.length > 0 || baseUrl === undefined || encryptionKey === undefined) {
    throw validationFailed({ issues, message: `Invalid environment: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}` });
  }
  return { baseUrl, encryptionKey, launchCaps, platforms };
}

function readUrl({
  name,
  value,
  required = false,
  issues,
}: {
  name: string;
  value: string | undefined;
  required?: boolean;
  issues: LetmepostErrorIssue[];
}): string | undefined {
  if (value === undefined) {
    if (required) issues.push({ field: name, rule: 'env.required', message: 'is required: the public http(s) URL of this deployment' });
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.push({ field: name, rule: 'env.url', message: 'must be an absolute http(s) URL' });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    issues.push({ field: name, rule: 'env.url', message: 'must use http or https' });
    return undefined;
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    issues.push({ field: name, rule: 'env.url', message: 'must not carry credentials, a query or a fragment' });
    return undefined;
  }
  return value.replace(/\/+$/, '');
}
