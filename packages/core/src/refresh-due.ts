import { z } from 'zod';
import { accountIndexSchema, listWorkspaceAccountEntries, workspaceIdSchema } from './accounts.js';
import { grantMembers, loadedGrantFrom, type LoadedGrant } from './grants.js';
import { lazySchema } from './lazy-schema.js';
import { parseInput, toLetmepostError, type LetmepostContext } from './letmepost-context.js';
import { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { Refresher } from './refresh.js';
import { decodeRecord, forEachEntry, storeKeys } from './store-layout.js';
import type { ErrorCode } from './error-code.js';

/** Grants refreshed at the same time by one run; refreshes are network calls, not store reads. */
const DEFAULT_REFRESH_DUE_CONCURRENCY = 4;

export interface RefreshDueOptions {
  /**
   * Refresh every grant whose access token expires within this many milliseconds from now. Pick
   * it larger than the interval of the job that calls this, so no token dies between two runs
   * (a daily job with `within: 7 days` survives six missed runs).
   */
  within: number;
  /** Only this workspace's grants; every workspace when absent (an operator's job). */
  workspaceId?: string;
  /** Refreshes running at once. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface RefreshDueGrant {
  workspaceId: string;
  grantId: string;
  platform: PlatformId;
  /** The accounts drawing on the grant, for telling their users. */
  accountIds: string[];
}

export interface RefreshDueReport {
  /** Grants looked at. */
  checked: number;
  refreshed: Array<RefreshDueGrant & { expiresAt?: number }>;
  /**
   * Refreshes that failed. `reauthRequired: true` means the platform refused for good (the user
   * must reconnect); otherwise the grant is untouched and the next run tries again.
   */
  failed: Array<RefreshDueGrant & { code: ErrorCode; reauthRequired: boolean }>;
  /** Grants that expire within the window but cannot be refreshed: the user must reconnect before then. */
  notRefreshable: Array<RefreshDueGrant & { expiresAt: number }>;
  /** Grants already marked `reauth_required`. */
  needsReconnect: RefreshDueGrant[];
}

const refreshDueOptionsSchema = lazySchema(() =>
  z.object({
    within: z.number().int('must be a whole number of milliseconds').positive('must be positive'),
    workspaceId: workspaceIdSchema().optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
    signal: z.instanceof(AbortSignal).optional(),
  }),
);

/**
 * Keeps tokens alive between publishes. Platforms such as Meta issue long-lived tokens that die
 * after 60 days unless refreshed, and an account that is not published to for two months would
 * otherwise be lost; the host calls this from its own scheduler. Each due grant is refreshed
 * through the refresher every publish uses (single flight, store lease, re-read), so a run racing
 * a publish, or another instance's run, never spends a rotating refresh token twice.
 */
export function createRefreshDue({
  context,
  refresher,
}: {
  context: LetmepostContext;
  refresher: Refresher;
}): (options: RefreshDueOptions) => Promise<RefreshDueReport> {
  return async (options) => {
    const input = parseInput({ schema: refreshDueOptionsSchema(), input: options });
    const dueBefore = context.clock.now() + input.within;
    const report: RefreshDueReport = { checked: 0, refreshed: [], failed: [], notRefreshable: [], needsReconnect: [] };
    const concurrency = input.concurrency ?? DEFAULT_REFRESH_DUE_CONCURRENCY;

    const workspaces = input.workspaceId !== undefined ? [input.workspaceId] : await allWorkspaceIds({ context });
    for (const workspaceId of workspaces) {
      throwIfAborted({ signal: input.signal });
      // Records of the previous release become grants first, so their tokens are kept alive too.
      await listWorkspaceAccountEntries({ context, workspaceId });
      const due: LoadedGrant[] = [];
      await forEachEntry({
        store: context.store,
        prefix: storeKeys.grantsPrefix({ workspaceId }),
        visit: (entry) => {
          const grant = loadedGrantFrom(entry);
          report.checked += 1;
          const { expiresAt } = grant.record;
          if (grant.record.status === 'reauth_required') due.push(grant);
          else if (expiresAt !== undefined && expiresAt <= dueBefore) due.push(grant);
        },
      });

      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length) {
          throwIfAborted({ signal: input.signal });
          const grant = due[next++] as LoadedGrant;
          await refreshOne({ context, refresher, grant, dueBefore, report });
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    }

    context.log('info', 'letmepost.refresh_due.completed', {
      workspaceId: input.workspaceId,
      checked: report.checked,
      refreshed: report.refreshed.length,
      failed: report.failed.length,
      notRefreshable: report.notRefreshable.length,
      needsReconnect: report.needsReconnect.length,
    });
    return report;
  };
}

async function refreshOne({
  context,
  refresher,
  grant,
  dueBefore,
  report,
}: {
  context: LetmepostContext;
  refresher: Refresher;
  grant: LoadedGrant;
  dueBefore: number;
  report: RefreshDueReport;
}): Promise<void> {
  const { record } = grant;
  const described: RefreshDueGrant = {
    workspaceId: record.workspaceId,
    grantId: record.id,
    platform: record.platform,
    accountIds: await grantMembers({ context, workspaceId: record.workspaceId, grantId: record.id }),
  };
  if (record.status === 'reauth_required') {
    report.needsReconnect.push(described);
    return;
  }
  if (context.providers.get(record.platform)?.refresh === undefined) {
    report.notRefreshable.push({ ...described, expiresAt: record.expiresAt as number });
    return;
  }
  try {
    const outcome = await refresher.refreshGrantIfDue({ workspaceId: record.workspaceId, grantId: record.id, dueBefore });
    // Refreshed by someone else meanwhile (a publish, another instance) counts as kept alive.
    report.refreshed.push({ ...described, ...(outcome.expiresAt !== undefined && { expiresAt: outcome.expiresAt }) });
  } catch (error) {
    const failure = toLetmepostError({ error, platform: record.platform, fallbackCode: 'platform_unavailable' });
    report.failed.push({ ...described, code: failure.code, reauthRequired: failure.code === 'reauth_required' });
  }
}

/** Workspaces that own at least one account, from the global account index, in key order. */
async function allWorkspaceIds({ context }: { context: LetmepostContext }): Promise<string[]> {
  const workspaces = new Set<string>();
  await forEachEntry({
    store: context.store,
    prefix: storeKeys.accountIndexPrefix(),
    visit: (entry) => {
      workspaces.add(decodeRecord({ entry, schema: accountIndexSchema() }).workspaceId);
    },
  });
  return [...workspaces].sort();
}

function throwIfAborted({ signal }: { signal: AbortSignal | undefined }): void {
  if (signal?.aborted !== true) return;
  throw new LetmepostError({
    code: 'platform_unavailable',
    message: 'refreshDue was aborted; grants not reached yet are refreshed on the next run.',
    cause: signal.reason,
  });
}
