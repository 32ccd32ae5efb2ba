import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measureImportCost } from './import-cost.js';

const cwd = fileURLToPath(new URL('..', import.meta.url));

describe('measureImportCost', () => {
  it('counts the schemas a module builds at import and the built-ins it loads, not what its dependencies did', () => {
    const entry = fileURLToPath(new URL('./__fixtures__/import-cost/builds-schemas.mjs', import.meta.url));
    expect(measureImportCost({ entry, cwd })).toEqual({ schemasBuilt: 2, builtinsLoaded: expect.arrayContaining(['net']) });
    // Imported first as a dependency, the same module costs the entry nothing.
    expect(measureImportCost({ entry: 'zod', dependencies: [entry], cwd })).toEqual({ schemasBuilt: 0, builtinsLoaded: [] });
  });

  it('names the field of a bad call', () => {
    expect(() => measureImportCost({ entry: '', cwd })).toThrow(/entry/);
  });
});
