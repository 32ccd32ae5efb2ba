// Cold import: how much longer a fresh `node` process takes to import @letmepost/core and one
// provider (X) than `node -e 0`, next to the same figure for twitter-api-v2 and for zod alone.
//
// Method: every sample is a fresh process (nothing cached in memory between samples; the files
// are in the page cache after the first round, as on a running server). Each round runs every
// scenario once, the order rotating each round so none always runs first; the headline is the
// median of the per-round differences against `node -e 0` of the same round. zod is a peer
// dependency the host installs and usually already imports for its own schemas, so the figure
// letmepost is judged by is the time it adds on top of zod (target: <= 50 ms); the full figure,
// zod included, is printed too.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGET_MS = 50;

// zod resolved the way @letmepost/core resolves it (the host's copy), and by the same
// condition: core imports zod as an ES module, which is zod's `import` entry (`index.js`), not
// the `require` one (`index.cjs`) that `require.resolve` gives. Until 2026-12-06 the baseline
// loaded `index.cjs` while letmepost loaded `index.js`; the two take about as long (three runs
// each way on the same machine gave the same spread), but the baseline is now the same file.
const requireFromCore = createRequire(import.meta.resolve('@letmepost/core').replace(/dist\/index\.js$/, 'package.json'));
const zodUrl = zodImportEntry({ requireEntry: requireFromCore.resolve('zod') });
const undiciUrl = import.meta.resolve('undici');

/** The file zod's `exports` map gives an `import` of the package, found from its `require` entry. */
function zodImportEntry({ requireEntry }) {
  let directory = dirname(requireEntry);
  while (!existsSync(join(directory, 'package.json'))) directory = dirname(directory);
  const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
  const root = typeof manifest.exports === 'object' && manifest.exports !== null ? (manifest.exports['.'] ?? manifest.exports) : undefined;
  const entry = typeof root?.import === 'string' ? root.import : (root?.import?.default ?? manifest.module ?? manifest.main);
  return pathToFileURL(join(directory, entry)).href;
}

const scenarios = {
  'node -e 0': null,
  zod: [zodUrl],
  'undici + zod': [undiciUrl, zodUrl],
  'twitter-api-v2': [import.meta.resolve('twitter-api-v2')],
  'letmepost core + provider-twitter': [import.meta.resolve('@letmepost/core'), import.meta.resolve('@letmepost/provider-twitter')],
};

function run(imports) {
  const args = imports === null ? ['-e', '0'] : ['--input-type=module', '-e', imports.map((url) => `await import(${JSON.stringify(url)});`).join('')];
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${result.status}`);
  return elapsed;
}

const names = Object.keys(scenarios);
// One untimed round, so the first timed one does not pay for reading the files from disk.
for (const name of names) run(scenarios[name]);
const added = Object.fromEntries(names.map((name) => [name, []]));
const baseline = [];
for (let round = 0; round < ROUNDS; round += 1) {
  const order = names.map((_, index) => names[(index + round) % names.length]);
  const measured = {};
  for (const name of order) measured[name] = run(scenarios[name]);
  baseline.push(measured['node -e 0']);
  for (const name of names) added[name].push(measured[name] - measured['node -e 0']);
}

const library = 'letmepost core + provider-twitter';
const overZod = added[library].map((value, round) => value - added.zod[round]);
const lines = [`cold import over ${ROUNDS} rounds (fresh processes); node -e 0 takes ${median(baseline).toFixed(1)} ms (median)`];
for (const name of names.slice(1)) {
  const ms = median(added[name]);
  lines.push(`  ${name.padEnd(36)} +${ms.toFixed(1).padStart(6)} ms over node -e 0 (ratio of wall ${(median(added[name].map((value, round) => (value + baseline[round]) / baseline[round]))).toFixed(2)})`);
}
const versusTwitterApi = median(added[library].map((value, round) => value / added['twitter-api-v2'][round]));
lines.push(
  `  letmepost adds ${median(overZod).toFixed(1)} ms on top of zod (target: <= ${TARGET_MS} ms); ` +
    `its whole import, zod included, is ${versusTwitterApi.toFixed(2)}x twitter-api-v2's`,
);
process.stdout.write(`${lines.join('\n')}\n`);
if (median(overZod) > TARGET_MS) process.exitCode = 1;
