export { redisTokenStore, type RedisTokenStore, type RedisTokenStoreOptions } from './redis-token-store.js';
export type { LockRetryOptions } from '@letmepost/core';
