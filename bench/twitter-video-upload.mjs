// One measured run for twitter-video-upload-rss.mjs, in a process of its own (peak RSS is per
// process): publishes a video post whose file (BENCH_FILE, BENCH_VIDEO_BYTES bytes) goes through
// the X chunked upload (initialize / append / finalize) to BENCH_TWITTER_API_BASE_URL, with the
// provider's default connection pool. Prints one JSON line with what it measured.
//
// The file is handed over the way a user would: `fs.createReadStream(path)`. `BENCH_SOURCE=reused`
// swaps in a source that yields one reused 64 KiB buffer (no file, no per-read allocation).
import { createReadStream } from 'node:fs';
import { createTwitter } from '@letmepost/provider-twitter';
import { reusedBufferSource } from './reused-buffer-source.mjs';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES);
const FILE = process.env.BENCH_FILE;
const SOURCE = process.env.BENCH_SOURCE ?? 'file';
const MIB = 2 ** 20;

// X's baseline cap is 512 MiB; Premium accounts may upload more, which is what this exercises.
const provider = createTwitter({ apiBaseUrl: process.env.BENCH_TWITTER_API_BASE_URL, maxVideoBytes: 2 * SIZE });
const stream = SOURCE === 'reused' ? reusedBufferSource(SIZE) : createReadStream(FILE);
const rssBefore = process.memoryUsage().rss;
const peakRssBefore = process.resourceUsage().maxRSS * 1024;
// Sampled, so an approximation; says how much of the peak is ArrayBuffers (the segment buffer)
// rather than the JavaScript heap.
let peakArrayBuffers = 0;
let peakHeapUsed = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakArrayBuffers = Math.max(peakArrayBuffers, usage.arrayBuffers);
  peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
}, 25);
const started = performance.now();
const result = await provider.publish({
  post: { text: 'bench video', media: [{ stream, size: SIZE, mimeType: 'video/mp4' }] },
  auth: {
    type: 'account',
    account: { platformAccountId: '1500000000000000001', username: 'sandbox_x_user' },
    tokens: { accessToken: process.env.BENCH_ACCESS_TOKEN },
  },
  options: {},
});
clearInterval(sampler);
const peakRss = process.resourceUsage().maxRSS * 1024;
if (result.status !== 'pending' && result.status !== 'published') {
  throw new Error(`upload did not succeed: ${JSON.stringify(result.error ?? result)}`);
}
process.stdout.write(
  `${JSON.stringify({
    status: result.status,
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: Math.max(rssBefore, peakRssBefore) / MIB,
    peakRssMiB: peakRss / MIB,
    growthMiB: (peakRss - Math.max(rssBefore, peakRssBefore)) / MIB,
    peakArrayBuffersMiB: peakArrayBuffers / MIB,
    peakHeapUsedMiB: peakHeapUsed / MIB,
  })}\n`,
);
