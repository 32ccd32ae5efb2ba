export {
  runMultiProcessCasScenario,
  runMultiProcessLimitScenario,
  runMultiProcessLockScenario,
  type MultiProcessStoreOptions,
} from './store-scenarios.js';
export type { StoreModuleReference } from './store-module.js';
