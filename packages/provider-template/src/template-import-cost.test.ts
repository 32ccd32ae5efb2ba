import { fileURLToPath } from 'node:url';
import { measureImportCost } from '@letmepost/testing';
import { describe, expect, it } from 'vitest';

describe('importing @letmepost/provider-template', () => {
  it('builds only its public schemas and loads no Node built-in', () => {
    // Public, so built at import: the credential, account, options and settings schemas (19 zod
    // instances). Everything else is a lazySchema and built-ins are reached where they are used: a
    // schema or import added at module level shows up here (make it lazy; if it is public, raise the
    // figure).
    const cost = measureImportCost({
      entry: '@letmepost/provider-template',
      dependencies: ['@letmepost/core', '@letmepost/core/internal', '@letmepost/provider-utils'],
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(cost).toEqual({ schemasBuilt: 19, builtinsLoaded: [] });
  });
});
