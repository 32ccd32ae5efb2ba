import { z } from 'zod';

const DAY_MS = 24 * 60 * 60 * 1000;

const monthlyVersionSchema = z.object({
  // `YYYYMM`, or `YYYYMM.NN` for a patch release of that month (LinkedIn's scheme).
  version: z.string().regex(/^\d{4}(0[1-9]|1[0-2])(\.\d{2})?$/, 'must be a monthly version such as 202607 or 202607.01'),
  supportedMonths: z.number().int().positive().max(120),
});

/**
 * When a monthly `YYYYMM` API version stops being served, counted conservatively from the first
 * day of its release month (LinkedIn serves each for "a minimum of one year" and has retired
 * them in the middle of the month a year later, e.g. 202511 on 2026-11-16).
 */
export function monthlyVersionRetirement(options: { version: string; supportedMonths?: number }): Date {
  const { version, supportedMonths } = monthlyVersionSchema.parse({ supportedMonths: 12, ...options });
  const year = Number(version.slice(0, 4));
  const month = Number(version.slice(4, 6)) - 1;
  return new Date(Date.UTC(year, month + supportedMonths, 1));
}

const sunsetSchema = z.object({
  platform: z.string().min(1),
  version: z.string().min(1),
  retiresAt: z.date(),
  today: z.date(),
  marginDays: z.number().int().nonnegative(),
  setting: z.string().min(1),
});

/**
 * The release guard for pinned platform API versions: throws when `version` is retired, or will
 * be within `marginDays` (default 60) of `today`, so a release never ships a default that dies in
 * its users' hands. `retiresAt` comes from the platform's scheme: `monthlyVersionRetirement` for
 * LinkedIn's `YYYYMM`, the published expiration date for Meta's Graph `vNN.0`. Tests pass the
 * real date, so the guard starts failing on its own as the date approaches.
 *
 * ```ts
 * assertVersionNotRetiring({
 *   platform: 'linkedin',
 *   version: LINKEDIN_DEFAULT_API_VERSION,
 *   retiresAt: monthlyVersionRetirement({ version: LINKEDIN_DEFAULT_API_VERSION }),
 *   today: new Date(),
 *   setting: 'LINKEDIN_DEFAULT_API_VERSION',
 * });
 * ```
 */
export function assertVersionNotRetiring(options: {
  platform: string;
  version: string;
  retiresAt: Date;
  today: Date;
  marginDays?: number;
  /** What to change: the constant or setting that pins the version. */
  setting: string;
}): { daysLeft: number } {
  const { platform, version, retiresAt, today, marginDays, setting } = sunsetSchema.parse({ marginDays: 60, ...options });
  const daysLeft = Math.floor((retiresAt.getTime() - today.getTime()) / DAY_MS);
  if (daysLeft < marginDays) {
    const when = retiresAt.toISOString().slice(0, 10);
    throw new Error(
      daysLeft < 0
        ? `The pinned ${platform} API version ${version} was retired around ${when}: move ${setting} to a current version.`
        : `The pinned ${platform} API version ${version} is retired around ${when}, in ${daysLeft} days (less than ${marginDays}): move ${setting} to a current version before releasing.`,
    );
  }
  return { daysLeft };
}
