import { z } from 'zod';
import { accountNotFound, findAccount, toProviderAccount, workspaceIdSchema } from './accounts.js';
import { lazySchema } from './lazy-schema.js';
import { issuesFromZod, parseInput, requireProvider, toLetmepostError, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';
import { reauthRequired, secretsOf, type ActiveAccount, type Refresher } from './refresh.js';
import { storeIdSchema } from './store-layout.js';

/** Bound on one page of targets, refresh included. */
const LIST_TARGETS_TIMEOUT_MS = 30_000;

/** One place a post can go inside an account; pass `options` as the publish target's `options`. */
export interface AccountTarget {
  id: string;
  name: string;
  /** Lowercase, e.g. `board`, `channel`, `subreddit`. */
  kind: string;
  /** Checked against the provider's `optionsSchema`: valid as `{ accountId, options }` in a publish. */
  options: unknown;
  /** Non-secret facts a picker may show (privacy, flairs). */
  details?: Record<string, unknown>;
}

export interface AccountTargetPage {
  accountId: string;
  platform: PlatformId;
  targets: AccountTarget[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface AccountTargetsApi {
  /**
   * What a post can go to inside a connected account (Pinterest boards, Discord or Slack
   * channels, subreddits with flairs), a page at a time. The account's tokens are refreshed first
   * when due, exactly as for a publish. `not_supported` for platforms without destinations.
   */
  listTargets(options: { workspaceId: string; accountId: string; cursor?: string; signal?: AbortSignal }): Promise<AccountTargetPage>;
}

const listTargetsSchema = lazySchema(() =>
  z.object({
    workspaceId: workspaceIdSchema(),
    accountId: storeIdSchema({ maxLength: 256 }),
    cursor: z.string().min(1, 'must not be empty').max(4096).optional(),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

/** What a provider's `listTargets` must answer; anything else is the platform's answer misread. */
const targetPageSchema = lazySchema(() =>
  z.object({
    targets: z
      .array(
        z.object({
          id: z.string().min(1),
          name: z.string(),
          kind: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a lowercase identifier'),
          options: z.unknown(),
          details: z.record(z.string(), z.unknown()).optional(),
        }),
      )
      .max(1000),
    nextCursor: z.string().min(1).max(4096).optional(),
  }),
);

export function createAccountTargetsApi({ context, refresher }: { context: LetmepostContext; refresher: Refresher }): AccountTargetsApi {
  return {
    async listTargets(options) {
      const { workspaceId, accountId, cursor, signal } = parseInput({ schema: listTargetsSchema(), input: options });
      const loaded = await findAccount({ context, accountId, workspaceId });
      if (loaded === null) throw accountNotFound({ accountId, field: 'accountId' });
      const { record } = loaded;
      const provider = requireProvider({ context, platform: record.platform });
      const listTargets = provider.listTargets;
      if (listTargets === undefined) {
        throw new LetmepostError({
          code: 'not_supported',
          platform: record.platform,
          message: `${provider.displayName} accounts have no destinations to choose from: a post goes to the account itself.`,
        });
      }
      if (loaded.grant === null || loaded.grant.record.status === 'reauth_required') {
        throw reauthRequired({ platform: record.platform, accountId: record.id });
      }

      const networkSignal = signal
        ? AbortSignal.any([signal, AbortSignal.timeout(LIST_TARGETS_TIMEOUT_MS)])
        : AbortSignal.timeout(LIST_TARGETS_TIMEOUT_MS);
      const call = (active: ActiveAccount): Promise<unknown> => {
        const account = toProviderAccount(active.loaded.record);
        return listTargets.call(provider, {
          auth: { type: 'account', account, tokens: active.tokens },
          account,
          ...(cursor !== undefined && { cursor }),
          signal: networkSignal,
        });
      };

      let knownSecrets: string[] = [];
      let page: unknown;
      try {
        // The same refresh path as a publish: due tokens are refreshed first, and a token the
        // platform rejects although our clock did not is refreshed once and the read retried.
        let active = await refresher.ensureFresh({ loaded });
        knownSecrets = secretsOf(active);
        try {
          page = await call(active);
        } catch (error) {
          if (!(LetmepostError.isInstance(error) && error.code === 'auth_expired')) throw error;
          active = await refresher.refreshAfterRejection({ accountId, workspaceId, rejectedAccessToken: active.tokens.accessToken });
          knownSecrets = [...knownSecrets, ...secretsOf(active)];
          page = await call(active);
        }
      } catch (error) {
        throw toLetmepostError({ error, platform: record.platform, fallbackCode: 'platform_unavailable', knownSecrets });
      }
      return { accountId, platform: record.platform, ...checkTargetPage({ provider, page }) };
    },
  };
}

/**
 * A page as the provider described it, checked: every target's `options` must be accepted by the
 * provider's own `optionsSchema`, so what a picker offers can always be published to.
 */
function checkTargetPage({ provider, page }: { provider: AnyProvider; page: unknown }): Omit<AccountTargetPage, 'accountId' | 'platform'> {
  const parsed = targetPageSchema().safeParse(page);
  if (!parsed.success) throw unreadablePage({ provider, issues: issuesFromZod({ error: parsed.error, pathPrefix: 'listTargets' }) });
  const issues = parsed.data.targets.flatMap((target, index) => {
    const options = provider.optionsSchema.safeParse(target.options);
    return options.success ? [] : issuesFromZod({ error: options.error, pathPrefix: `listTargets.targets.${index}.options` });
  });
  if (issues.length > 0) throw unreadablePage({ provider, issues });
  return {
    targets: parsed.data.targets.map((target) => ({
      id: target.id,
      name: target.name,
      kind: target.kind,
      options: target.options,
      ...(target.details !== undefined && { details: target.details }),
    })),
    ...(parsed.data.nextCursor !== undefined && { nextCursor: parsed.data.nextCursor }),
  };
}

function unreadablePage({ provider, issues }: { provider: AnyProvider; issues: ReturnType<typeof issuesFromZod> }): LetmepostError {
  return new LetmepostError({
    code: 'platform_unavailable',
    platform: provider.id,
    retryable: false,
    message: `The ${provider.displayName} provider described targets letmepost cannot use.`,
    issues,
  });
}
