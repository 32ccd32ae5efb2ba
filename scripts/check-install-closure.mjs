// Checks the promise "installing only @letmepost/core, one provider and a store is enough, and
// nothing else is pulled in": walks each published package's production dependencies (workspace
// packages recursively) and fails if a provider or store drags in anything beyond the allowed set.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packages = new Map();
for (const folder of readdirSync(join(root, 'packages'))) {
  const manifest = JSON.parse(readFileSync(join(root, 'packages', folder, 'package.json'), 'utf8'));
  packages.set(manifest.name, manifest);
}

function closure(name, seen = new Set()) {
  const manifest = packages.get(name);
  for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (seen.has(dependency)) continue;
    seen.add(dependency);
    if (packages.has(dependency)) closure(dependency, seen);
  }
  return seen;
}

const base = ['@letmepost/core', 'zod'];
const providerAllowed = new Set([...base, '@letmepost/provider-utils', 'undici', 'oauth4webapi']);
// The Meta family (Facebook, Instagram, Threads) shares its Graph dialect, which adds nothing else.
const metaFamilyAllowed = new Set([...providerAllowed, '@letmepost/meta-graph']);
const allowedByPrefix = [
  ['@letmepost/meta-graph', providerAllowed],
  ['@letmepost/provider-facebook', metaFamilyAllowed],
  ['@letmepost/provider-instagram', metaFamilyAllowed],
  ['@letmepost/provider-threads', metaFamilyAllowed],
  ['@letmepost/provider-', providerAllowed],
  ['@letmepost/store-sqlite', new Set(base)],
  ['@letmepost/store-postgres', new Set([...base, 'pg'])],
  ['@letmepost/store-redis', new Set([...base, 'ioredis'])],
];

let failed = false;
for (const name of packages.keys()) {
  if (name === '@letmepost/provider-utils') continue;
  const rule = allowedByPrefix.find(([prefix]) => name.startsWith(prefix));
  if (!rule) continue;
  const extra = [...closure(name)].filter((dependency) => !rule[1].has(dependency));
  if (extra.length > 0) {
    failed = true;
    process.stderr.write(`${name} pulls in more than it should: ${extra.join(', ')}\n`);
  } else {
    process.stdout.write(`${name}: ${[...closure(name)].sort().join(', ')}\n`);
  }
}
process.exit(failed ? 1 : 0);
