// The floor for twitter-video-upload-rss.mjs: the same X chunked upload (initialize, 4 MiB APPEND
// segments as multipart bodies, finalize) of the same file, written with bare undici `request()`
// and nothing else: no provider, no zod, one reused segment buffer, hand-built multipart bodies.
// What this process peaks at is what Node 24 + undici + the file stream cost on their own.
//
// Run alone it starts its own sandbox; the RSS bench runs it as a child against its sandbox
// (BENCH_TWITTER_API_BASE_URL, BENCH_ACCESS_TOKEN) and reads the JSON line it prints last.
import { closeSync, createReadStream, ftruncateSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES ?? 1024 * 1024 * 1024);
const SOURCE = process.env.BENCH_SOURCE ?? 'file';
const SEGMENT = 4 * 1024 * 1024;
const MIB = 2 ** 20;

let apiBaseUrl = process.env.BENCH_TWITTER_API_BASE_URL;
let accessToken = process.env.BENCH_ACCESS_TOKEN;
let server;
if (apiBaseUrl === undefined || accessToken === undefined) {
  const { startLoopbackSandbox } = await import('./start-loopback.mjs');
  server = await startLoopbackSandbox();
  apiBaseUrl = server.endpoints.twitter.apiBaseUrl;
  accessToken = server.accessToken;
}

const file = join(tmpdir(), `letmepost-bench-floor-${process.pid}.mp4`);
const descriptor = openSync(file, 'w');
ftruncateSync(descriptor, SIZE);
closeSync(descriptor);

async function* reusedBuffer() {
  const piece = new Uint8Array(64 * 1024);
  for (let offset = 0; offset < SIZE; offset += piece.byteLength) yield piece.subarray(0, Math.min(piece.byteLength, SIZE - offset));
}

const agent = new Agent({ keepAliveTimeout: 10_000 });
const authorization = `Bearer ${accessToken}`;
const encoder = new TextEncoder();
const boundary = 'bench-floor-boundary';
const segment = new Uint8Array(SEGMENT);

try {
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const initialized = await request(`${apiBaseUrl}/2/media/upload/initialize`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ media_type: 'video/mp4', total_bytes: SIZE, media_category: 'tweet_video' }),
  });
  const mediaId = (await initialized.body.json()).data.id;

  let segmentIndex = 0;
  const append = async (length) => {
    const head = encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n${segmentIndex}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="media"; filename="segment"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
    const response = await request(`${apiBaseUrl}/2/media/upload/${mediaId}/append`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        authorization,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.byteLength + length + tail.byteLength),
      },
      body: [head, segment.subarray(0, length), tail],
    });
    await response.body.dump();
    if (response.statusCode >= 300) throw new Error(`APPEND ${segmentIndex} answered ${response.statusCode}`);
    segmentIndex += 1;
  };

  let filled = 0;
  for await (const piece of SOURCE === 'reused' ? reusedBuffer() : createReadStream(file)) {
    let offset = 0;
    while (offset < piece.byteLength) {
      const take = Math.min(SEGMENT - filled, piece.byteLength - offset);
      segment.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === SEGMENT) {
        await append(SEGMENT);
        filled = 0;
      }
    }
  }
  if (filled > 0) await append(filled);
  const finalized = await request(`${apiBaseUrl}/2/media/upload/${mediaId}/finalize`, { method: 'POST', dispatcher: agent, headers: { authorization } });
  await finalized.body.dump();

  const peakRss = process.resourceUsage().maxRSS * 1024;
  const result = {
    status: finalized.statusCode,
    segments: segmentIndex,
    seconds: (performance.now() - started) / 1000,
    rssBeforeMiB: rssBefore / MIB,
    peakRssMiB: peakRss / MIB,
    growthMiB: (peakRss - rssBefore) / MIB,
  };
  if (server === undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `bare undici chunked upload of ${(SIZE / 2 ** 30).toFixed(2)} GiB (source: ${SOURCE}): status ${result.status}, ${result.segments} segments in ${result.seconds.toFixed(1)} s\n` +
        `  RSS before upload ${result.rssBeforeMiB.toFixed(1)} MiB, peak RSS ${result.peakRssMiB.toFixed(1)} MiB, growth during upload ${result.growthMiB.toFixed(1)} MiB\n`,
    );
  }
} finally {
  await agent.close();
  await server?.stop();
  rmSync(file, { force: true });
}
