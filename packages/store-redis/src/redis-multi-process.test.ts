import { runMultiProcessStoreSuite } from '@letmepost/testing';
import { REDIS_URL, deletePrefix, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';
import { redisTokenStore } from './redis-token-store.js';

await requireRedis();

const keyPrefix = uniquePrefix('multi-process');
// Each process builds the store from the package's built entry point, exactly as a host would.
runMultiProcessStoreSuite({
  name: 'redis',
  store: {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'redisTokenStore',
    storeOptions: { url: REDIS_URL, keyPrefix },
  },
  readStore: redisTokenStore({ url: REDIS_URL, keyPrefix }),
  cleanup: () => deletePrefix(keyPrefix),
});
