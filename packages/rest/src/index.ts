export { createRestHandler, serializeAccount, serializePublishResult } from './rest-handler.js';
export type { LetmepostApi, RestHandlerOptions } from './rest-handler.js';
export { toNodeListener } from './node-adapter.js';
export type { FetchHandler } from './node-adapter.js';
export { camelToSnake, snakeToCamel } from './case-conversion.js';
