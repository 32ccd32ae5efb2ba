export { postgresTokenStore, type PostgresTokenStore, type PostgresTokenStoreOptions } from './postgres-token-store.js';
export { LATEST_SCHEMA_VERSION } from './postgres-schema.js';
export type { LockRetryOptions } from '@letmepost/core';
