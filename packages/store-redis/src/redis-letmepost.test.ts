import { runMultiProcessLetmepostSuite } from '@letmepost/testing';
import { REDIS_URL, deletePrefix, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';

await requireRedis();

const keyPrefix = uniquePrefix('letmepost');
// The cross-process refresh and launch-cap guarantees of `createLetmepost` on this store.
runMultiProcessLetmepostSuite({
  name: 'redis',
  store: {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'redisTokenStore',
    storeOptions: { url: REDIS_URL, keyPrefix },
  },
  cleanup: () => deletePrefix(keyPrefix),
});
