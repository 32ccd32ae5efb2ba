import { spawnSync } from 'node:child_process';
import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

const importCostOptionsSchema = lazySchema(() =>
  z.object({
    entry: z.string().min(1, 'must name the module to import (a bare specifier, a path or a file URL)'),
    dependencies: z.array(z.string().min(1)).default([]),
    cwd: z.string().min(1, 'must be the folder whose node_modules resolves the specifiers'),
  }),
);

export interface ImportCost {
  /** zod schema instances constructed while `entry` was imported. */
  schemasBuilt: number;
  /** Node built-in modules first loaded while `entry` was imported (`net`, `internal/fs/promises`). */
  builtinsLoaded: string[];
}

/**
 * What importing `entry` costs a fresh process beyond its `dependencies` (imported first, zod
 * before them): how many zod schemas it builds and which Node built-ins it loads. Counts, not
 * times, so a test can hold a package to "nothing but its public schemas at import" without
 * timing anything; the timing is `bench/cold-import.mjs`.
 *
 * A zod 4 schema defines its `_zod` internals with `Object.defineProperty` once per instance, so
 * the child counts the distinct objects that get one. It checks that on a schema of its own
 * before answering and throws if zod builds schemas some other way, rather than report zero.
 */
export function measureImportCost(options: { entry: string; dependencies?: string[]; cwd: string }): ImportCost {
  const { entry, dependencies, cwd } = importCostOptionsSchema().parse(options);
  const script = `
    const { z } = await import('zod');
    for (const specifier of ${JSON.stringify(dependencies)}) await import(specifier);
    const defineProperty = Object.defineProperty;
    let seen = new WeakSet();
    let built = 0;
    Object.defineProperty = function (target, key, descriptor) {
      if (key === '_zod' && !seen.has(target)) { seen.add(target); built += 1; }
      return defineProperty(target, key, descriptor);
    };
    const loadedBefore = new Set(process.moduleLoadList);
    await import(${JSON.stringify(entry)});
    const builtinsLoaded = process.moduleLoadList
      .filter((name) => name.startsWith('NativeModule ') && !loadedBefore.has(name))
      .map((name) => name.slice('NativeModule '.length));
    const schemasBuilt = built;
    z.object({ probe: z.string() });
    Object.defineProperty = defineProperty;
    if (built - schemasBuilt < 2) throw new Error('zod no longer defines _zod with Object.defineProperty: the schema count would read zero');
    console.log(JSON.stringify({ schemasBuilt, builtinsLoaded }));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd });
  if (result.status !== 0) throw new Error(`measuring the import of ${entry} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as ImportCost;
}
