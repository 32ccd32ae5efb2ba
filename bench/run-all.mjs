// `npm run bench`: runs every benchmark, each in its own process (so one's memory does not
// colour another's), prints their reports, and exits non-zero if any missed its target.
import { spawnSync } from 'node:child_process';

// publish-alone.mjs, publish-footprint.mjs and undici-warmup-rss.mjs have no target: the first two
// explain the publish overhead's figures, the last part of the upload benchmark's peak.
const benches = [
  'cold-import.mjs',
  'install-footprint.mjs',
  'publish-overhead.mjs',
  'letmepost-publish-overhead.mjs',
  'publish-alone.mjs',
  'publish-footprint.mjs',
  'publish-fan-out.mjs',
  'twitter-video-upload-rss.mjs',
  'undici-warmup-rss.mjs',
];
const missed = [];
for (const bench of benches) {
  process.stdout.write(`\n== ${bench}\n`);
  const result = spawnSync(process.execPath, [new URL(bench, import.meta.url).pathname], { stdio: 'inherit' });
  if (result.status !== 0) missed.push(bench);
}
process.stdout.write(missed.length === 0 ? '\nevery benchmark met its target\n' : `\nmissed their target: ${missed.join(', ')}\n`);
process.exit(missed.length === 0 ? 0 : 1);
