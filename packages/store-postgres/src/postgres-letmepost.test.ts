import { runMultiProcessLetmepostSuite } from '@letmepost/testing';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';

await requireDatabase();

const schema = uniqueSchema('letmepost');
// The cross-process refresh and launch-cap guarantees of `createLetmepost` on this store.
runMultiProcessLetmepostSuite({
  name: 'postgres',
  store: {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'postgresTokenStore',
    storeOptions: { connectionString: DATABASE_URL, schema, poolConfig: { max: 10 } },
  },
  cleanup: () => dropSchema(schema),
});
