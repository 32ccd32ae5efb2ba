// Install footprint: what a host's node_modules grows by when it installs @letmepost/core,
// @letmepost/provider-utils and @letmepost/provider-twitter as they would be published, split
// into letmepost's own packages, zod (a peer dependency: the host installs it, and most hosts
// already have it) and the other dependencies; twitter-api-v2 installed the same way alongside.
//
// Method: `pnpm pack` each package (workspace ranges become versions, `files` applies, as on
// publish), then `npm install` the tarballs into an empty temporary project, preferring npm's
// cache so a second run needs no network. Sizes are the sum of file sizes (what `du
// --apparent-size` reports), so the figure does not depend on the file system's block size.
// Target: what letmepost adds to a host that has zod (its own packages and their other
// dependencies) <= 5 MiB.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TARGET_BYTES = 5 * 1024 * 1024;
const root = new URL('..', import.meta.url).pathname;
const packages = ['core', 'provider-utils', 'provider-twitter'];
const work = mkdtempSync(join(tmpdir(), 'letmepost-footprint-'));

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function sizeOf(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += sizeOf(join(path, entry));
  return total;
}

/** Installs `specs` into a fresh project and returns each top-level package's size in bytes. */
function install(name, specs) {
  const project = join(work, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `footprint-${name}`, private: true }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...specs], { cwd: project });
  const modules = join(project, 'node_modules');
  const sizes = {};
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((inner) => `${entry}/${inner}`) : [entry];
    for (const packageName of scoped) sizes[packageName] = sizeOf(join(modules, packageName));
  }
  return sizes;
}

const mebibytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const sum = (sizes, keep) => Object.entries(sizes).filter(([name]) => keep(name)).reduce((total, [, bytes]) => total + bytes, 0);

try {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  for (const folder of packages) run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, 'packages', folder) });
  const specs = readdirSync(tarballs).map((file) => join(tarballs, file));
  const letmepost = install('letmepost', specs);
  const twitterApi = install('twitter-api-v2', ['twitter-api-v2']);

  const own = sum(letmepost, (name) => name.startsWith('@letmepost/'));
  const zod = sum(letmepost, (name) => name === 'zod');
  const others = sum(letmepost, (name) => !name.startsWith('@letmepost/') && name !== 'zod');
  const lines = [
    `install footprint of ${packages.map((folder) => `@letmepost/${folder}`).join(' + ')} (packed tarballs, npm install):`,
    `  letmepost's own packages ${mebibytes(own)} (${packages.map((folder) => `${folder} ${mebibytes(letmepost[`@letmepost/${folder}`] ?? 0)}`).join(', ')})`,
    `  dependencies ${mebibytes(others)} (${Object.entries(letmepost).filter(([name]) => !name.startsWith('@letmepost/') && name !== 'zod').map(([name, bytes]) => `${name} ${mebibytes(bytes)}`).join(', ')})`,
    `  zod (peer dependency, the host's own) ${mebibytes(zod)}`,
    `  total ${mebibytes(own + others + zod)}, without zod ${mebibytes(own + others)}; twitter-api-v2 installed the same way: ${mebibytes(sum(twitterApi, () => true))}`,
    `  target: what letmepost adds to a host that has zod <= ${mebibytes(TARGET_BYTES)}: ${mebibytes(own + others)} (${((own + others) / TARGET_BYTES).toFixed(2)} of it)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (own + others > TARGET_BYTES) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
