// The floor for twitter-video-upload-rss.mjs, one measured run in a process of its own: the same
// X chunked upload (initialize, 4 MiB APPEND segments as multipart bodies, finalize) of the same
// file, written with bare undici `request()` and nothing else: no provider, no zod, one reused
// segment buffer filled by positional reads from the file (as the library does), hand-built
// multipart bodies, a default `Agent` (so HTTPS negotiates the protocol just as the library's
// pool does). What this process peaks at is what Node 24 + undici cost on their own.
//
// Environment: BENCH_TWITTER_API_BASE_URL, BENCH_ACCESS_TOKEN, BENCH_FILE, BENCH_VIDEO_BYTES,
// BENCH_SOURCE (`reused`: one reused 64 KiB buffer instead of the file). Prints one JSON line.
import { open } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { reusedBufferSource } from './reused-buffer-source.mjs';

const SIZE = Number(process.env.BENCH_VIDEO_BYTES);
const SOURCE = process.env.BENCH_SOURCE ?? 'file';
const SEGMENT = 4 * 1024 * 1024;
const MIB = 2 ** 20;
const apiBaseUrl = process.env.BENCH_TWITTER_API_BASE_URL;
const accessToken = process.env.BENCH_ACCESS_TOKEN;

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
  const initializedBody = await initialized.body.json();
  if (initialized.statusCode !== 200) throw new Error(`INITIALIZE answered ${initialized.statusCode}: ${JSON.stringify(initializedBody)}`);
  const mediaId = initializedBody.data.id;

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

  if (SOURCE === 'reused') {
    let filled = 0;
    for await (const piece of reusedBufferSource(SIZE)) {
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
  } else {
    const file = await open(process.env.BENCH_FILE);
    try {
      for (let position = 0; position < SIZE; position += SEGMENT) {
        const length = Math.min(SEGMENT, SIZE - position);
        for (let filled = 0; filled < length; ) {
          const { bytesRead } = await file.read(segment, filled, length - filled, position + filled);
          if (bytesRead === 0) throw new Error(`the file ended after ${position + filled} bytes`);
          filled += bytesRead;
        }
        await append(length);
      }
    } finally {
      await file.close();
    }
  }
  const finalized = await request(`${apiBaseUrl}/2/media/upload/${mediaId}/finalize`, { method: 'POST', dispatcher: agent, headers: { authorization } });
  await finalized.body.dump();

  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    `${JSON.stringify({
      status: finalized.statusCode,
      segments: segmentIndex,
      seconds: (performance.now() - started) / 1000,
      rssBeforeMiB: rssBefore / MIB,
      peakRssMiB: peakRss / MIB,
      growthMiB: (peakRss - rssBefore) / MIB,
    })}\n`,
  );
} finally {
  await agent.close();
}
