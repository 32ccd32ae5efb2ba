import { assertVersionNotRetiring, monthlyVersionRetirement } from '@letmepost/testing';
import { describe, expect, it } from 'vitest';
import { LINKEDIN_DEFAULT_API_VERSION } from './linkedin-provider.js';

// LinkedIn serves each monthly version for about a year, then answers 426 NONEXISTENT_VERSION to
// every call. This runs against today's date, so it starts failing 60 days before the pinned
// default retires: move LINKEDIN_DEFAULT_API_VERSION (and the docs' default) before releasing.
describe('pinned LinkedIn-Version', () => {
  it('is not within 60 days of its retirement', () => {
    const { daysLeft } = assertVersionNotRetiring({
      platform: 'linkedin',
      version: LINKEDIN_DEFAULT_API_VERSION,
      retiresAt: monthlyVersionRetirement({ version: LINKEDIN_DEFAULT_API_VERSION }),
      today: new Date(),
      setting: 'LINKEDIN_DEFAULT_API_VERSION in packages/provider-linkedin/src/linkedin-provider.ts',
    });
    expect(daysLeft).toBeGreaterThanOrEqual(60);
  });
});
