import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { createLetmepost, memoryTokenStore, type MediaProgressEvent, type PublishAuth } from '@letmepost/core';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { afterEach, describe, expect, it } from 'vitest';
import error403Video from './__fixtures__/error-403-video-forbidden.json' with { type: 'json' };
import imageInitialize from './__fixtures__/image-initialize.json' with { type: 'json' };
import videoAvailable from './__fixtures__/video-available.json' with { type: 'json' };
import videoInitialize from './__fixtures__/video-initialize.json' with { type: 'json' };
import videoProcessingFailed from './__fixtures__/video-processing-failed.json' with { type: 'json' };
import videoProcessing from './__fixtures__/video-processing.json' with { type: 'json' };
import type { LinkedInCredentials } from './linkedin-credentials.js';
import { createLinkedIn, type LinkedInProviderSettings } from './linkedin-provider.js';

/**
 * Media uploads stream their bodies, which nock cannot intercept, so these tests run the whole
 * flow against a real HTTP server on 127.0.0.1 playing LinkedIn's REST and upload hosts.
 */

const TOKEN = 'AQX_media_token_c4n4ry_6a0d31';
const POST_URN = 'urn:li:share:7300000000000000077';
const VIDEO_URN = videoInitialize.value.video;
const auth: PublishAuth<LinkedInCredentials> = { type: 'credentials', credentials: { accessToken: TOKEN, personId: '782bbtaQ' } };

interface LinkedInLoopback {
  server: LoopbackServer;
  /** Requests by route, in arrival order. */
  requests(filter: { method: string; path: string | RegExp }): RecordedRequest[];
}

interface LoopbackBehaviour {
  /** Answers to successive `GET /rest/videos/{urn}`. */
  videoStatuses?: Array<{ status: number; body: unknown }>;
  /** Where image upload URLs point (default: this server). */
  uploadBase?: string;
  imageInitialize?: { status: number; body: unknown };
  uploadStatus?: number;
  /** Video part answered 503 once before it is accepted. */
  failPartOnce?: number;
}

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function send(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  if (body === undefined) {
    response.writeHead(status, { 'content-length': '0', ...headers }).end();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function startLinkedIn(behaviour: LoopbackBehaviour = {}): Promise<LinkedInLoopback> {
  let images = 0;
  const videoStatuses = [...(behaviour.videoStatuses ?? [{ status: 200, body: videoAvailable }])];
  const server: LoopbackServer = await startLoopbackServer({
    handler: (request, response) => {
      const url = new URL(request.url, 'http://127.0.0.1');
      const route = `${request.method} ${url.pathname}`;
      const uploadBase = behaviour.uploadBase ?? server.url;
      if (route === 'POST /rest/images' && url.searchParams.get('action') === 'initializeUpload') {
        if (behaviour.imageInitialize) return send(response, behaviour.imageInitialize.status, behaviour.imageInitialize.body);
        images += 1;
        const body = structuredClone(imageInitialize);
        body.value.uploadUrl = `${uploadBase}/dms-uploads/image-${images}?ca=vector_feedshare&cn=uploads&m=AQ&sig=abc`;
        body.value.image = `urn:li:image:C4E10AQ${images}`;
        return send(response, 200, body);
      }
      if (request.method === 'PUT' && url.pathname.startsWith('/dms-uploads/image-')) return send(response, behaviour.uploadStatus ?? 201);
      if (route === 'POST /rest/videos' && url.searchParams.get('action') === 'initializeUpload') {
        return send(response, 200, JSON.parse(JSON.stringify(videoInitialize).replaceAll('{{uploadUrl}}', `${server.url}/dms-uploads/video`)));
      }
      const part = /^\/dms-uploads\/video\/part-(\d+)$/.exec(url.pathname);
      if (request.method === 'PUT' && part) {
        if (Number(part[1]) === behaviour.failPartOnce) {
          behaviour.failPartOnce = undefined;
          return send(response, 503, { status: 503, message: 'try again' });
        }
        return send(response, 200, undefined, { etag: `"etag-part-${part[1]}"` });
      }
      if (route === 'POST /rest/videos' && url.searchParams.get('action') === 'finalizeUpload') return send(response, 200);
      if (route === `GET /rest/videos/${encodeURIComponent(VIDEO_URN)}`) {
        const next = videoStatuses.length > 1 ? videoStatuses.shift() : videoStatuses[0];
        return send(response, next!.status, next!.body);
      }
      if (route === 'POST /rest/posts') return send(response, 201, undefined, { 'x-restli-id': POST_URN });
      if (request.method === 'POST' && url.pathname.startsWith('/rest/socialActions/')) return send(response, 201);
      return send(response, 404, { status: 404, message: `no route ${route}` });
    },
  });
  servers.push(server);
  return {
    server,
    requests: (filter) =>
      server.requests.filter((request) => {
        const path = new URL(request.url, 'http://127.0.0.1').pathname;
        return request.method === filter.method && (typeof filter.path === 'string' ? path === filter.path : filter.path.test(path));
      }),
  };
}

function provider(linkedIn: LinkedInLoopback, settings: LinkedInProviderSettings = {}) {
  return createLinkedIn({
    apiBaseUrl: linkedIn.server.url,
    apiVersion: '202607',
    videoProcessing: { pollIntervalMs: 0, maxWaitMs: 0 },
    http: { retry: { maxAttempts: 1 } },
    ...settings,
  });
}

function expectRestHeaders(request: RecordedRequest | undefined) {
  expect(request?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request?.headers['linkedin-version']).toBe('202607');
  expect(request?.headers['x-restli-protocol-version']).toBe('2.0.0');
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += size) yield bytes.subarray(offset, offset + size);
}

describe('Images API', () => {
  it('initializes the upload as the author, PUTs the exact bytes, and posts the image URN with alt text', async () => {
    const linkedIn = await startLinkedIn();
    const bytes = new Uint8Array(randomBytes(300_000));
    const progress: MediaProgressEvent[] = [];
    const result = await provider(linkedIn).publish({
      post: { text: 'A photo', media: [{ data: bytes, mimeType: 'image/png', altText: 'A red bicycle' }] },
      auth,
      options: {},
      onProgress: (event) => progress.push(event),
    });

    const [initialize] = linkedIn.requests({ method: 'POST', path: '/rest/images' });
    expect(initialize?.url).toBe('/rest/images?action=initializeUpload');
    expectRestHeaders(initialize);
    expect(initialize?.json()).toEqual({ initializeUploadRequest: { owner: 'urn:li:person:782bbtaQ' } });

    const [upload] = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\// });
    expect(upload?.url).toBe('/dms-uploads/image-1?ca=vector_feedshare&cn=uploads&m=AQ&sig=abc');
    expect(upload?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(upload?.headers['content-type']).toBe('image/png');
    expect(upload?.headers['content-length']).toBe('300000');
    expect(upload?.headers['linkedin-version']).toBeUndefined();
    expect(Buffer.compare(upload!.body, Buffer.from(bytes))).toBe(0);

    const [post] = linkedIn.requests({ method: 'POST', path: '/rest/posts' });
    expectRestHeaders(post);
    expect(post?.json()).toEqual({
      author: 'urn:li:person:782bbtaQ',
      commentary: 'A photo',
      visibility: 'PUBLIC',
      distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
      content: { media: { id: 'urn:li:image:C4E10AQ1', altText: 'A red bicycle' } },
    });
    expect(result).toMatchObject({ status: 'published', postId: POST_URN });
    expect(progress.at(-1)).toEqual({ itemIndex: 0, mediaIndex: 0, bytesSent: 300_000, totalBytes: 300_000 });
  });

  it('streams a caller stream to the upload URL without buffering it', async () => {
    const linkedIn = await startLinkedIn();
    const bytes = new Uint8Array(randomBytes(2 * 1024 * 1024));
    await provider(linkedIn).publish({
      post: { text: '', media: [{ stream: pieces(bytes, 64 * 1024), size: bytes.byteLength, mimeType: 'image/jpeg' }] },
      auth,
      options: {},
    });
    const [upload] = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\// });
    expect(upload?.headers['content-length']).toBe(String(bytes.byteLength));
    expect(upload!.chunkCount, 'the body arrived in pieces as it was read').toBeGreaterThan(1);
    expect(Buffer.compare(upload!.body, Buffer.from(bytes))).toBe(0);
  });

  it('makes a multi-image post with each image’s alt text, in order', async () => {
    const linkedIn = await startLinkedIn();
    const image = (fill: number) => new Uint8Array(1000).fill(fill);
    await provider(linkedIn).publish({
      post: {
        text: 'Gallery',
        media: [
          { data: image(1), mimeType: 'image/png', altText: 'one' },
          { data: image(2), mimeType: 'image/jpeg' },
          { data: image(3), mimeType: 'image/gif', altText: 'three' },
        ],
      },
      auth,
      options: {},
    });
    const uploads = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\// });
    expect(uploads.map((upload) => [upload.url.split('?')[0], upload.headers['content-type'], upload.body[0]])).toEqual([
      ['/dms-uploads/image-1', 'image/png', 1],
      ['/dms-uploads/image-2', 'image/jpeg', 2],
      ['/dms-uploads/image-3', 'image/gif', 3],
    ]);
    const [post] = linkedIn.requests({ method: 'POST', path: '/rest/posts' });
    expect((post?.json() as { content: unknown }).content).toEqual({
      multiImage: {
        images: [
          { id: 'urn:li:image:C4E10AQ1', altText: 'one' },
          { id: 'urn:li:image:C4E10AQ2' },
          { id: 'urn:li:image:C4E10AQ3', altText: 'three' },
        ],
      },
    });
  });

  it('fetches { url } media (private network allowed here) and uploads it', async () => {
    const bytes = new Uint8Array(randomBytes(5000));
    const origin = await startLoopbackServer({
      handler: (_request, response) => {
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(bytes.byteLength) }).end(Buffer.from(bytes));
      },
    });
    servers.push(origin);
    const linkedIn = await startLinkedIn();
    await provider(linkedIn, { allowPrivateNetwork: true }).publish({
      post: { text: 'From a URL', media: [{ url: `${origin.url}/photo.png`, mimeType: 'image/png' }] },
      auth,
      options: {},
    });
    const [upload] = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\// });
    expect(Buffer.compare(upload!.body, Buffer.from(bytes))).toBe(0);
  });

  it('refuses a { url } on a private address by default', async () => {
    const linkedIn = await startLinkedIn();
    const error = await provider(linkedIn)
      .publish({ post: { text: 'x', media: [{ url: 'http://127.0.0.1:9/secret.png', mimeType: 'image/png' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_unreachable' });
    expect(linkedIn.server.requests).toHaveLength(0);
  });

  it('sends the bytes without the member’s token to an upload host that is not LinkedIn’s', async () => {
    const cdn = await startLoopbackServer({ handler: (_request, response) => send(response, 201) });
    servers.push(cdn);
    const linkedIn = await startLinkedIn({ uploadBase: cdn.url });
    await provider(linkedIn).publish({ post: { text: '', media: [{ data: new Uint8Array(10), mimeType: 'image/png' }] }, auth, options: {} });
    expect(cdn.requests).toHaveLength(1);
    expect(cdn.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('maps a refused initializeUpload to media_invalid and posts nothing', async () => {
    const linkedIn = await startLinkedIn({ imageInitialize: { status: 400, body: { status: 400, message: 'Invalid owner' } } });
    const error = await provider(linkedIn)
      .publish({ post: { text: 'x', media: [{ data: new Uint8Array(10), mimeType: 'image/png' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid', platform: 'linkedin' });
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);
  });

  it('reports a failed upload as a plain failure (never outcome-unknown), without leaking the token', async () => {
    const linkedIn = await startLinkedIn({ uploadStatus: 500 });
    const error = await provider(linkedIn)
      .publish({ post: { text: 'x', media: [{ data: new Uint8Array(10), mimeType: 'image/png' }] }, auth, options: {} })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'platform_unavailable' });
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain('sig=abc');
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);
  });
});

describe('a processing video finished through letmepost.resume', () => {
  /** The three parts of the recorded initializeUpload answer. */
  const size = 9_437_184;
  it('ends pending with checkAfterMs, resume posts it with exactly one create, and a second resume sends nothing', async () => {
    const linkedIn = await startLinkedIn({
      videoStatuses: [
        ...Array.from({ length: 4 }, () => ({ status: 200, body: videoProcessing })),
        { status: 200, body: videoAvailable },
      ],
    });
    const letmepost = createLetmepost({
      providers: [provider(linkedIn, { videoProcessing: { pollIntervalMs: 2, maxWaitMs: 4 } })],
      store: memoryTokenStore(),
      encryptionKey: randomBytes(32).toString('base64'),
      baseUrl: 'https://app.example.com',
    });
    const credentials = { accessToken: TOKEN, personId: '782bbtaQ' };
    const [pending] = await letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'Processing video', media: [{ data: new Uint8Array(size), mimeType: 'video/mp4' }] },
      targets: [{ platform: 'linkedin', credentials }],
    });
    expect(pending).toMatchObject({ status: 'pending', platform: 'linkedin', checkAfterMs: 2, resumeToken: expect.any(String) });
    expect(pending?.resumeToken).not.toContain(VIDEO_URN);
    // publish looked three times within its budget (now, +2 ms, +4 ms) and created nothing.
    expect(linkedIn.requests({ method: 'GET', path: /^\/rest\/videos\// })).toHaveLength(3);
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);

    const still = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    expect(still).toMatchObject({ status: 'pending', checkAfterMs: 2 });
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);

    const done = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: still.resumeToken!, credentials });
    expect(done).toEqual({ status: 'published', platform: 'linkedin', postId: POST_URN, url: `https://www.linkedin.com/feed/update/${POST_URN}/`, warnings: [] });
    const posts = linkedIn.requests({ method: 'POST', path: '/rest/posts' });
    expect(posts).toHaveLength(1);
    expect(posts[0]?.json()).toMatchObject({ commentary: 'Processing video', content: { media: { id: VIDEO_URN } } });
    expectRestHeaders(posts[0]);

    const requestsBefore = linkedIn.server.requests.length;
    const again = await letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    expect(again).toEqual(done);
    expect(linkedIn.server.requests).toHaveLength(requestsBefore);
  });
});

describe('Videos API', () => {
  // The fixture's instructions: 4 MiB, 4 MiB, then the last 1 MiB.
  const size = 9_437_184;

  it('initializes with the size, PUTs each part’s exact byte range, finalizes with the ETags in order, then posts', async () => {
    const linkedIn = await startLinkedIn();
    const bytes = new Uint8Array(randomBytes(size));
    const progress: MediaProgressEvent[] = [];
    const result = await provider(linkedIn).publish({
      post: { text: 'Watch', media: [{ stream: pieces(bytes, 1_000_003), size, mimeType: 'video/mp4' }] },
      auth,
      options: { videoTitle: 'Demo' },
      onProgress: (event) => progress.push(event),
    });

    const [initialize, finalize] = linkedIn.requests({ method: 'POST', path: '/rest/videos' });
    expect(initialize?.url).toBe('/rest/videos?action=initializeUpload');
    expectRestHeaders(initialize);
    expect(initialize?.json()).toEqual({
      initializeUploadRequest: { owner: 'urn:li:person:782bbtaQ', fileSizeBytes: size, uploadCaptions: false, uploadThumbnail: false },
    });

    const parts = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\/video\// });
    expect(parts.map((part) => [part.url, part.body.byteLength, part.headers['content-type']])).toEqual([
      ['/dms-uploads/video/part-0', 4_194_304, 'application/octet-stream'],
      ['/dms-uploads/video/part-1', 4_194_304, 'application/octet-stream'],
      ['/dms-uploads/video/part-2', 1_048_576, 'application/octet-stream'],
    ]);
    expect(Buffer.compare(Buffer.concat(parts.map((part) => part.body)), Buffer.from(bytes))).toBe(0);

    expect(finalize?.url).toBe('/rest/videos?action=finalizeUpload');
    expectRestHeaders(finalize);
    expect(finalize?.json()).toEqual({
      finalizeUploadRequest: { video: VIDEO_URN, uploadToken: '', uploadedPartIds: ['"etag-part-0"', '"etag-part-1"', '"etag-part-2"'] },
    });

    const [status] = linkedIn.requests({ method: 'GET', path: /^\/rest\/videos\// });
    expectRestHeaders(status);
    const [post] = linkedIn.requests({ method: 'POST', path: '/rest/posts' });
    expect((post?.json() as { content: unknown }).content).toEqual({ media: { id: VIDEO_URN, title: 'Demo' } });
    expect(result).toMatchObject({ status: 'published', postId: POST_URN });
    expect(progress.map((event) => event.bytesSent)).toEqual([4_194_304, 8_388_608, size]);
  });

  it('reads a video file stream from its descriptor straight into the part buffer', async () => {
    const linkedIn = await startLinkedIn();
    const bytes = new Uint8Array(randomBytes(size));
    const directory = await mkdtemp(join(tmpdir(), 'letmepost-linkedin-'));
    try {
      const path = join(directory, 'clip.mp4');
      await writeFile(path, bytes);
      const stream = createReadStream(path);
      const result = await provider(linkedIn).publish({
        post: { text: 'Watch', media: [{ stream, size, mimeType: 'video/mp4' }] },
        auth,
        options: {},
      });
      const parts = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\/video\// });
      expect(parts.map((part) => part.body.byteLength)).toEqual([4_194_304, 4_194_304, 1_048_576]);
      expect(Buffer.compare(Buffer.concat(parts.map((part) => part.body)), Buffer.from(bytes))).toBe(0);
      // Never read through the stream (a fresh buffer per read); closed afterwards all the same.
      expect(stream.bytesRead).toBe(0);
      expect(stream.destroyed).toBe(true);
      expect(result).toMatchObject({ status: 'published', postId: POST_URN });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('re-sends a failed part with its own bytes before reading the next part into the shared buffer', async () => {
    const linkedIn = await startLinkedIn({ failPartOnce: 1 });
    const bytes = new Uint8Array(randomBytes(size));
    const result = await provider(linkedIn, { http: { retry: { maxAttempts: 3, sleep: async () => {} } } }).publish({
      post: { text: 'Watch', media: [{ stream: pieces(bytes, 65_536), size, mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });

    const parts = linkedIn.requests({ method: 'PUT', path: /^\/dms-uploads\/video\// });
    expect(parts.map((part) => part.url)).toEqual([
      '/dms-uploads/video/part-0',
      '/dms-uploads/video/part-1',
      '/dms-uploads/video/part-1',
      '/dms-uploads/video/part-2',
    ]);
    const expected = (start: number, end: number) => Buffer.from(bytes.subarray(start, end));
    expect(parts[1]!.body.equals(expected(4_194_304, 8_388_608))).toBe(true);
    expect(parts[2]!.body.equals(expected(4_194_304, 8_388_608))).toBe(true);
    expect(Buffer.compare(Buffer.concat([parts[0]!.body, parts[2]!.body, parts[3]!.body]), Buffer.from(bytes))).toBe(0);
    expect(result).toMatchObject({ status: 'published' });
  });

  it('answers pending while LinkedIn processes the video; checkStatus only reads, finalize posts once available', async () => {
    const linkedIn = await startLinkedIn({
      videoStatuses: [
        { status: 200, body: videoProcessing },
        { status: 200, body: videoProcessing },
        { status: 200, body: videoProcessing },
        { status: 200, body: videoAvailable },
      ],
    });
    const linkedInProvider = provider(linkedIn, { videoProcessing: { pollIntervalMs: 1, maxWaitMs: 1 } });
    const pending = await linkedInProvider.publish({
      post: { text: 'Later', firstComment: 'more', media: [{ data: new Uint8Array(size), mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });
    expect(pending).toMatchObject({ status: 'pending', checkAfterMs: 1, resume: { v: 1, video: VIDEO_URN } });
    expect(JSON.stringify(pending.resume)).not.toContain(TOKEN);
    expect(linkedIn.requests({ method: 'GET', path: /^\/rest\/videos\// })).toHaveLength(2);
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);

    const stillPending = await linkedInProvider.checkStatus!({ auth, resume: pending.resume! });
    expect(stillPending).toEqual({ status: 'pending', warnings: [], checkAfterMs: 1 });
    expect(await linkedInProvider.checkStatus!({ auth, resume: pending.resume! })).toEqual({ status: 'ready' });
    expect(linkedIn.requests({ method: 'GET', path: /^\/rest\/videos\// })).toHaveLength(4);
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);

    const done = await linkedInProvider.finalize!({ auth, resume: pending.resume! });
    expect(done).toMatchObject({ status: 'published', postId: POST_URN });
    const posts = linkedIn.requests({ method: 'POST', path: '/rest/posts' });
    expect(posts).toHaveLength(1);
    expect(posts[0]?.json()).toMatchObject({ commentary: 'Later', content: { media: { id: VIDEO_URN } } });
    // The first comment travels in the resume state and is added once the post exists.
    expect(linkedIn.requests({ method: 'POST', path: /^\/rest\/socialActions\// })).toHaveLength(1);
  });

  it('fails with media_invalid when LinkedIn cannot process the video', async () => {
    const linkedIn = await startLinkedIn({ videoStatuses: [{ status: 200, body: videoProcessingFailed }] });
    const result = await provider(linkedIn).publish({
      post: { text: 'x', media: [{ data: new Uint8Array(size), mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ code: 'media_invalid' });
    expect(result.error?.message).toContain('Video format not supported');
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);
  });

  it('posts anyway, with a warning, when the token may not read the video’s state', async () => {
    const linkedIn = await startLinkedIn({ videoStatuses: [{ status: 403, body: error403Video }] });
    const result = await provider(linkedIn).publish({
      post: { text: 'x', media: [{ data: new Uint8Array(size), mimeType: 'video/mp4' }] },
      auth,
      options: {},
    });
    expect(result.status).toBe('published');
    expect(result.warnings.map((warning) => warning.code)).toEqual(['linkedin.video.status_unreadable']);
  });

  it('rejects resume state it did not produce, before any request', async () => {
    const linkedIn = await startLinkedIn();
    for (const method of ['checkStatus', 'finalize'] as const) {
      await expect(provider(linkedIn)[method]!({ auth, resume: { v: 1, video: 'not-a-video' } })).rejects.toMatchObject({
        code: 'validation_failed',
        field: 'resume',
      });
    }
    expect(linkedIn.server.requests).toHaveLength(0);
  });

  it('fails a stream shorter than its declared size as media_invalid, before finalizing', async () => {
    const linkedIn = await startLinkedIn();
    const error = await provider(linkedIn)
      .publish({
        post: { text: 'x', media: [{ stream: pieces(new Uint8Array(size - 10), 65_536), size, mimeType: 'video/mp4' }] },
        auth,
        options: {},
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'media_invalid' });
    expect(linkedIn.requests({ method: 'POST', path: '/rest/videos' })).toHaveLength(1);
    expect(linkedIn.requests({ method: 'POST', path: '/rest/posts' })).toHaveLength(0);
  });
});
