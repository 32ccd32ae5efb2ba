// Streams a 1 GiB video file through the X chunked upload (initialize / append / finalize /
// status) to a loopback server in another process and reports this process's peak RSS. The
// claim under test: the upload never holds the file in memory (peak RSS < 100 MiB).
import { closeSync, createReadStream, ftruncateSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTwitter } from '@letmepost/provider-twitter';
import { startLoopbackSandbox } from './start-loopback.mjs';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES ?? 1024 * 1024 * 1024);
const LIMIT_MIB = 100;

const file = join(tmpdir(), `letmepost-bench-${process.pid}.mp4`);
const descriptor = openSync(file, 'w');
ftruncateSync(descriptor, SIZE); // sparse: no disk space used, reads return zeros
closeSync(descriptor);

const server = await startLoopbackSandbox();
try {
  const provider = createTwitter({ ...server.endpoints.twitter });
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let lastReported = 0;
  const result = await provider.publish({
    post: { text: 'bench video', media: [{ stream: createReadStream(file, { highWaterMark: 1024 * 1024 }), size: SIZE, mimeType: 'video/mp4' }] },
    auth: { type: 'account', account: { platformAccountId: '1500000000000000001', username: 'sandbox_x_user' }, tokens: { accessToken: server.accessToken } },
    options: {},
    onProgress: ({ bytesSent, totalBytes }) => {
      if (bytesSent - lastReported >= 256 * 1024 * 1024 || bytesSent === totalBytes) {
        lastReported = bytesSent;
        process.stdout.write(`  uploaded ${(bytesSent / 2 ** 20).toFixed(0)} / ${(totalBytes / 2 ** 20).toFixed(0)} MiB\n`);
      }
    },
  });
  const seconds = (performance.now() - started) / 1000;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const throughput = SIZE / 2 ** 20 / seconds;
  process.stdout.write(
    `twitter chunked upload of ${(SIZE / 2 ** 30).toFixed(2)} GiB: status=${result.status} in ${seconds.toFixed(1)} s (${throughput.toFixed(0)} MiB/s)\n` +
      `  RSS before upload ${(rssBefore / 2 ** 20).toFixed(1)} MiB, peak RSS ${peakRssMiB.toFixed(1)} MiB ` +
      `(ratio peak/limit = ${(peakRssMiB / LIMIT_MIB).toFixed(2)}; file/peak = ${(SIZE / 2 ** 20 / peakRssMiB).toFixed(1)}x)\n`,
  );
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
