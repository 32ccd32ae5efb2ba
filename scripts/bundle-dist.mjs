#!/usr/bin/env node
// Run after `tsc` in a package's build (its working directory): replaces the one-file-per-module
// JavaScript tsc wrote in dist/ with one file per entry point of the package's `exports` (plus a
// shared chunk when two entry points share modules, so module state such as the publish context
// exists once). Node resolves, reads and compiles every ES module of an import graph one by one,
// and for a package of forty small modules that is most of its cold import; one file is read and
// compiled once. Declarations (.d.ts) stay per module: types need no bundling. Imports of other
// packages (zod, undici, @letmepost/*) stay imports: nothing is copied from a dependency.
import { readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rolldown } from 'rolldown';

const packageDirectory = process.cwd();
const dist = join(packageDirectory, 'dist');
const manifest = JSON.parse(readFileSync(join(packageDirectory, 'package.json'), 'utf8'));

// `./dist/index.js` for `.`, `./dist/internal.js` for `./internal`, and so on.
const input = {};
for (const target of Object.values(manifest.exports)) {
  const file = typeof target === 'string' ? target : target.default;
  if (typeof file !== 'string' || !file.startsWith('./dist/') || !file.endsWith('.js')) continue;
  input[file.slice('./dist/'.length, -'.js'.length)] = join(packageDirectory, file);
}

const bundle = await rolldown({
  input,
  platform: 'node',
  // Bare specifiers and node: builtins are dependencies of the package: never inlined.
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  logLevel: 'warn',
});
const staging = join(packageDirectory, 'dist.bundle');
rmSync(staging, { recursive: true, force: true });
await bundle.write({ dir: staging, format: 'esm', chunkFileNames: '[name].js' });
await bundle.close();

for (const entry of readdirSync(dist, { recursive: true })) {
  if (String(entry).endsWith('.js')) rmSync(join(dist, String(entry)));
}
for (const file of readdirSync(staging)) renameSync(join(staging, file), join(dist, file));
rmSync(staging, { recursive: true, force: true });
