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
  /** LinkedIn: `LINKEDIN_OAUTH_BASE`, the host of its consent page and token endpoint. */
  oauthBaseUrl?: string;
  /** The consent page: `TWITTER_`, `INSTAGRAM_`, `FACEBOOK_`, `THREADS_OAUTH_AUTHORIZE_URL`. */
  oauthAuthorizeUrl?: string;
  /** Instagram: `INSTAGRAM_OAUTH_TOKEN_URL`. */
  oauthTokenUrl?: string;
  /** Bluesky: `BLUESKY_PLC_DIRECTORY_URL`. */
  plcDirectoryUrl?: string;
  /** Bluesky: `BLUESKY_VIDEO_SERVICE_URL`. */
  videoServiceUrl?: string;
  /** Bluesky: `BLUESKY_APPVIEW_URL`. */
  appViewUrl?: string;
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

type HostSetting = 'graphBase' | 'oauthBaseUrl' | 'oauthAuthorizeUrl' | 'oauthTokenUrl' | 'plcDirectoryUrl' | 'videoServiceUrl' | 'appViewUrl';

/**
 * Hosts a platform's provider can be moved to beyond `<PLATFORM>_API_BASE`, by variable. Each
 * maps to the provider setting of the same meaning, so the settings spread straight in.
 */
const hostVariables: Partial<Record<PlatformId, Readonly<Record<string, HostSetting>>>> = {
  // X's token and revocation endpoints live on its API host, so TWITTER_API_BASE moves them.
  twitter: { TWITTER_OAUTH_AUTHORIZE_URL: 'oauthAuthorizeUrl' },
  linkedin: { LINKEDIN_OAUTH_BASE: 'oauthBaseUrl' },
  // Meta's consent dialogs live on the web hosts; the token endpoints on the API hosts, which
  // FACEBOOK_API_BASE and THREADS_API_BASE move.
  facebook: { FACEBOOK_OAUTH_AUTHORIZE_URL: 'oauthAuthorizeUrl' },
  threads: { THREADS_OAUTH_AUTHORIZE_URL: 'oauthAuthorizeUrl' },
  instagram: {
    INSTAGRAM_GRAPH_BASE: 'graphBase',
    INSTAGRAM_OAUTH_AUTHORIZE_URL: 'oauthAuthorizeUrl',
    INSTAGRAM_OAUTH_TOKEN_URL: 'oauthTokenUrl',
  },
  bluesky: {
    BLUESKY_PLC_DIRECTORY_URL: 'plcDirectoryUrl',
    BLUESKY_VIDEO_SERVICE_URL: 'videoServiceUrl',
    BLUESKY_APPVIEW_URL: 'appViewUrl',
  },
};

/** OAuth host names any platform might be expected to read; those a platform does not read are refused. */
const oauthVariableSuffixes = ['_OAUTH_BASE', '_OAUTH_AUTHORIZE_URL', '_OAUTH_TOKEN_URL'] as const;

/**
 * Values copied from an example file rather than from the platform's developer portal
 * (`...`, `your-client-id`, `changeme`, `<client id>`...). Real client ids and secrets are
 * random strings, so these are refused at startup instead of at the user's first connect.
 */
const placeholderPattern =
  /^(?:\.{2,}|\u2026|x{3,}|\*+|<[^>]*>|\{\{.*\}\}|\$\{.*\}|(?:your|my)[-_ .]?(?:app[-_ .]?)?(?:client|consumer|api|app)?[-_ .]?(?:id|secret|key)?|(?:your|my)[-_ ].*|(?:change|replace|fill)[-_ ]?(?:me|this|in)|todo|tbd|placeholder|example|dummy|none|null|undefined|(?:client|consumer|app)[-_ ]?(?:id|secret|key))$/i;

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
    const clientId = readCredential({ name: names.id, env, issues });
    // An empty secret stays "unset": X and others allow public clients that have none.
    const clientSecret = read(names.secret) === undefined ? undefined : readCredential({ name: names.secret, env, issues });
    if (clientSecret !== undefined && clientId === undefined && env[names.id] === undefined) {
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

    const hosts = hostVariables[platform] ?? {};
    for (const [name, setting] of Object.entries(hosts)) {
      const value = readUrl({ name, value: read(name), issues });
      if (value !== undefined) settings[setting] = value;
    }
    for (const suffix of oauthVariableSuffixes) {
      const name = `${prefix}${suffix}`;
      if (hosts[name] === undefined && read(name) !== undefined) {
        const taken = Object.keys(hosts).filter((candidate) => candidate.includes('_OAUTH_'));
        issues.push({
          field: name,
          rule: 'env.unsupported',
          message: `is not read by the ${platform} provider${taken.length > 0 ? `; it takes ${taken.join(', ')}` : ''} (and ${prefix}_API_BASE)`,
        });
      }
    }

    if (platform === 'facebook') {
      const graphVersion = read('META_GRAPH_VERSION');
      if (graphVersion !== undefined) {
        if (/^v\d{1,3}\.\d{1,3}$/.test(graphVersion)) settings.graphVersion = graphVersion;
        else issues.push({ field: 'META_GRAPH_VERSION', rule: 'env.version', message: 'must look like v24.0' });
      }
    }
    if (Object.keys(settings).length > 0) platforms[platform] = settings;
  }

  if (issues.length > 0 || baseUrl === undefined || encryptionKey === undefined) {
    throw validationFailed({ issues, message: `Invalid environment: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}` });
  }
  return { baseUrl, encryptionKey, launchCaps, platforms };
}

/**
 * A client id or secret: absent when the variable is absent; refused, by name, when it is set
 * but empty (a template line left unfilled) or still holds an example's placeholder, since either would only fail later at the
 * platform's consent page with a message that does not say which variable is wrong.
 */
function readCredential({ name, env, issues }: { name: string; env: Env; issues: LetmepostErrorIssue[] }): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '') {
    issues.push({ field: name, rule: 'env.empty', message: "is set but empty: set it to your app's value from the platform's developer portal, or remove the line" });
    return undefined;
  }
  if (placeholderPattern.test(value) || /\s/.test(value)) {
    issues.push({ field: name, rule: 'env.placeholder', message: "still holds a placeholder: set it to your app's value from the platform's developer portal" });
    return undefined;
  }
  return value;
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
