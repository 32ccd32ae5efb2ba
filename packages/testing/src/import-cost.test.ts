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

describe('core and provider-utils on import', () => {
  // Public built-in modules only: zod's first schema reads `navigator` (loading Node's
  // `internal/navigator`), which is zod's doing and costs nothing measurable.
  const publicBuiltins = (cost: { builtinsLoaded: string[] }) => cost.builtinsLoaded.filter((name) => !name.startsWith('internal/'));

  it('core builds only the post schemas (postSchema, postItemSchema, mediaSchema) and loads no built-in', () => {
    const cost = measureImportCost({ entry: '@letmepost/core', cwd });
    expect({ schemasBuilt: cost.schemasBuilt, builtins: publicBuiltins(cost) }).toEqual({ schemasBuilt: 62, builtins: [] });
    expect(measureImportCost({ entry: '@letmepost/core/internal', dependencies: ['@letmepost/core'], cwd })).toEqual({ schemasBuilt: 0, builtinsLoaded: [] });
  });

  it('provider-utils builds only the base settings schemas providers extend, and loads no built-in', () => {
    const cost = measureImportCost({ entry: '@letmepost/provider-utils', dependencies: ['@letmepost/core', '@letmepost/core/internal'], cwd });
    expect({ schemasBuilt: cost.schemasBuilt, builtins: publicBuiltins(cost) }).toEqual({ schemasBuilt: 42, builtins: [] });
  });
});
