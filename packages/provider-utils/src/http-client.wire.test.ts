import { LetmepostError } from '@letmepost/core';
import type { LookupFunction } from 'node:net';
import { inspect } from 'node:util';
import { Agent, errors as undiciErrors } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { closedPort, startLocalServer, type LocalServer } from './test-support/local-server.js';
import { createHttpClient, type HttpClientSettings } from './http-client.js';
import { guardedLookup } from './blocked-address.js';
import { failure } from './test-support/letmepost-failure.js';

// Behaviour nock cannot reproduce (streamed request bodies, resets, stalls, refused connections)
// against a real server on 127.0.0.1.

let server: LocalServer | undefined;
const dispatchers: Agent[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.destroy()));
});

function client(overrides: Partial<HttpClientSettings> = {}) {
  const sleeps: number[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  dispatchers.push(dispatcher);
  const http = createHttpClient({
    platform: 'twitter',
    dispatcher,
    retry: { random: () => 0, sleep: async ({ ms }) => void sleeps.push(ms) },
    ...overrides,
  });
  return { http, sleeps };
}

describe('streamed request bodies', () => {
  test('sent as read, with Content-Length, never buffered whole', async () => {
    let firstBytesSeen!: () => void;
    const firstBytes = new Promise<void>((resolve) => (firstBytesSeen = resolve));
    let received = 0;
    server = await startLocalServer(
      async (request, response) => {
        for await (const piece of request) {
          received += (piece as Buffer).byteLength;
          firstBytesSeen();
        }
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ received }));
      },
      { streamBody: true },
    );
    const pieceSize = 64 * 1024;
    const pieces = 64;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(pieceSize).fill(1);
      // If the client buffered the body before sending, the server would never see these first
      // bytes and this would wait forever (the test times out).
      await firstBytes;
      for (let index = 1; index < pieces; index += 1) yield new Uint8Array(pieceSize).fill(1);
    }
    const { http } = client();
    const response = await http.request({
      method: 'POST',
      url: `${server.origin}/upload`,
      body: { stream: source(), contentType: 'video/mp4', length: pieceSize * pieces },
      auth: { bearer: 'tok-123456' },
    });
    expect(response.json()).toEqual({ received: pieceSize * pieces });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers['content-length']).toBe(String(pieceSize * pieces));
    expect(server.requests[0]!.headers['content-type']).toBe('video/mp4');
    expect(server.requests[0]!.headers.authorization).toBe('Bearer tok-123456');
  });

  test('without a length: chunked transfer encoding', async () => {
    server = await startLocalServer((_request, response, recorded) => {
      response.writeHead(200).end(String(recorded.body.byteLength));
    });
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('hello ');
      yield new TextEncoder().encode('world');
    }
    const response = await client().http.request({ method: 'POST', url: `${server.origin}/x`, body: { stream: source(), contentType: 'text/plain' } });
    expect(response.text()).toBe('11');
    expect(server.requests[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(server.requests[0]!.body.toString()).toBe('hello world');
  });

  test('an idempotent PUT whose stream was consumed is not re-sent after a reset', async () => {
    server = await startLocalServer((request) => request.socket.destroy());
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
    }
    const { http, sleeps } = client();
    const error = await failure(
      http.request({ method: 'PUT', url: `${server.origin}/part`, body: { stream: source(), contentType: 'application/octet-stream', length: 10 }, retry: 'idempotent' }),
    );
    expect(error.code).toBe('platform_unavailable');
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe('failures after sending', () => {
  test('socket reset after a create was sent → publish_outcome_unknown, sent once', async () => {
    server = await startLocalServer((request) => request.socket.destroy());
    const { http, sleeps } = client();
    const error = await failure(http.request({ method: 'POST', url: `${server.origin}/2/tweets`, body: { json: { text: 'hi' } } }));
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.retryable).toBe(false);
    expect(error.platform).toBe('twitter');
    expect(error.message).toMatch(/failed after it was sent/);
    expect(server.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('the same reset on a GET is retried', async () => {
    server = await startLocalServer((request, response) => {
      if (server!.requests.length === 1) request.socket.destroy();
      else response.writeHead(200).end('{}');
    });
    const { http, sleeps } = client();
    const response = await http.request({ method: 'GET', url: `${server.origin}/2/users/me` });
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  test('headers timeout on a create → publish_outcome_unknown, sent once', async () => {
    server = await startLocalServer(() => {
      // Never answers.
    });
    const { http } = client({ timeouts: { headersMs: 150 } });
    const error = await failure(http.request({ method: 'POST', url: `${server.origin}/2/tweets`, body: { json: {} } }));
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('timed out waiting for the response headers');
    expect(server.requests).toHaveLength(1);
  });

  test('headers timeout on a GET is retried, then platform_unavailable', async () => {
    server = await startLocalServer(() => {});
    const { http, sleeps } = client({ timeouts: { headersMs: 100 } });
    const error = await failure(http.request({ method: 'GET', url: `${server.origin}/me` }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(true);
    expect(server.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  test('body timeout on a create (headers sent, body stalls) → publish_outcome_unknown', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.write('{"data":');
    });
    const { http } = client({ timeouts: { bodyMs: 150 } });
    const error = await failure(http.request({ method: 'POST', url: `${server.origin}/2/tweets`, body: { json: {} } }));
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.message).toContain('timed out reading the response body');
    expect(server.requests).toHaveLength(1);
  });

  test('byte cap enforced while streaming a chunked answer: the download is aborted', async () => {
    let closedEarly = false;
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const timer = setInterval(() => {
        if (response.destroyed || sent > 10 * 1024 * 1024) {
          clearInterval(timer);
          if (response.destroyed) closedEarly = true;
          response.end();
          return;
        }
        response.write(Buffer.alloc(16 * 1024, 32));
        sent += 16 * 1024;
      }, 1);
      response.on('close', () => {
        if (!response.writableFinished) closedEarly = true;
      });
    });
    const { http } = client({ maxResponseBytes: 64 * 1024 });
    const error = await failure(http.request({ method: 'GET', url: `${server.origin}/feed` }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('larger than 65536 bytes');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(true);
  });
});

describe('answers', () => {
  test('a body arriving in several pieces is returned whole, in order', async () => {
    server = await startLocalServer(async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (const piece of ['{"data":', '{"id":"17",', '"text":"héllo"}}']) {
        response.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      response.end();
    });
    const response = await client().http.request({ method: 'GET', url: `${server.origin}/2/tweets/17` });
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.json()).toEqual({ data: { id: '17', text: 'héllo' } });
    expect(response.body.byteLength).toBe(Buffer.byteLength('{"data":{"id":"17","text":"héllo"}}'));
  });

  test('a HEAD answer declaring a length above the byte cap is fine: no body comes with it', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(200, { 'content-length': String(64 * 1024 * 1024) }).end());
    const response = await client({ maxResponseBytes: 1024 }).http.request({ method: 'HEAD', url: `${server.origin}/video.mp4` });
    expect(response.status).toBe(200);
    expect(response.body.byteLength).toBe(0);
  });

  test('a declared length above the byte cap is refused before the body is read', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2048) });
      response.write('{"a":"');
    });
    const error = await failure(client({ maxResponseBytes: 1024 }).http.request({ method: 'GET', url: `${server.origin}/big` }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.message).toContain('larger than 1024 bytes');
  });
});

describe('failures before sending (safe to repeat for every method)', () => {
  test('connection refused on a create: retried, then platform_unavailable (retryable), never unknown', async () => {
    const port = await closedPort();
    const { http, sleeps } = client({ retry: { maxAttempts: 3, baseDelayMs: 100, random: () => 0.5, sleep: async ({ ms }) => void sleeps.push(ms) } });
    const error = await failure(http.request({ method: 'POST', url: `http://127.0.0.1:${port}/2/tweets`, body: { json: {} } }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('connection refused');
    expect(sleeps).toEqual([50, 100]);
  });

  test('over https too (where undici first probes for HTTP/2): connection refused on a create is retried, never unknown', async () => {
    const port = await closedPort();
    const { http, sleeps } = client({ retry: { maxAttempts: 3, baseDelayMs: 100, random: () => 0.5, sleep: async ({ ms }) => void sleeps.push(ms) } });
    const error = await failure(http.request({ method: 'POST', url: `https://127.0.0.1:${port}/2/tweets`, body: { json: {} } }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.message).toContain('connection refused');
    expect(sleeps).toEqual([50, 100]);
  });

  test('a guarded pool refusing the address (DNS says 127.0.0.1): validation_failed at once, no retry, nothing connects', async () => {
    const live = await startLocalServer((_request, response) => response.writeHead(201).end('{}'));
    server = live;
    const lookups: string[] = [];
    const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      lookups.push(hostname);
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as unknown as LookupFunction;
    const guarded = new Agent({ connect: { lookup: guardedLookup({ lookup, purpose: 'test requests' }) } });
    dispatchers.push(guarded);
    const { http, sleeps } = client({ dispatcher: guarded, retry: { maxAttempts: 3, random: () => 0, sleep: async ({ ms }) => void sleeps.push(ms) } });
    const url = `http://internal.example.test:${new URL(live.origin).port}/2/tweets`;
    const error = await failure(http.request({ method: 'POST', url, body: { json: { text: 'hi' } } }));
    expect(error).toMatchObject({ code: 'validation_failed', rule: 'http.blocked_address', retryable: false, platform: 'twitter' });
    expect(error.message).toBe(
      `POST ${new URL(url).origin}/2/tweets was not sent: internal.example.test resolves to 127.0.0.1, a private or internal address, which test requests may not reach.`,
    );
    expect(lookups).toEqual(['internal.example.test']);
    expect(sleeps).toEqual([]);
    expect(live.requests).toHaveLength(0);

    // The same lookup through a pool that allows private networks connects.
    const open = new Agent({ connect: { lookup } });
    dispatchers.push(open);
    const response = await client({ dispatcher: open }).http.request({ method: 'POST', url, body: { json: { text: 'hi' } } });
    expect(response.status).toBe(201);
    expect(live.requests).toHaveLength(1);
  });

  test('connection refused then up: a create goes out exactly once', async () => {
    let attempts = 0;
    const live = await startLocalServer((_request, response) => response.writeHead(201).end('{"data":{"id":"1"}}'));
    server = live;
    const port = Number(new URL(live.origin).port);
    const dispatcher = new Agent({
      connect: (options, callback) => {
        attempts += 1;
        if (attempts === 1) {
          callback(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), null);
          return;
        }
        import('node:net').then(({ connect }) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => callback(null, socket));
          socket.once('error', (error) => callback(error, null));
        });
      },
    });
    dispatchers.push(dispatcher);
    const { http } = client({ dispatcher });
    const response = await http.request({ method: 'POST', url: `${live.origin}/2/tweets`, body: { json: { text: 'hi' } } });
    expect(response.status).toBe(201);
    expect(attempts).toBe(2);
    expect(live.requests).toHaveLength(1);
    expect(live.requests[0]!.body.toString()).toBe('{"text":"hi"}');
  });

  test('connect timeout and DNS failure are retried for a create', async () => {
    for (const failureError of [
      new undiciErrors.ConnectTimeoutError('Connect Timeout Error'),
      Object.assign(new Error('getaddrinfo ENOTFOUND api.x.com'), { code: 'ENOTFOUND' }),
    ]) {
      let attempts = 0;
      const dispatcher = new Agent({
        connect: (_options, callback) => {
          attempts += 1;
          setTimeout(() => callback(failureError, null), 5);
        },
      });
      dispatchers.push(dispatcher);
      const { http, sleeps } = client({ dispatcher });
      const error = await failure(http.request({ method: 'POST', url: 'https://api.x.com/2/tweets', body: { json: {} } }));
      expect(error.code).toBe('platform_unavailable');
      expect(error.retryable).toBe(true);
      expect(attempts).toBe(3);
      expect(sleeps).toHaveLength(2);
    }
  });
});

describe('abort', () => {
  test('aborted before anything was sent: platform_unavailable, says so, nothing reached the server', async () => {
    server = await startLocalServer((_request, response) => response.end());
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    const error = await failure(
      client().http.request({ method: 'POST', url: `${server.origin}/2/tweets`, body: { json: {} }, signal: controller.signal }),
    );
    expect(error).toMatchObject({ code: 'platform_unavailable', retryable: true, platform: 'twitter' });
    expect(error.message).toContain('aborted by the caller before it was sent');
    expect(server.requests).toHaveLength(0);
  });

  test('aborted while connecting (nothing written): not unknown', async () => {
    const controller = new AbortController();
    const dispatcher = new Agent({
      connect: (_options, callback) => {
        controller.abort();
        setTimeout(() => callback(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), null), 5);
      },
    });
    dispatchers.push(dispatcher);
    const error = await failure(
      client({ dispatcher }).http.request({ method: 'POST', url: 'https://api.x.com/2/tweets', body: { json: {} }, signal: controller.signal }),
    );
    expect(error).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(error.message).toContain('before it was sent');
  });

  test('aborted after a create was sent → publish_outcome_unknown', async () => {
    const controller = new AbortController();
    server = await startLocalServer(() => controller.abort());
    const error = await failure(
      client().http.request({ method: 'POST', url: `${server.origin}/2/tweets`, body: { json: {} }, signal: controller.signal }),
    );
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.retryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  test('aborted during a retry wait stops the retries', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(503).end());
    const controller = new AbortController();
    const http = createHttpClient({ platform: 'twitter', retry: { baseDelayMs: 10_000, random: () => 1 } });
    const pending = failure(http.request({ method: 'GET', url: `${server.origin}/me`, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    const error = await pending;
    expect(error).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(error.message).toContain('aborted');
    expect(server.requests).toHaveLength(1);
  });
});

describe('canary secrets never surface', () => {
  test('bearer, OAuth 1.0a secrets: in message, toJSON and inspect of every failure kind', async () => {
    const bearer = 'canary-bearer-0123456789';
    const consumerSecret = 'canary-consumer-secret-abcdef';
    const tokenSecret = 'canary-token-secret-ghijkl';
    server = await startLocalServer((request, response) => {
      if (request.url?.startsWith('/reset')) {
        request.socket.destroy();
        return;
      }
      // A platform that echoes credentials back in its error.
      response.writeHead(400, { 'content-type': 'application/json' }).end(
        JSON.stringify({ detail: `bad ${bearer} ${consumerSecret} ${tokenSecret}`, echo: request.headers.authorization }),
      );
    });
    const { http } = client();
    // Each request knows only its own credentials; the server echoes whatever it received.
    const cases: Array<{ error: LetmepostError; secrets: string[] }> = [
      {
        error: await failure(http.request({ method: 'POST', url: `${server.origin}/x?access_token=${bearer}`, body: { json: {} }, auth: { bearer } })),
        secrets: [bearer],
      },
      {
        error: await failure(
          http.request({
            method: 'POST',
            url: `${server.origin}/x`,
            body: { form: { a: '1' } },
            auth: { oauth1: { consumerKey: 'ck', consumerSecret, token: 'tk-1234', tokenSecret } },
            secrets: [bearer],
          }),
        ),
        secrets: [bearer, consumerSecret, tokenSecret],
      },
      {
        error: await failure(http.request({ method: 'POST', url: `${server.origin}/reset?token=${bearer}`, body: { json: {} }, auth: { bearer }, secrets: [bearer] })),
        secrets: [bearer],
      },
    ];
    expect(cases.map(({ error }) => error.code)).toEqual(['platform_rejected', 'platform_rejected', 'publish_outcome_unknown']);
    for (const { error, secrets } of cases) {
      for (const surface of [error.message, JSON.stringify(error.toJSON()), inspect(error, { depth: 10 }), String(error.stack)]) {
        for (const secret of secrets) expect(surface).not.toContain(secret);
      }
    }
  });
});
