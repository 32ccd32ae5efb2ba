import { sharedVitestConfig } from '../../vitest.shared.mjs';

export default sharedVitestConfig();
