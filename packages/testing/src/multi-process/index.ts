export {
  runMultiProcessCasScenario,
  runMultiProcessLimitScenario,
  runMultiProcessLockScenario,
  type MultiProcessStoreOptions,
} from './store-scenarios.js';
export {
  runMultiProcessGrantSiblingsScenario,
  runMultiProcessLaunchCapScenario,
  runMultiProcessRefreshLockHolderScenario,
  runMultiProcessRefreshScenario,
  type MultiProcessLetmepostOptions,
  type MultiProcessLetmepostReport,
  type RefreshLockHolderOptions,
  type RefreshLockHolderReport,
} from './letmepost-scenarios.js';
export { createLoopbackProvider, type LoopbackProviderSettings } from './loopback-provider.js';
export { startLoopbackPlatform, type LoopbackPlatform, type LoopbackPlatformOptions, type LoopbackPlatformStats } from './loopback-platform.js';
export type { StoreModuleReference } from './store-module.js';
export { runMultiProcessLetmepostSuite, runMultiProcessStoreSuite, type MultiProcessSuiteOptions } from './multi-process-suites.js';
export { runKeyRotationScenario, type KeyRotationScenarioOptions, type KeyRotationScenarioReport } from './key-rotation-scenario.js';
export {
  runNeverTwiceScenario,
  type ModuleExportReference,
  type NeverTwiceScenarioOptions,
  type NeverTwiceScenarioReport,
} from './never-twice-scenario.js';
