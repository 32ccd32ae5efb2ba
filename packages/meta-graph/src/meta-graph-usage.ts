import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * Graph reports throttling in usage headers, not `Retry-After`: `X-Business-Use-Case-Usage`
 * (Page tokens, Instagram, Threads) holds `estimated_time_to_regain_access` in minutes per
 * business object; `X-App-Usage` (app and user tokens) holds percentages and, on some hosts,
 * the same estimate. These are read here so every family member backs off the same way.
 */

const usageEntrySchema = lazySchema(() =>
  z.looseObject({
    type: z.string().optional(),
    call_count: z.number().optional(),
    total_cputime: z.number().optional(),
    total_time: z.number().optional(),
    estimated_time_to_regain_access: z.number().optional(),
  }),
);

/** `{"<business-or-page-id>":[{type, call_count, …, estimated_time_to_regain_access}]}` */
const businessUsageSchema = lazySchema(() => z.record(z.string(), z.array(usageEntrySchema())));

export interface GraphUsage {
  /** Highest percentage of any budget reported (call count, CPU time, total time). */
  highestPercent?: number;
  /** The longest wait any header asks for, in ms; absent when none says. */
  retryAfterMs?: number;
}

const MINUTE_MS = 60_000;

function parseJsonHeader(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function usageEntries(headers: Record<string, string>): Array<z.output<ReturnType<typeof usageEntrySchema>>> {
  const entries: Array<z.output<ReturnType<typeof usageEntrySchema>>> = [];
  const business = businessUsageSchema().safeParse(parseJsonHeader(headers['x-business-use-case-usage']));
  if (business.success) for (const list of Object.values(business.data)) entries.push(...list);
  const app = usageEntrySchema().safeParse(parseJsonHeader(headers['x-app-usage']));
  if (app.success) entries.push(app.data);
  return entries;
}

/** Reads `X-App-Usage` and `X-Business-Use-Case-Usage` (lowercase header names). Unparseable headers are ignored. */
export function readGraphUsage(options: { headers: Record<string, string> }): GraphUsage {
  const usage: GraphUsage = {};
  for (const entry of usageEntries(options.headers)) {
    for (const percent of [entry.call_count, entry.total_cputime, entry.total_time]) {
      if (percent !== undefined && (usage.highestPercent === undefined || percent > usage.highestPercent)) usage.highestPercent = percent;
    }
    const minutes = entry.estimated_time_to_regain_access;
    if (minutes !== undefined && minutes > 0) {
      const ms = Math.round(minutes * MINUTE_MS);
      if (usage.retryAfterMs === undefined || ms > usage.retryAfterMs) usage.retryAfterMs = ms;
    }
  }
  return usage;
}
