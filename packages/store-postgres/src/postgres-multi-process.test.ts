import { runMultiProcessStoreSuite } from '@letmepost/testing';
import { DATABASE_URL, dropSchema, requireDatabase, uniqueSchema } from './__fixtures__/test-database.js';
import { postgresTokenStore } from './postgres-token-store.js';

await requireDatabase();

const schema = uniqueSchema('multi_process');
// Each process builds the store from the package's built entry point, exactly as a host would.
runMultiProcessStoreSuite({
  name: 'postgres',
  store: {
    storeModule: new URL('../dist/index.js', import.meta.url).href,
    storeFactory: 'postgresTokenStore',
    storeOptions: { connectionString: DATABASE_URL, schema, poolConfig: { max: 10 } },
  },
  readStore: postgresTokenStore({ connectionString: DATABASE_URL, schema }),
  cleanup: () => dropSchema(schema),
});
