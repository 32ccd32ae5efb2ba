export { SQLITE_SCHEMA_VERSION, sqliteTokenStore, type SqliteTokenStore, type SqliteTokenStoreOptions } from './sqlite-token-store.js';
