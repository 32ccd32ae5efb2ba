import { z } from 'zod';
import { createAccountTargetsApi, type AccountTargetsApi } from './account-targets.js';
import { createAccountsApi, platformSchema, type AccountsApi } from './accounts.js';
import { createAppCredentialsApi, type AppCredentialsApi } from './app-credentials.js';
import { systemClock, type Clock } from './clock.js';
import { createConnectApi, type ConnectApi } from './connect.js';
import { createEnvelopeCipher, parseEncryptionKey, type EncryptionKeyInput, type Keyring } from './envelope-encryption.js';
import { DEFAULT_IDEMPOTENCY_TTL_MS } from './idempotency.js';
import { DEFAULT_LAUNCH_CAPS, DAY_MS } from './launch-cap.js';
import { lazySchema } from './lazy-schema.js';
import {
  createLogFunction,
  parseInput,
  type LaunchCap,
  type LetmepostContext,
  type LetmepostPolicy,
} from './letmepost-context.js';
import { silentLogger, type Logger } from './logger.js';
import { isPlatformId, type PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { mediaStagingSchema, type MediaStaging } from './media-staging.js';
import { createPublish, credentialsDigestOf, type PublishOptions } from './publish.js';
import type { PublishResult } from './publish-result.js';
import { createRefresher } from './refresh.js';
import { createRefreshDue, type RefreshDueOptions, type RefreshDueReport } from './refresh-due.js';
import { createResume, DEFAULT_RESUME_TOKEN_TTL_MS, type ResumeOptions } from './resume.js';
import { redirectUris, type RedirectUri } from './redirect-uris.js';
import type { TokenStore } from './token-store.js';

export interface CreateLetmepostOptions {
  /** One object per platform, from `create<Brand>(settings)`; each id at most once. */
  providers: readonly AnyProvider[];
  /** Where accounts, sessions, app credentials and counters live. */
  store: TokenStore;
  /** `KEK_MASTER` (base64 of 32 bytes) or a keyring with rotation history. */
  encryptionKey: EncryptionKeyInput | Keyring;
  /**
   * Public origin (and optional path) of the host's REST mount. Redirect URIs are
   * `${baseUrl}/v1/accounts/oauth/<platform>/callback` and must be registered with each app.
   */
  baseUrl: string;
  clock?: Clock;
  logger?: Logger;
  policy?: LetmepostPolicy;
  /**
   * Per-account budgets of billable posts in a rolling window, merged over the defaults
   * (X: 50 per 30 days). `false` removes a platform's cap; `windowMs` defaults to 30 days.
   */
  launchCaps?: Partial<Record<PlatformId, { limit: number; windowMs?: number } | false>>;
  /**
   * At most this many targets of one publish in flight at once. Default: no limit — targets are
   * distinct accounts, so they all go out together and a publish takes as long as its slowest
   * target.
   */
  publishConcurrency?: number;
  /**
   * Per-platform limits on targets of one publish in flight at once, for a platform whose app-wide
   * rate limits punish bursts (e.g. `{ twitter: 4 }`). Default: none of the built-in providers
   * needs one.
   */
  platformConcurrency?: Partial<Record<PlatformId, number>>;
  /** How long an idempotency key remembers its results. Default 24 hours. */
  idempotencyTtlMs?: number;
  /** How long the resume token of a `pending` result can be used. Default 24 hours. */
  resumeTokenTtlMs?: number;
  /**
   * Turns bytes and streams into public URLs for providers that pull media
   * (`capabilities.media.ingest === 'pull'`). Without it, such media is refused in preflight
   * (rule `media.staging_not_configured`). Not used for providers that upload bytes themselves.
   */
  mediaStaging?: MediaStaging;
  /**
   * Origins that `connect.start`'s `returnTo` may point at, e.g. `['https://app.example.com']`.
   * The OAuth callback sends the user's browser to `returnTo`, so if end users can choose it,
   * list your own origins here; otherwise anyone could turn your callback into a redirect to
   * their site. Unset: any absolute http(s) URL (fine while only your backend picks `returnTo`).
   */
  returnToOrigins?: readonly string[];
}

export interface Letmepost {
  connect: ConnectApi;
  accounts: AccountsApi &
    AccountTargetsApi & {
      /** Refreshes every grant whose token expires within `within` ms; call it from a scheduler. */
      refreshDue(options: RefreshDueOptions): Promise<RefreshDueReport>;
    };
  appCredentials: AppCredentialsApi;
  /** Publishes one post to every target; results come back in target order. */
  publish(options: PublishOptions): Promise<PublishResult[]>;
  /**
   * Finishes a `pending` publish from its `resumeToken`: checks the platform (read-only) and,
   * once it is ready, does the remaining write. Answers `pending` again (with a fresh token and
   * `checkAfterMs`) while the platform is still processing. A finished publish answers its stored
   * result without a request to the platform, however often it is resumed.
   */
  resume(options: ResumeOptions): Promise<PublishResult>;
  /**
   * The redirect URI to register with each installed OAuth provider's app, from `baseUrl`
   * (setup help: print it at startup). Providers connected with credentials are not listed.
   */
  redirectUris(): RedirectUri[];
}

const isFunction = (value: unknown): boolean => typeof value === 'function';
const hasMethods =
  (...names: string[]) =>
  (value: unknown): boolean =>
    value !== null && typeof value === 'object' && names.every((name) => isFunction((value as Record<string, unknown>)[name]));

const isZodSchema = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && isFunction((value as { safeParse?: unknown }).safeParse);

const providerSchema = lazySchema(() =>
  z.custom<AnyProvider>(
    (value) =>
      hasMethods('validate', 'publish')(value) &&
      (value as AnyProvider).specificationVersion === 'v2' &&
      isPlatformId((value as AnyProvider).id) &&
      isZodSchema((value as AnyProvider).credentialSchema) &&
      isZodSchema((value as AnyProvider).accountSchema) &&
      isZodSchema((value as AnyProvider).optionsSchema),
    'must be a provider from a @letmepost/provider-* package (specificationVersion "v2"); a provider built for "v1" needs its package upgraded',
  ),
);

const optionsSchema = lazySchema(() =>
  z.object({
    providers: z.array(providerSchema()).superRefine((providers, refinement) => {
      const seen = new Set<string>();
      providers.forEach((provider, index) => {
        if (seen.has(provider.id)) {
          refinement.addIssue({
            code: 'custom',
            path: [index, 'id'],
            message: `duplicate provider id "${provider.id}"; register each platform once`,
          });
        }
        seen.add(provider.id);
      });
    }),
    store: z.custom<TokenStore>(
      hasMethods('get', 'set', 'delete', 'list', 'increment', 'withLock'),
      'must implement TokenStore (get, set, delete, list, increment, withLock)',
    ),
    encryptionKey: z.unknown(),
    baseUrl: z
      .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
      // Checks run on after a failed format check too, so this one must cope with any string.
      .refine((value) => !URL.canParse(value) || (!value.includes('?') && !value.includes('#')), 'must not contain a query or fragment'),
    clock: z.custom<Clock>(hasMethods('now'), 'must have a now() method').optional(),
    logger: z.custom<Logger>(hasMethods('log'), 'must have a log() method').optional(),
    policy: z
      .object({
        canStoreAppCredentials: z.custom<NonNullable<LetmepostPolicy['canStoreAppCredentials']>>(isFunction, 'must be a function').optional(),
      })
      .loose()
      .optional(),
    launchCaps: z
      .partialRecord(
        platformSchema(),
        z.union([
          z.literal(false),
          z.object({
            limit: z.number().int().nonnegative(),
            windowMs: z.number().int().positive().optional(),
          }),
        ]),
      )
      .optional(),
    publishConcurrency: z.number().int().min(1).max(100).optional(),
    platformConcurrency: z.partialRecord(platformSchema(), z.number().int().min(1).max(100)).optional(),
    idempotencyTtlMs: z.number().int().positive().optional(),
    resumeTokenTtlMs: z.number().int().positive().optional(),
    mediaStaging: mediaStagingSchema().optional(),
    returnToOrigins: z
      .array(
        z
          .url({ protocol: /^https?$/, message: 'must be an absolute http(s) origin' })
          // As for baseUrl, this check also runs after a failed format check.
          .refine((value) => !URL.canParse(value) || new URL(value).origin === value, 'must be an origin: scheme, host and port only, like https://app.example.com'),
      )
      .optional(),
  }),
);

/**
 * The orchestrator: connect flows, accounts, workspace OAuth apps, refresh and publish fan-out,
 * on top of stateless providers and a host-owned store. It holds no network code of its own and
 * no state beyond in-flight refreshes; any number of instances may share one store.
 *
 * ```ts
 * const letmepost = createLetmepost({
 *   providers: [createLinkedIn({ clientId, clientSecret })],
 *   store: sqliteTokenStore({ path: 'letmepost.db' }),
 *   encryptionKey: process.env.KEK_MASTER!,
 *   baseUrl: 'https://app.example.com',
 * });
 * const { url } = await letmepost.connect.start({ workspaceId, platform: 'linkedin', allowQuickstartCreds: true });
 * // ...the browser comes back to `${baseUrl}/v1/accounts/oauth/linkedin/callback?code=…&state=…`
 * const [account] = await letmepost.connect.complete({ platform: 'linkedin', callbackUrl: request.url });
 * const [result] = await letmepost.publish({ workspaceId, post: { text: 'Hello' }, targets: [{ accountId: account.id }] });
 * ```
 */
export function createLetmepost(options: CreateLetmepostOptions): Letmepost {
  const input = parseInput({ schema: optionsSchema(), input: options });
  const keyring = parseEncryptionKey(input.encryptionKey as EncryptionKeyInput | Keyring);

  const launchCaps = new Map<PlatformId, LaunchCap>();
  for (const [platform, cap] of Object.entries(DEFAULT_LAUNCH_CAPS)) launchCaps.set(platform as PlatformId, cap);
  for (const [platform, cap] of Object.entries(input.launchCaps ?? {})) {
    if (cap === false) launchCaps.delete(platform as PlatformId);
    else if (cap !== undefined) launchCaps.set(platform as PlatformId, { limit: cap.limit, windowMs: cap.windowMs ?? 30 * DAY_MS });
  }

  const context: LetmepostContext = {
    providers: new Map(input.providers.map((provider) => [provider.id, provider])),
    store: input.store,
    cipher: createEnvelopeCipher({ keyring }),
    baseUrl: input.baseUrl.replace(/\/+$/, ''),
    clock: input.clock ?? systemClock,
    log: createLogFunction({ logger: input.logger ?? silentLogger }),
    // The host's own object, not the parsed copy: its methods may rely on `this`.
    policy: options.policy ?? {},
    launchCaps,
    ...(input.publishConcurrency !== undefined && { publishConcurrency: input.publishConcurrency }),
    platformConcurrency: new Map(
      Object.entries(input.platformConcurrency ?? {}).filter((entry): entry is [PlatformId, number] => entry[1] !== undefined),
    ),
    idempotencyTtlMs: input.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS,
    resumeTokenTtlMs: input.resumeTokenTtlMs ?? DEFAULT_RESUME_TOKEN_TTL_MS,
    // The host's own object, not the parsed copy: its methods may rely on `this`.
    ...(options.mediaStaging !== undefined && { mediaStaging: options.mediaStaging }),
    ...(input.returnToOrigins === undefined ? {} : { returnToOrigins: new Set(input.returnToOrigins) }),
  };
  const refresher = createRefresher({ context });

  return {
    connect: createConnectApi({ context }),
    accounts: {
      ...createAccountsApi({ context }),
      ...createAccountTargetsApi({ context, refresher }),
      refreshDue: createRefreshDue({ context, refresher }),
    },
    appCredentials: createAppCredentialsApi({ context }),
    publish: createPublish({ context, refresher }),
    resume: createResume({ context, refresher, credentialsDigestOf }),
    redirectUris: () => redirectUris({ baseUrl: context.baseUrl, providers: input.providers }),
  };
}
