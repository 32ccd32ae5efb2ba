import { LetmepostError, type MediaProgressEvent, type PublishAuth } from '@letmepost/core';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import createPostFixture from './__fixtures__/create-post.json' with { type: 'json' };
import error400Media from './__fixtures__/error-400-media.json' with { type: 'json' };
import mediaFinalizePending from './__fixtures__/media-finalize-pending.json' with { type: 'json' };
import mediaInitialize from './__fixtures__/media-initialize.json' with { type: 'json' };
import mediaStatusFailed from './__fixtures__/media-status-failed.json' with { type: 'json' };
import mediaStatusInProgress from './__fixtures__/media-status-in-progress.json' with { type: 'json' };
import mediaStatusSucceeded from './__fixtures__/media-status-succeeded.json' with { type: 'json' };
import mediaUploadImage from './__fixtures__/media-upload-image.json' with { type: 'json' };
import type { TwitterCredentials } from './twitter-credentials.js';
import { TWITTER_CHUNK_SIZE } from './twitter-media-upload.js';
import { createTwitter } from './twitter-provider.js';

// Multipart and streamed bodies hang nock, so these tests run X's media endpoints on a real
// HTTP server on 127.0.0.1 and assert what arrived on the wire.

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const ACCESS_TOKEN = 'x-media-access-token-c4n4ry-4417';
const VIDEO_ID = mediaInitialize.data.id;
const MIB = 1024 * 1024;

const auth: PublishAuth<TwitterCredentials> = {
  type: 'account',
  account: { platformAccountId: '1346889436626259968', username: 'letmepost_demo' },
  tokens: { accessToken: ACCESS_TOKEN, tokenType: 'bearer' },
};

type Route = (request: RecordedRequest) => { status: number; body?: unknown } | undefined;

let servers: Array<{ close(): Promise<void> }> = [];
let tempDirectory: string | undefined;

afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  if (tempDirectory) await rm(tempDirectory, { recursive: true, force: true });
  tempDirectory = undefined;
});

/** A stand-in for api.x.com answering each request with the first route that claims it. */
async function fakeX(routes: Route[]): Promise<LoopbackServer> {
  const server = await startLoopbackServer({
    maxBodyBytes: 512 * MIB,
    handler: (request, response) => {
      for (const route of routes) {
        const answer = route(request);
        if (answer) return send(response, answer);
      }
      send(response, { status: 599, body: { title: `unexpected ${request.method} ${request.url}` } });
    },
  });
  servers.push(server);
  return server;
}

function send(response: ServerResponse, answer: { status: number; body?: unknown }): void {
  const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  response.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
}

const route =
  (method: string, path: string | RegExp, answer: (request: RecordedRequest) => { status: number; body?: unknown }): Route =>
  (request) => {
    const matches = typeof path === 'string' ? request.url === path : path.test(request.url);
    return request.method === method && matches ? answer(request) : undefined;
  };

/** Routes that answer from a queue, one answer per call, so the order of calls is asserted. */
function sequence(method: string, path: string | RegExp, answers: Array<{ status: number; body?: unknown }>): Route {
  let next = 0;
  return route(method, path, () => answers[next++] ?? { status: 598, body: { title: `no answer left for ${method} ${String(path)}` } });
}

async function formOf(request: RecordedRequest): Promise<FormData> {
  return new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
}

async function bytesOf(value: ReturnType<FormData["get"]>): Promise<Buffer> {
  expect(value).toBeInstanceOf(Blob);
  return Buffer.from(await (value as Blob).arrayBuffer());
}

const twitterFor = (server: { url: string }) =>
  createTwitter({ apiBaseUrl: server.url, clock: { now: () => NOW }, allowPrivateNetwork: true, http: { retry: { sleep: async () => {} } } });

const PATTERN_PIECE = 64 * 1024;
const PATTERN = Uint8Array.from({ length: PATTERN_PIECE + 251 }, (_, index) => index % 251);

/** Deterministic bytes (`offset % 251`): `size` of them, produced lazily in 64 KiB pieces. */
async function* patternBytes(size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < size; offset += PATTERN_PIECE) {
    const start = offset % 251;
    yield PATTERN.slice(start, start + Math.min(PATTERN_PIECE, size - offset));
  }
}

async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of source) hash.update(piece);
  return hash.digest('hex');
}

describe('images', () => {
  it('uploads four images in multipart requests, sets each alt text, then attaches them to one post', async () => {
    const images = [1, 2, 3, 4].map((seed) => Uint8Array.from({ length: 2048 + seed }, (_, index) => (index * seed) % 256));
    let nextImageId = 1880028106020515841n;
    const server = await fakeX([
      route('POST', '/2/media/upload', () => ({
        status: 200,
        body: { data: { ...mediaUploadImage.data, id: String(nextImageId), media_key: `3_${nextImageId++}` } },
      })),
      route('POST', '/2/media/metadata', (request) => ({
        status: 200,
        body: { data: { id: (request.json() as { id: string }).id, associated_metadata: {} } },
      })),
      route('POST', '/2/tweets', () => ({ status: 201, body: createPostFixture })),
    ]);

    const result = await twitterFor(server).publish({
      post: {
        text: 'Four photos',
        media: images.map((data, index) => ({ data, mimeType: 'image/png', fileName: `photo-${index + 1}.png`, altText: `Photo ${index + 1} of a sunset` })),
      },
      auth,
      options: {},
    });

    const requests = server.requests;
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /2/media/upload',
      'POST /2/media/metadata',
      'POST /2/media/upload',
      'POST /2/media/metadata',
      'POST /2/media/upload',
      'POST /2/media/metadata',
      'POST /2/media/upload',
      'POST /2/media/metadata',
      'POST /2/tweets',
    ]);
    for (const request of requests) expect(request.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    for (const [index, image] of images.entries()) {
      const upload = requests[index * 2]!;
      expect(upload.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      const form = await formOf(upload);
      expect([...form.keys()].sort()).toEqual(['media', 'media_category']);
      expect(form.get('media_category')).toBe('tweet_image');
      expect((form.get('media') as File).name).toBe(`photo-${index + 1}.png`);
      expect(await bytesOf(form.get('media'))).toEqual(Buffer.from(image));
      expect(requests[index * 2 + 1]!.headers['content-type']).toBe('application/json');
      expect(requests[index * 2 + 1]!.json()).toEqual({
        id: String(1880028106020515841n + BigInt(index)),
        metadata: { alt_text: { text: `Photo ${index + 1} of a sunset` } },
      });
    }
    expect(requests[8]!.json()).toEqual({
      text: 'Four photos',
      media: { media_ids: ['1880028106020515841', '1880028106020515842', '1880028106020515843', '1880028106020515844'] },
    });
    expect(result).toMatchObject({ status: 'published', postId: '1445880548472328192' });
  });

  it('fetches an image from a URL and maps X refusing it to media_invalid, posting nothing', async () => {
    const image = Uint8Array.from({ length: 4096 }, (_, index) => index % 256);
    const server = await fakeX([
      route('POST', '/2/media/upload', () => ({ status: 400, body: error400Media })),
    ]);
    const files = await startFileServer({ '/photo.jpg': { bytes: image, contentType: 'image/jpeg' } });

    const error = await twitterFor(server)
      .publish({ post: { text: 'photo', media: [{ url: `${files.url}/photo.jpg`, mimeType: 'image/jpeg' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({ code: 'media_invalid', status: 400, rule: 'twitter.media.rejected', platform: 'twitter' });
    expect(JSON.stringify(error)).not.toContain(ACCESS_TOKEN);
    const upload = server.requests.find((request) => request.url === '/2/media/upload')!;
    expect(await bytesOf((await formOf(upload)).get('media'))).toEqual(Buffer.from(image));
    expect(server.requests.some((request) => request.url === '/2/tweets')).toBe(false);
  });
});

describe('video', () => {
  const videoSize = 2 * TWITTER_CHUNK_SIZE + 123_457;

  it('uploads in 4 MiB segments, ends pending while X transcodes; checkStatus reads, finalize posts once processing succeeded', async () => {
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      route('POST', `/2/media/upload/${VIDEO_ID}/append`, () => ({ status: 200, body: { data: { expires_at: NOW / 1000 + 86_400 } } })),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: mediaFinalizePending })),
      route('POST', '/2/media/metadata', () => ({ status: 200, body: { data: { id: VIDEO_ID, associated_metadata: {} } } })),
      sequence('GET', `/2/media/upload?command=STATUS&media_id=${VIDEO_ID}`, [
        { status: 200, body: mediaStatusInProgress },
        { status: 200, body: mediaStatusSucceeded },
      ]),
      sequence('POST', '/2/tweets', [
        { status: 201, body: { data: { id: '1900000000000000001', text: 'Launch video' } } },
        { status: 201, body: { data: { id: '1900000000000000002', text: 'More soon' } } },
      ]),
    ]);
    const twitter = twitterFor(server);
    const progress: MediaProgressEvent[] = [];

    const pending = await twitter.publish({
      post: {
        text: 'Launch video',
        media: [{ stream: patternBytes(videoSize), size: videoSize, mimeType: 'video/mp4', altText: 'The launch, in 30 seconds' }],
        thread: [{ text: 'More soon' }],
      },
      auth,
      options: {},
      onProgress: (event) => progress.push(event),
    });

    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /2/media/upload/initialize',
      `POST /2/media/upload/${VIDEO_ID}/append`,
      `POST /2/media/upload/${VIDEO_ID}/append`,
      `POST /2/media/upload/${VIDEO_ID}/append`,
      `POST /2/media/upload/${VIDEO_ID}/finalize`,
      'POST /2/media/metadata',
    ]);
    expect(server.requests[0]!.json()).toEqual({ media_type: 'video/mp4', total_bytes: videoSize, media_category: 'tweet_video' });
    const appends = server.requests.slice(1, 4);
    const segments: Array<[string, number]> = [];
    const received = createHash('sha256');
    for (const append of appends) {
      expect(append.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
      const form = await formOf(append);
      const bytes = await bytesOf(form.get('media'));
      segments.push([String(form.get('segment_index')), bytes.byteLength]);
      received.update(bytes);
    }
    expect(segments).toEqual([
      ['0', TWITTER_CHUNK_SIZE],
      ['1', TWITTER_CHUNK_SIZE],
      ['2', 123_457],
    ]);
    expect(received.digest('hex')).toBe(await sha256Of(patternBytes(videoSize)));
    expect(server.requests[4]!.body.byteLength).toBe(0);
    expect(server.requests[5]!.json()).toEqual({ id: VIDEO_ID, metadata: { alt_text: { text: 'The launch, in 30 seconds' } } });
    expect(progress).toEqual([
      { itemIndex: 0, mediaIndex: 0, bytesSent: TWITTER_CHUNK_SIZE, totalBytes: videoSize },
      { itemIndex: 0, mediaIndex: 0, bytesSent: 2 * TWITTER_CHUNK_SIZE, totalBytes: videoSize },
      { itemIndex: 0, mediaIndex: 0, bytesSent: videoSize, totalBytes: videoSize },
    ]);
    expect(pending).toMatchObject({
      status: 'pending',
      items: [
        { index: 0, status: 'pending' },
        { index: 1, status: 'pending' },
      ],
      warnings: [{ code: 'twitter.media.processing', message: `X is still processing media ${VIDEO_ID}; check again in 1 s.` }],
    });
    expect(pending).toMatchObject({ checkAfterMs: 1000, resume: { v: 1, pendingMediaIds: [VIDEO_ID] } });
    expect(JSON.stringify(pending.resume)).not.toContain(ACCESS_TOKEN);

    const stillProcessing = await twitter.checkStatus!({ auth, resume: pending.resume! });
    expect(stillProcessing).toMatchObject({
      status: 'pending',
      checkAfterMs: 5000,
      warnings: [{ code: 'twitter.media.processing', message: `X is still processing media ${VIDEO_ID} (42%); check again in 5 s.` }],
    });
    expect(server.requests.at(-1)!.url).toBe(`/2/media/upload?command=STATUS&media_id=${VIDEO_ID}`);

    const ready = await twitter.checkStatus!({ auth, resume: pending.resume! });
    expect(ready).toEqual({ status: 'ready', resume: expect.objectContaining({ pendingMediaIds: [] }) });
    expect(server.requests.filter((request) => request.url === '/2/tweets')).toHaveLength(0);
    if (ready.status !== 'ready' || ready.resume === undefined) throw new Error('expected ready with resume state');

    const published = await twitter.finalize!({ auth, resume: ready.resume });
    const posts = server.requests.filter((request) => request.url === '/2/tweets');
    expect(posts.map((request) => request.json())).toEqual([
      { text: 'Launch video', media: { media_ids: [VIDEO_ID] } },
      { text: 'More soon', reply: { in_reply_to_tweet_id: '1900000000000000001' } },
    ]);
    expect(published).toEqual({
      status: 'published',
      postId: '1900000000000000001',
      url: 'https://x.com/letmepost_demo/status/1900000000000000001',
      items: [
        { index: 0, status: 'published', postId: '1900000000000000001', url: 'https://x.com/letmepost_demo/status/1900000000000000001' },
        { index: 1, status: 'published', postId: '1900000000000000002', url: 'https://x.com/letmepost_demo/status/1900000000000000002' },
      ],
      warnings: [],
    });
  });

  it('reports a video X failed to process as failed with media_invalid, posting nothing', async () => {
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      route('POST', `/2/media/upload/${VIDEO_ID}/append`, () => ({ status: 200, body: {} })),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: mediaFinalizePending })),
      route('GET', `/2/media/upload?command=STATUS&media_id=${VIDEO_ID}`, () => ({ status: 200, body: mediaStatusFailed })),
    ]);
    const twitter = twitterFor(server);
    const pending = await twitter.publish({
      post: { text: 'broken', media: [{ data: new Uint8Array(1000), mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });

    const result = await twitter.checkStatus!({ auth, resume: pending.resume! });
    if (result.status === 'ready') throw new Error('expected failed');

    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'media_invalid', rule: 'twitter.media.processing_failed', platform: 'twitter' });
    expect(result.error!.message).toContain('Unsupported video codec.');
    expect(result.items).toEqual([{ index: 0, status: 'failed', error: result.error }]);
    expect(server.requests.some((request) => request.url === '/2/tweets')).toBe(false);
  });

  it('posts right away when FINALIZE says the media is ready, and uploads a GIF as tweet_gif', async () => {
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      route('POST', `/2/media/upload/${VIDEO_ID}/append`, () => ({ status: 200, body: {} })),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: { data: { id: VIDEO_ID, size: 900 } } })),
      route('POST', '/2/tweets', () => ({ status: 201, body: createPostFixture })),
    ]);

    const result = await twitterFor(server).publish({
      post: { text: 'gif', media: [{ data: new Uint8Array(900), mimeType: 'image/gif' }] },
      auth,
      options: {},
    });

    expect(server.requests[0]!.json()).toEqual({ media_type: 'image/gif', total_bytes: 900, media_category: 'tweet_gif' });
    expect(server.requests.at(-1)!.json()).toEqual({ text: 'gif', media: { media_ids: [VIDEO_ID] } });
    expect(result.status).toBe('published');
  });

  it('refuses resume state it did not produce', async () => {
    for (const method of ['checkStatus', 'finalize'] as const) {
      const error = await createTwitter()[method]!({ auth, resume: { v: 1, items: [] } }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'validation_failed', field: 'resume', rule: 'twitter.resume.invalid' });
    }
  });

  it('streams a video file from disk without reading it whole, straight into the segment buffer', async () => {
    tempDirectory = await mkdtemp(join(tmpdir(), 'letmepost-x-'));
    const path = join(tempDirectory, 'clip.mp4');
    const size = TWITTER_CHUNK_SIZE + 10_000;
    const content = Buffer.alloc(size);
    for (let index = 0; index < size; index += 1) content[index] = (index * 7) % 256;
    await writeFile(path, content);
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      route('POST', `/2/media/upload/${VIDEO_ID}/append`, () => ({ status: 200, body: {} })),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: mediaFinalizePending })),
    ]);

    const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
    const result = await twitterFor(server).publish({
      post: { text: 'clip', media: [{ stream, size, mimeType: 'video/quicktime' }] },
      auth,
      options: {},
    });
    // Read from the file's descriptor into the segment, not through the stream (whose every read
    // would allocate a buffer); the stream is closed afterwards as if read to its end.
    expect(stream.bytesRead).toBe(0);
    expect(stream.destroyed).toBe(true);

    expect(server.requests[0]!.json()).toEqual({ media_type: 'video/quicktime', total_bytes: size, media_category: 'tweet_video' });
    const appended = await Promise.all(
      server.requests.filter((request) => request.url.endsWith('/append')).map(async (request) => bytesOf((await formOf(request)).get('media'))),
    );
    expect(appended.map((bytes) => bytes.byteLength)).toEqual([TWITTER_CHUNK_SIZE, 10_000]);
    expect(Buffer.concat(appended).equals(content)).toBe(true);
    expect(result.status).toBe('pending');
  });

  it('re-sends a failed APPEND with the same segment bytes before reading the next segment', async () => {
    const size = TWITTER_CHUNK_SIZE + 10_000;
    const pieces: Uint8Array[] = [];
    for await (const piece of patternBytes(size)) pieces.push(piece);
    const content = Buffer.concat(pieces);
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      sequence('POST', `/2/media/upload/${VIDEO_ID}/append`, [{ status: 503, body: { title: 'Service Unavailable' } }, { status: 200 }, { status: 200 }]),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: mediaFinalizePending })),
    ]);

    // The segments share one buffer (chunkReader's reuseBuffer): had the next segment been read
    // into it before the retry went out, the retry would carry the wrong bytes.
    const result = await twitterFor(server).publish({
      post: { text: 'retry', media: [{ stream: patternBytes(size), size, mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });

    const appends = await Promise.all(
      server.requests
        .filter((request) => request.url.endsWith('/append'))
        .map(async (request) => {
          expect(Number(request.headers['content-length'])).toBe(request.body.byteLength);
          const form = await formOf(request);
          return { index: String(form.get('segment_index')), bytes: await bytesOf(form.get('media')) };
        }),
    );
    expect(appends.map((append) => append.index)).toEqual(['0', '0', '1']);
    expect(appends[0]!.bytes.equals(content.subarray(0, TWITTER_CHUNK_SIZE))).toBe(true);
    expect(appends[1]!.bytes.equals(content.subarray(0, TWITTER_CHUNK_SIZE))).toBe(true);
    expect(appends[2]!.bytes.equals(content.subarray(TWITTER_CHUNK_SIZE))).toBe(true);
    expect(result.status).toBe('pending');
  });

  it('streams a video from a URL', async () => {
    const size = TWITTER_CHUNK_SIZE + 1;
    const video = Buffer.alloc(size, 7);
    const files = await startFileServer({ '/clip.mp4': { bytes: video, contentType: 'video/mp4' } });
    const server = await fakeX([
      route('POST', '/2/media/upload/initialize', () => ({ status: 200, body: mediaInitialize })),
      route('POST', `/2/media/upload/${VIDEO_ID}/append`, () => ({ status: 200, body: {} })),
      route('POST', `/2/media/upload/${VIDEO_ID}/finalize`, () => ({ status: 200, body: mediaFinalizePending })),
    ]);

    await twitterFor(server).publish({ post: { text: 'url', media: [{ url: `${files.url}/clip.mp4`, mimeType: 'video/mp4' }] }, auth, options: {} });

    expect(server.requests[0]!.json()).toMatchObject({ total_bytes: size });
    const appended = await Promise.all(
      server.requests.filter((request) => request.url.endsWith('/append')).map(async (request) => bytesOf((await formOf(request)).get('media'))),
    );
    expect(Buffer.concat(appended).equals(video)).toBe(true);
  });

  it('keeps memory bounded while streaming a 256 MiB video', async () => {
    const size = 256 * MIB;
    const sink = await startCountingServer();
    // What stays reachable, measured after a full collection every 16 MiB read: garbage awaiting
    // the collector is the GC's business, retained bytes are the uploader's.
    const collect = exposedGc();
    collect();
    const baseline = process.memoryUsage().arrayBuffers;
    const retained: number[] = [];
    async function* measured(): AsyncGenerator<Uint8Array> {
      let read = 0;
      for await (const piece of patternBytes(size)) {
        read += piece.byteLength;
        if (read % (16 * MIB) === 0) {
          collect();
          retained.push(process.memoryUsage().arrayBuffers - baseline);
        }
        yield piece;
      }
    }

    const result = await twitterFor(sink).publish({
      post: { text: 'big', media: [{ stream: measured(), size, mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });

    expect(result.status).toBe('pending');
    expect(sink.appendSizes).toEqual(Array.from({ length: 64 }, () => TWITTER_CHUNK_SIZE));
    expect(sink.segmentIndexes).toEqual(Array.from({ length: 64 }, (_, index) => String(index)));
    // Steadily about one segment being filled plus the one being sent (4 MiB each, as chunk and
    // Blob), whatever has gone before; the file is 256 MiB.
    const sorted = [...retained].sort((left, right) => left - right);
    expect(retained).toHaveLength(16);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(24 * MIB);
    expect(sorted.at(-1)).toBeLessThan(128 * MIB);
  });
});

describe('errors and validation before upload', () => {
  it('refuses mixed media and a second video before any request', async () => {
    const server = await fakeX([]);
    const error = await twitterFor(server)
      .publish({
        post: {
          text: 'mixed',
          media: [
            { data: new Uint8Array(10), mimeType: 'video/mp4' },
            { data: new Uint8Array(10), mimeType: 'image/png' },
            { data: new Uint8Array(10), mimeType: 'video/mp4' },
          ],
        },
        auth,
        options: {},
      })
      .catch((caught: unknown) => caught);

    expect(LetmepostError.isInstance(error)).toBe(true);
    expect((error as LetmepostError).issues.map((issue) => issue.rule)).toEqual(['twitter.media.max_videos', 'twitter.media.mixed']);
    expect(server.requests).toEqual([]);
  });
});

// ---- helpers ------------------------------------------------------------------------------------

/** `global.gc`, enabled at runtime so the suite needs no `--expose-gc` flag. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Serves fixed files with Content-Length, as a CDN would. */
async function startFileServer(files: Record<string, { bytes: Uint8Array; contentType: string }>): Promise<{ url: string }> {
  const server = createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (!file) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.byteLength) }).end(Buffer.from(file.bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

/**
 * A fake X that parses each APPEND as it streams in and keeps only its size and segment index,
 * so the test process holds no copy of the upload.
 */
async function startCountingServer(): Promise<{ url: string; appendSizes: number[]; segmentIndexes: string[] }> {
  const appendSizes: number[] = [];
  const segmentIndexes: string[] = [];
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    const reply = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.endsWith('/append')) {
      const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(String(request.headers['content-type']));
      const marker = Buffer.from(`--${boundary?.[1] ?? boundary?.[2]}`);
      let head = Buffer.alloc(0);
      let total = 0;
      request.on('data', (piece: Buffer) => {
        total += piece.byteLength;
        // Headers of the parts sit in the first and last few hundred bytes; keep only those.
        if (head.byteLength < 4096) head = Buffer.concat([head, piece.subarray(0, 4096)]);
      });
      request.on('end', () => {
        const text = head.toString('latin1');
        segmentIndexes.push(/name="segment_index"\r\n\r\n(\d+)\r\n/.exec(text)?.[1] ?? '?');
        // The media part is everything but the multipart framing: measure the framing instead.
        const mediaHeaderEnd = text.indexOf('\r\n\r\n', text.indexOf('name="media"')) + 4;
        const trailer = marker.byteLength + 4 + 2; // "\r\n--boundary--\r\n"
        appendSizes.push(total - mediaHeaderEnd - trailer);
        reply({ data: {} });
      });
      return;
    }
    request.resume();
    request.on('end', () => {
      if (url === '/2/media/upload/initialize') return reply(mediaInitialize);
      if (url.endsWith('/finalize')) return reply(mediaFinalizePending);
      response.writeHead(599).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, appendSizes, segmentIndexes };
}
