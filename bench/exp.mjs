// Streams a 1 GiB video file through the X chunked upload (initialize / append / finalize /
// status) to a loopback server in another process and reports this process's peak RSS. The
// claim under test: the upload never holds the file in memory (peak RSS < 100 MiB).
//
// The file is read the way a user would: `createReadStream(path)` with Node's default 64 KiB
// reads. `BENCH_SOURCE=reused` swaps in a source that yields one reused 64 KiB buffer instead,
// which separates what the library holds from the garbage a file stream leaves for V8 to collect
// (every fs read allocates a fresh buffer: 1 GiB of them over the upload).
//
// Baseline measured in the same run: undici-video-upload-rss.mjs, the same upload written with
// bare undici in a child process (peak RSS is per process), against the same sandbox, first.
// `BENCH_FLOOR=0` skips it.
import { execFile } from 'node:child_process';
import { closeSync, createReadStream, ftruncateSync, openSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import './probe.mjs';
import { createTwitter } from '@letmepost/provider-twitter';
import { startLoopbackSandbox } from './start-loopback.mjs';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES ?? 1024 * 1024 * 1024);
const SOURCE = process.env.BENCH_SOURCE ?? 'file';
const LIMIT_MIB = 100;
const MIB = 2 ** 20;

const file = join(tmpdir(), `letmepost-bench-${process.pid}.mp4`);
const descriptor = openSync(file, 'w');
ftruncateSync(descriptor, SIZE); // sparse: no disk space used, reads return zeros
closeSync(descriptor);

/** Zero-garbage control: the same bytes, from one buffer handed out again and again. */
async function* reusedBuffer() {
  const piece = new Uint8Array(64 * 1024);
  for (let offset = 0; offset < SIZE; offset += piece.byteLength) yield piece.subarray(0, Math.min(piece.byteLength, SIZE - offset));
}

/** Runs the bare-undici upload in its own process and returns what it measured. */
async function measureFloor(server) {
  const { stdout } = await promisify(execFile)(process.execPath, [new URL('./undici-video-upload-rss.mjs', import.meta.url).pathname], {
    env: { ...process.env, BENCH_TWITTER_API_BASE_URL: server.endpoints.twitter.apiBaseUrl, BENCH_ACCESS_TOKEN: server.accessToken },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1));
}

const server = await startLoopbackSandbox();
try {
  const floor = process.env.BENCH_FLOOR === '0' ? undefined : await measureFloor(server);
  // X's baseline cap is 512 MiB; Premium accounts may upload more, which is what this exercises.
  const provider = createTwitter({ ...server.endpoints.twitter, maxVideoBytes: 2 * SIZE });
  const stream = SOURCE === 'reused' ? reusedBuffer() : createReadStream(file);
  const rssBefore = process.memoryUsage().rss;
  const peakRssBefore = process.resourceUsage().maxRSS * 1024;
  // Sampled, so an approximation of the peak; it says how much of the growth is ArrayBuffers
  // (chunk buffers, fs read buffers awaiting collection) rather than the JavaScript heap.
  let peakArrayBuffers = 0;
  let peakHeapUsed = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    peakArrayBuffers = Math.max(peakArrayBuffers, usage.arrayBuffers);
    peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
  }, 25);
  const started = performance.now(); console.log('before', __probe.status()); const s0 = __probe.smaps(); let maxA = 0; const s2 = setInterval(() => { const s = __probe.status(); const a = Number(s.split(' ')[3]); if (a > maxA) { maxA = a; globalThis.__peak = s; globalThis.__sm = __probe.smaps(); } }, 20);
  let lastReported = 0;
  const result = await provider.publish({
    post: { text: 'bench video', media: [{ stream, size: SIZE, mimeType: 'video/mp4' }] },
    auth: { type: 'account', account: { platformAccountId: '1500000000000000001', username: 'sandbox_x_user' }, tokens: { accessToken: server.accessToken } },
    options: {},
    onProgress: ({ bytesSent, totalBytes }) => { if (bytesSent <= 24*MIB || bytesSent % (32*MIB) === 0) console.log('   at', bytesSent/MIB, __probe.status());
      if (bytesSent - lastReported >= 256 * MIB || bytesSent === totalBytes) {
        lastReported = bytesSent;
        process.stdout.write(`  uploaded ${(bytesSent / MIB).toFixed(0)} / ${(totalBytes / MIB).toFixed(0)} MiB\n`);
      }
    },
  });
  clearInterval(sampler); clearInterval(s2); console.log('peak', __peak); for (const [k, v] of __sm) { const d = v - (s0.get(k) ?? 0); if (Math.abs(d) > 500) console.log('  ', k, (d/1024).toFixed(1)); }
  const seconds = (performance.now() - started) / 1000;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const peakRssMiB = peakRss / MIB;
  const throughput = SIZE / MIB / seconds;
  process.stdout.write(
    `twitter chunked upload of ${(SIZE / 2 ** 30).toFixed(2)} GiB (source: ${SOURCE === 'reused' ? 'one reused buffer' : 'createReadStream, 64 KiB reads'}): ` +
      `status=${result.status} in ${seconds.toFixed(1)} s (${throughput.toFixed(0)} MiB/s)\n` +
      `  RSS before upload ${(rssBefore / MIB).toFixed(1)} MiB (peak so far ${(peakRssBefore / MIB).toFixed(1)}), ` +
      `peak RSS ${peakRssMiB.toFixed(1)} MiB, growth during upload ${((peakRss - Math.max(rssBefore, peakRssBefore)) / MIB).toFixed(1)} MiB\n` +
      `  sampled peaks during upload: ArrayBuffers ${(peakArrayBuffers / MIB).toFixed(1)} MiB, JS heap used ${(peakHeapUsed / MIB).toFixed(1)} MiB\n` +
      `  ratio peak/limit = ${(peakRssMiB / LIMIT_MIB).toFixed(2)} (limit ${LIMIT_MIB} MiB); file/peak = ${(SIZE / MIB / peakRssMiB).toFixed(1)}x\n`,
  );
  if (floor !== undefined) {
    const growth = (peakRss - Math.max(rssBefore, peakRssBefore)) / MIB;
    process.stdout.write(
      `  floor, same upload with bare undici (own process): RSS before ${floor.rssBeforeMiB.toFixed(1)} MiB, peak ${floor.peakRssMiB.toFixed(1)} MiB, ` +
        `growth ${floor.growthMiB.toFixed(1)} MiB; library/floor: peak ${(peakRssMiB / floor.peakRssMiB).toFixed(2)}, growth ${(growth / floor.growthMiB).toFixed(2)}\n`,
    );
  }
  if (result.status !== 'pending' && result.status !== 'published') {
    throw new Error(`upload did not succeed: ${JSON.stringify(result.error ?? result)}`);
  }
  if (peakRssMiB >= LIMIT_MIB) {
    process.exitCode = 1;
    process.stderr.write(`peak RSS ${peakRssMiB.toFixed(1)} MiB is not under ${LIMIT_MIB} MiB\n`);
  }
} finally {
  await server.stop();
  rmSync(file, { force: true });
}
