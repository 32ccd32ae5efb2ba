import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { DID, HANDLE, NOW, clock, session, tokens } from './test-support/bluesky-test-setup.js';
import { createBluesky } from './bluesky-provider.js';

// Streamed request bodies cannot be asserted with nock (it hangs on them), so these tests run
// the provider against a real HTTP server on 127.0.0.1 playing both the PDS and the video service.

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const cidOf = (bytes: Buffer) => `bafkrei${createHash('sha256').update(bytes).digest('hex').slice(0, 40)}`;

/** A PDS + video service double that answers like the real ones and records every request. */
async function startAtprotoDouble(options: { blobUploadLimit?: number } = {}): Promise<LoopbackServer> {
  let created = 0;
  const server = await startLoopbackServer({
    handler: (request: RecordedRequest, response) => {
      const url = new URL(request.url, 'http://127.0.0.1');
      switch (`${request.method} ${url.pathname}`) {
        case 'GET /xrpc/com.atproto.server.describeServer':
          return json(response, 200, { did: 'did:web:pds.test', availableUserDomains: [], blobUploadLimit: options.blobUploadLimit ?? 5_000_000 });
        case 'POST /xrpc/com.atproto.repo.uploadBlob':
          return json(response, 200, {
            blob: { $type: 'blob', ref: { $link: cidOf(request.body) }, mimeType: request.headers['content-type'], size: request.body.byteLength },
          });
        case 'GET /xrpc/com.atproto.server.getServiceAuth':
          return json(response, 200, { token: `svc-${url.searchParams.get('lxm')}` });
        case 'GET /xrpc/app.bsky.video.getUploadLimits':
          return json(response, 200, { canUpload: true, remainingDailyVideos: 10, remainingDailyBytes: 1_000_000_000 });
        case 'POST /xrpc/app.bsky.video.uploadVideo':
          // The bare job status at top level, as some deployments answer.
          return json(response, 200, { jobId: 'job-1', did: DID, state: 'JOB_STATE_CREATED' });
        case 'GET /xrpc/app.bsky.video.getJobStatus': {
          const upload = server.requests.find((recorded) => recorded.url.startsWith('/xrpc/app.bsky.video.uploadVideo'));
          return json(response, 200, {
            jobStatus: {
              jobId: 'job-1',
              did: DID,
              state: 'JOB_STATE_COMPLETED',
              blob: { $type: 'blob', ref: { $link: cidOf(upload!.body) }, mimeType: 'video/mp4', size: upload!.body.byteLength },
            },
          });
        }
        case 'POST /xrpc/com.atproto.repo.createRecord':
          created += 1;
          return json(response, 200, { uri: `at://${DID}/app.bsky.feed.post/3ljxq6mckzs${created}c`, cid: `bafyreicreated${created}` });
        case 'GET /media/photo.png':
          response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(photo.byteLength) });
          // Written in pieces so the download itself is streamed.
          response.write(photo.subarray(0, 70_000));
          setTimeout(() => response.end(photo.subarray(70_000)), 5);
          return;
        default:
          return json(response, 501, { error: 'MethodNotImplemented', message: url.pathname });
      }
    },
  });
  servers.push(server);
  return server;
}

const photo = Buffer.alloc(150_000, 7);

function providerFor(server: LoopbackServer) {
  return createBluesky({
    clock,
    videoServiceUrl: server.url,
    videoServiceDid: 'did:web:video.test',
    allowPrivateNetwork: true,
    videoProcessing: { pollIntervalMs: 1, maxWaitMs: 5, sleep: async () => {} },
  });
}

function authFor(server: LoopbackServer) {
  return {
    type: 'account' as const,
    account: { platformAccountId: DID, username: HANDLE, data: { did: DID, handle: HANDLE, pdsUrl: server.url } },
    tokens,
  };
}

/** A web ReadableStream delivering `bytes` in `pieces` chunks, asynchronously. */
function streamOf(bytes: Buffer, pieces: number): ReadableStream<Uint8Array> {
  const size = Math.ceil(bytes.byteLength / pieces);
  let offset = 0;
  return new ReadableStream({
    async pull(controller) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(offset, offset + size)));
      offset += size;
    },
  });
}

describe('streamed uploads (real HTTP server)', () => {
  test('an image stream goes to uploadBlob as it is read, with Content-Length and no chunked encoding', async () => {
    const server = await startAtprotoDouble();
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, index) => index % 251));
    const progress: number[] = [];

    const result = await providerFor(server).publish({
      post: { text: 'streamed', media: [{ stream: streamOf(bytes, 6), size: bytes.byteLength, mimeType: 'image/png', altText: 'noise', width: 640, height: 480 }] },
      auth: authFor(server),
      options: {},
      onProgress: (event) => progress.push(event.bytesSent),
    });

    expect(result.status).toBe('published');
    const upload = server.requests.find((request) => request.url === '/xrpc/com.atproto.repo.uploadBlob')!;
    expect(upload.method).toBe('POST');
    expect(upload.headers['content-length']).toBe('300000');
    expect(upload.headers['transfer-encoding']).toBeUndefined();
    expect(upload.headers['content-type']).toBe('image/png');
    expect(upload.headers.authorization).toBe(`Bearer ${session.accessJwt}`);
    expect(upload.body.equals(bytes)).toBe(true);
    expect(upload.chunkCount, 'the body arrived in several pieces').toBeGreaterThan(1);
    expect(progress.at(-1)).toBe(300_000);
    expect(progress.length).toBeGreaterThan(1);

    const create = server.requests.find((request) => request.url === '/xrpc/com.atproto.repo.createRecord')!;
    expect((create.json() as { record: { embed: unknown } }).record.embed).toEqual({
      $type: 'app.bsky.embed.images',
      images: [{ image: { $type: 'blob', ref: { $link: cidOf(bytes) }, mimeType: 'image/png', size: 300_000 }, alt: 'noise', aspectRatio: { width: 640, height: 480 } }],
    });
    // describeServer was asked before the upload (the limit check happens first).
    expect(server.requests.map((request) => `${request.method} ${request.url.split('?')[0]}`)).toEqual([
      'GET /xrpc/com.atproto.server.describeServer',
      'POST /xrpc/com.atproto.repo.uploadBlob',
      'POST /xrpc/com.atproto.repo.createRecord',
    ]);
  });

  test('an image URL is fetched and streamed on to the PDS without buffering it whole', async () => {
    const server = await startAtprotoDouble();
    const result = await providerFor(server).publish({
      post: { text: 'from a URL', media: [{ url: `${server.url}/media/photo.png`, mimeType: 'image/png', altText: 'grey' }] },
      auth: authFor(server),
      options: {},
    });
    expect(result.status).toBe('published');
    const upload = server.requests.find((request) => request.url === '/xrpc/com.atproto.repo.uploadBlob')!;
    expect(upload.headers['content-length']).toBe(String(photo.byteLength));
    expect(upload.body.equals(photo)).toBe(true);
  });

  test('a video stream goes to the video service with Content-Length and the PDS-bound token', async () => {
    const server = await startAtprotoDouble();
    const bytes = Buffer.alloc(512_000, 3);
    async function* video() {
      for (let offset = 0; offset < bytes.byteLength; offset += 128_000) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield new Uint8Array(bytes.subarray(offset, offset + 128_000));
      }
    }

    const result = await providerFor(server).publish({
      post: { text: 'a clip', media: [{ stream: video(), size: bytes.byteLength, mimeType: 'video/mp4', fileName: 'clip.mp4', altText: 'grey', width: 1080, height: 1920 }] },
      auth: authFor(server),
      options: {},
    });

    expect(result.status).toBe('published');
    const serviceAuth = server.requests.filter((request) => request.url.startsWith('/xrpc/com.atproto.server.getServiceAuth'));
    expect(serviceAuth.map((request) => Object.fromEntries(new URL(request.url, server.url).searchParams))).toEqual([
      { aud: 'did:web:video.test', lxm: 'app.bsky.video.getUploadLimits' },
      { aud: `did:web:127.0.0.1%3A${new URL(server.url).port}`, lxm: 'com.atproto.repo.uploadBlob', exp: String(NOW / 1000 + 1800) },
    ]);
    const upload = server.requests.find((request) => request.url.startsWith('/xrpc/app.bsky.video.uploadVideo'))!;
    expect(upload.url).toBe(`/xrpc/app.bsky.video.uploadVideo?did=${encodeURIComponent(DID)}&name=clip.mp4`);
    expect(upload.headers['content-length']).toBe('512000');
    expect(upload.headers['content-type']).toBe('video/mp4');
    expect(upload.headers.authorization).toBe('Bearer svc-com.atproto.repo.uploadBlob');
    expect(upload.body.equals(bytes)).toBe(true);
    expect(upload.chunkCount).toBeGreaterThan(1);
    const create = server.requests.find((request) => request.url === '/xrpc/com.atproto.repo.createRecord')!;
    expect((create.json() as { record: { embed: unknown } }).record.embed).toEqual({
      $type: 'app.bsky.embed.video',
      video: { $type: 'blob', ref: { $link: cidOf(bytes) }, mimeType: 'video/mp4', size: 512_000 },
      alt: 'grey',
      aspectRatio: { width: 1080, height: 1920 },
    });
  });

  test('a stream larger than the PDS blob limit is refused before a byte is read or sent', async () => {
    // A self-hosted PDS advertising 1 MB: below the 2 MB the lexicon allows.
    const server = await startAtprotoDouble({ blobUploadLimit: 1_000_000 });
    let pulled = false;
    // highWaterMark 0: pull() runs only when someone reads, not eagerly at construction.
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled = true;
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const error = await providerFor(server)
      .publish({ post: { text: 'big', media: [{ stream, size: 1_500_000, mimeType: 'image/jpeg' }] }, auth: authFor(server), options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', rule: 'bluesky.media.max_blob_bytes', field: 'media.0' });
    expect(pulled).toBe(false);
    expect(server.requests.map((request) => request.url)).toEqual(['/xrpc/com.atproto.server.describeServer']);
  });

  test('a stream that ends short of its declared size fails the upload and posts nothing', async () => {
    const server = await startAtprotoDouble();
    const error = await providerFor(server)
      .publish({
        post: { text: 'short', media: [{ stream: streamOf(Buffer.alloc(1000, 1), 2), size: 4000, mimeType: 'image/png' }] },
        auth: authFor(server),
        options: {},
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', platform: 'bluesky' });
    expect(server.requests.some((request) => request.url === '/xrpc/com.atproto.repo.createRecord')).toBe(false);
  });
});
