import { randomBytes } from 'node:crypto';
import { runGrantStoreFaultSuite } from '@letmepost/testing';
import { REDIS_URL, adminClient, deletePrefix, requireRedis, uniquePrefix } from './__fixtures__/test-redis.js';
import { redisTokenStore } from './redis-token-store.js';

await requireRedis();

// Issue 11 #3 and #4 on Redis, including the server dropping the store's connections
// (`CLIENT KILL`, as a failover would) while a rotating refresh is in flight.
const keyPrefix = uniquePrefix('grant-faults');
// Only this run's connections carry this name, so killing them touches nobody else's.
const connectionName = `lmp-faults-${randomBytes(6).toString('hex')}`;

runGrantStoreFaultSuite({
  name: 'redis',
  openStore: () => redisTokenStore({ url: REDIS_URL, keyPrefix, redisOptions: { connectionName } }),
  breakConnections: async () => {
    const admin = adminClient();
    try {
      const clients = String(await admin.client('LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${connectionName} `));
      if (clients.length === 0) throw new Error('no store connection was open to kill');
      for (const line of clients) {
        const id = /(?:^|\s)id=(\d+)/.exec(line)?.[1];
        if (id !== undefined) await admin.client('KILL', 'ID', id);
      }
    } finally {
      admin.disconnect();
    }
  },
  cleanup: () => deletePrefix(keyPrefix),
});
