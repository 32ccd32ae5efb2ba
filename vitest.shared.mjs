import { defineConfig } from 'vitest/config';

/**
 * The one vitest configuration every package uses. Besides the console reporter, each run writes
 * `.test-report.json`, which `scripts/summarize-tests.mjs` adds up into the closing
 * "N passed, N failed" line of `npm test`.
 */
export function sharedVitestConfig({ include = ['src/**/*.test.ts'], testTimeout = 20_000, hookTimeout = 30_000 } = {}) {
  return defineConfig({
    test: {
      include,
      testTimeout,
      hookTimeout,
      reporters: ['default', ['json', { outputFile: '.test-report.json' }]],
    },
  });
}
