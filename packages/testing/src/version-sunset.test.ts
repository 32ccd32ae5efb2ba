import { describe, expect, it } from 'vitest';
import { assertVersionNotRetiring, monthlyVersionRetirement } from './version-sunset.js';

const check = (options: { version: string; today: string; marginDays?: number }) =>
  assertVersionNotRetiring({
    platform: 'linkedin',
    version: options.version,
    retiresAt: monthlyVersionRetirement({ version: options.version }),
    today: new Date(options.today),
    setting: 'LINKEDIN_DEFAULT_API_VERSION',
    ...(options.marginDays === undefined ? {} : { marginDays: options.marginDays }),
  });

describe('monthlyVersionRetirement', () => {
  it('counts a year from the first day of the release month, patch releases included', () => {
    expect(monthlyVersionRetirement({ version: '202607' }).toISOString()).toBe('2027-07-01T00:00:00.000Z');
    expect(monthlyVersionRetirement({ version: '202512.01' }).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(monthlyVersionRetirement({ version: '202603', supportedMonths: 24 }).toISOString()).toBe('2028-03-01T00:00:00.000Z');
  });

  it.each(['2026-07', '20260701', '202613', 'v24.0', ''])('refuses %j as a monthly version', (version) => {
    expect(() => monthlyVersionRetirement({ version })).toThrow(/monthly version/);
  });
});

describe('assertVersionNotRetiring', () => {
  it('passes with more than the margin left and reports the days', () => {
    expect(check({ version: '202607', today: '2027-05-01T00:00:00Z' })).toEqual({ daysLeft: 61 });
  });

  it('fails inside the 60-day margin, naming the version, the date and what to change', () => {
    expect(() => check({ version: '202607', today: '2027-05-03T00:00:00Z' })).toThrow(
      'The pinned linkedin API version 202607 is retired around 2027-07-01, in 59 days (less than 60): move LINKEDIN_DEFAULT_API_VERSION to a current version before releasing.',
    );
  });

  it('fails for a version already retired', () => {
    expect(() => check({ version: '202511', today: '2026-12-05T00:00:00Z' })).toThrow(/202511 was retired around 2026-11-01/);
  });

  it('takes a published expiration date for other schemes (Meta Graph versions)', () => {
    const guard = (today: string) =>
      assertVersionNotRetiring({ platform: 'facebook', version: 'v25.0', retiresAt: new Date('2027-02-23T00:00:00Z'), today: new Date(today), setting: 'META_GRAPH_VERSION default' });
    expect(guard('2026-12-01T00:00:00Z').daysLeft).toBe(84);
    expect(() => guard('2027-01-01T00:00:00Z')).toThrow(/v25.0 is retired around 2027-02-23, in 53 days/);
  });

  it('honours a wider margin', () => {
    expect(() => check({ version: '202607', today: '2027-03-01T00:00:00Z', marginDays: 180 })).toThrow(/less than 180/);
  });
});
