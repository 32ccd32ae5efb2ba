import { sharedVitestConfig } from '../../vitest.shared.mjs';

// The browser test starts a demo, a sandbox and Chromium: it needs more time than unit tests.
export default sharedVitestConfig({ include: ['test/**/*.test.mjs'], testTimeout: 60_000, hookTimeout: 60_000 });
