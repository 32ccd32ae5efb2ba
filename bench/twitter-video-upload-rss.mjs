// Streams a 1 GiB video file through the X chunked upload (initialize / append / finalize) to a
// loopback server in another process and reports the uploading process's peak RSS. The claim
// under test: the upload never holds the file in memory, so the process peaks under 100 MiB.
//
// Every measurement runs in a fresh process of its own (peak RSS is per process), against the
// same loopback sandbox, on the same sparse 1 GiB file:
// - library: twitter-video-upload.mjs, `provider.publish()` with the file as `createReadStream`.
// - floor:   undici-video-upload.mjs, the same upload with bare undici and nothing else.
// Each pair runs over two transports:
// - https: TLS with HTTP/2 offered by ALPN, what the real X API host speaks. This is the target.
// - http:  cleartext HTTP/1.1, which no platform serves. Shown because undici parses HTTP/1.1 with
//          llhttp compiled to WebAssembly, and V8's optimizing compile of it (a few requests in)
//          takes about 20 MiB more at its peak, in any process that uses undici over HTTP/1.1.
//
// BENCH_VIDEO_BYTES (default 1 GiB), BENCH_TRANSPORTS (default `https,http`), BENCH_SOURCE
// (`reused`: a zero-allocation source instead of the file, to separate what the source costs).
import { execFile } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLoopbackSandbox } from './start-loopback.mjs';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES ?? 1024 * 1024 * 1024);
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'https,http').split(',');
const TARGET_TRANSPORT = 'https';
const LIMIT_MIB = 100;

const file = join(tmpdir(), `letmepost-bench-${process.pid}.mp4`);
const descriptor = openSync(file, 'w');
ftruncateSync(descriptor, SIZE); // sparse: no disk space used, reads return zeros
closeSync(descriptor);

/** Runs one measured upload in its own process and returns the JSON line it printed. */
function measure({ script, apiBaseUrl, server }) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [new URL(script, import.meta.url).pathname],
      {
        env: {
          ...process.env,
          BENCH_TWITTER_API_BASE_URL: apiBaseUrl,
          BENCH_ACCESS_TOKEN: server.accessToken,
          BENCH_FILE: file,
          BENCH_VIDEO_BYTES: String(SIZE),
          // Read at startup: trusts the loopback certificate without touching the client's code.
          NODE_EXTRA_CA_CERTS: server.tls.caFile,
        },
        maxBuffer: 1024 * 1024,
      },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout.trim().split('\n').at(-1)));
      },
    );
    child.stderr.pipe(process.stderr);
  });
}

const format = (run) =>
  `peak RSS ${run.peakRssMiB.toFixed(1)} MiB (before upload ${run.rssBeforeMiB.toFixed(1)}, growth ${run.growthMiB.toFixed(1)}), ${run.seconds.toFixed(1)} s`;

const server = await startLoopbackSandbox();
const results = {};
try {
  process.stdout.write(
    `X chunked upload of ${(SIZE / 2 ** 30).toFixed(2)} GiB, 4 MiB segments, source: ${process.env.BENCH_SOURCE === 'reused' ? 'one reused 64 KiB buffer' : 'fs.createReadStream(path)'}\n`,
  );
  for (const transport of TRANSPORTS) {
    const apiBaseUrl = transport === 'https' ? server.tls.endpoints.twitter.apiBaseUrl : server.endpoints.twitter.apiBaseUrl;
    process.stdout.write(`\n[${transport}] ${transport === 'https' ? 'TLS, HTTP/2 by ALPN (as api.x.com)' : 'cleartext HTTP/1.1 (informational)'}\n`);
    if (transport === 'https') await server.tlsProtocols();
    const floor = await measure({ script: './undici-video-upload.mjs', apiBaseUrl, server });
    process.stdout.write(`  floor, bare undici:  ${format(floor)}\n`);
    const library = await measure({ script: './twitter-video-upload.mjs', apiBaseUrl, server });
    process.stdout.write(`  library, publish(): ${format(library)}, result ${library.status}\n`);
    process.stdout.write(
      `  ratios: library/limit ${(library.peakRssMiB / LIMIT_MIB).toFixed(2)} (limit ${LIMIT_MIB} MiB), library/floor ${(library.peakRssMiB / floor.peakRssMiB).toFixed(2)}, ` +
        `file/library peak ${(SIZE / 2 ** 20 / library.peakRssMiB).toFixed(1)}x\n`,
    );
    if (transport === 'https') {
      const protocols = Object.entries(await server.tlsProtocols()).map(([version, count]) => `HTTP/${version}: ${count}`);
      process.stdout.write(`  requests the TLS server received, both runs: ${protocols.join(', ')}\n`);
    }
    results[transport] = { floor, library };
  }
  const target = results[TARGET_TRANSPORT];
  if (target === undefined) {
    process.stdout.write(`\n(target not evaluated: BENCH_TRANSPORTS leaves out ${TARGET_TRANSPORT})\n`);
  } else if (target.library.peakRssMiB >= LIMIT_MIB) {
    process.exitCode = 1;
    process.stderr.write(`\npeak RSS ${target.library.peakRssMiB.toFixed(1)} MiB over ${TARGET_TRANSPORT} is not under ${LIMIT_MIB} MiB\n`);
  } else {
    process.stdout.write(`\ntarget met: peak RSS ${target.library.peakRssMiB.toFixed(1)} MiB over ${TARGET_TRANSPORT} < ${LIMIT_MIB} MiB\n`);
  }
} finally {
  await server.stop();
  rmSync(file, { force: true });
}
