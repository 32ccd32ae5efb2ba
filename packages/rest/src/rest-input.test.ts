import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createBluesky } from '@letmepost/provider-bluesky';
import { createTwitter } from '@letmepost/provider-twitter';
import { afterEach, describe, expect, it } from 'vitest';
import { toNodeListener } from './node-adapter.js';
import { createRestHandler } from './rest-handler.js';
import { MAX_JSON_DEPTH, jsonNestsDeeperThan } from './request-body.js';

const BASE = 'http://api.test';
const CAP = 64 * 1024;
const CHUNK = 16 * 1024;

function createHandler() {
  const letmepost = createLetmepost({
    providers: [createTwitter(), createBluesky()],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: BASE,
  });
  return createRestHandler({
    letmepost,
    authenticate: (request) => (request.headers.get('authorization') === 'Bearer key-a' ? { workspaceId: 'ws-a' } : null),
    maxBodyBytes: CAP,
  });
}

async function call(options: { method: string; path: string; body?: string }) {
  const response = await createHandler()(
    new Request(`${BASE}${options.path}`, {
      method: options.method,
      headers: { authorization: 'Bearer key-a', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(options.body === undefined ? {} : { body: options.body }),
    }),
  );
  return { status: response.status, json: (await response.json()) as { error: Record<string, any> } };
}

/** A body stream that never ends; counts what the handler pulled and whether it cancelled. */
function endlessBody() {
  const seen = { pulledBytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulledBytes += CHUNK;
      controller.enqueue(new Uint8Array(CHUNK).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

describe('a body larger than the cap', () => {
  it('is read only up to the cap: a body that never ends is answered 413 and cancelled', async () => {
    const { stream, seen } = endlessBody();
    const response = await createHandler()(
      new Request(`${BASE}/v1/posts`, {
        method: 'POST',
        headers: { authorization: 'Bearer key-a', 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    expect(seen.cancelled).toBe(true);
    // The cap plus what the stream had queued ahead, never the whole (endless) body.
    expect(seen.pulledBytes).toBeLessThanOrEqual(CAP + 3 * CHUNK);
  });

  it('is refused unread when its declared length is over the cap', async () => {
    const { stream, seen } = endlessBody();
    const response = await createHandler()(
      new Request(`${BASE}/v1/posts`, {
        method: 'POST',
        headers: { authorization: 'Bearer key-a', 'content-type': 'application/json', 'content-length': String(CAP + 1) },
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect(seen.pulledBytes).toBeLessThanOrEqual(CHUNK);
  });

  describe('through node:http', () => {
    let server: Server | undefined;
    afterEach(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    });

    it('answers 413 while the client is still sending an endless chunked body, then closes the connection', async () => {
      server = createServer(toNodeListener(createHandler()));
      server.keepAliveTimeout = 100;
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;

      const socket = connect({ host: '127.0.0.1', port });
      let sent = 0;
      let answer = '';
      let writer: NodeJS.Timeout | undefined;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => {});
      socket.on('data', (data: Buffer) => {
        answer += data.toString('latin1');
      });
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(
        'POST /v1/posts HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer key-a\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      const chunk = `${CHUNK.toString(16)}\r\n${' '.repeat(CHUNK)}\r\n`;
      // Writes forever (until the server closes the connection): the body never ends on its own.
      writer = setInterval(() => {
        if (socket.destroyed || !socket.writable) return;
        socket.write(chunk);
        sent += CHUNK;
      }, 2);
      await closed;
      clearInterval(writer);

      expect(answer.startsWith('HTTP/1.1 413')).toBe(true);
      expect(answer.toLowerCase()).toContain('connection: close');
      expect(answer).toContain('"payload_too_large"');
      // The server answered while the body was still coming, not after reading it all.
      expect(sent).toBeGreaterThan(CAP);
    });
  });
});

describe('deeply nested JSON', () => {
  it('5,000 levels in about 10 kB answer 422 validation_failed, without walking them', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const body = `{"post":{"text":"x"},"targets":[{"account_id":"acc_1","options":{"a":${deep}}}]}`;
    expect(body.length).toBeLessThan(11_000);
    const { status, json } = await call({ method: 'POST', path: '/v1/posts', body });
    expect(status).toBe(422);
    expect(json.error).toMatchObject({ code: 'validation_failed', rule: 'body.max_depth', field: 'body' });
  });

  it('counts only structure: brackets inside strings and escaped quotes do not nest', () => {
    expect(jsonNestsDeeperThan({ text: JSON.stringify({ text: '[[[[{{{{'.repeat(100), quote: '"\\"[' }), maxDepth: 2 })).toBe(false);
    expect(jsonNestsDeeperThan({ text: '[[[1]]]', maxDepth: 2 })).toBe(true);
    let nested: unknown = 'leaf';
    for (let level = 0; level < MAX_JSON_DEPTH; level += 1) nested = { n: nested };
    expect(jsonNestsDeeperThan({ text: JSON.stringify(nested), maxDepth: MAX_JSON_DEPTH })).toBe(false);
    expect(jsonNestsDeeperThan({ text: JSON.stringify({ n: nested }), maxDepth: MAX_JSON_DEPTH })).toBe(true);
  });
});

describe('malformed paths and ids', () => {
  it.each([
    ['a truncated escape', '/v1/accounts/%E0%A4%A'],
    ['a lone surrogate escape', '/v1/accounts/%ED%A0%80'],
    ['a non-hex escape', '/v1/accounts/%zz'],
  ])('%s in the path answers 400 validation_failed', async (_name, path) => {
    const { status, json } = await call({ method: 'DELETE', path });
    expect(status).toBe(400);
    expect(json.error.code).toBe('validation_failed');
  });

  it('an account id with a lone surrogate in the body answers 422 naming the field', async () => {
    const { status, json } = await call({
      method: 'POST',
      path: '/v1/posts',
      body: JSON.stringify({ post: { text: 'hi' }, targets: [{ account_id: 'acc_\ud800' }] }),
    });
    expect(status).toBe(422);
    expect(json.error.code).toBe('validation_failed');
    expect(json.error.issues.map((issue: { field: string }) => issue.field)).toContain('targets.0.account_id');
  });
});

describe('a platform the host did not install', () => {
  it('answers 422 naming the installed platforms when connecting', async () => {
    const { status, json } = await call({ method: 'POST', path: '/v1/connect/sessions', body: JSON.stringify({ platform: 'tiktok' }) });
    expect(status).toBe(422);
    expect(json.error).toMatchObject({ code: 'validation_failed', rule: 'platform.not_installed', field: 'platform', platform: 'tiktok' });
    expect(json.error.message).toContain('installed: twitter, bluesky');
  });

  it('answers 422 naming the installed platforms when publishing with credentials', async () => {
    const { status, json } = await call({
      method: 'POST',
      path: '/v1/posts',
      body: JSON.stringify({ post: { text: 'hi' }, targets: [{ platform: 'telegram', credentials: { bot_token: 'x' } }] }),
    });
    expect(status).toBe(422);
    expect(json.error.code).toBe('validation_failed');
    expect(JSON.stringify(json.error.issues)).toContain('installed: twitter, bluesky');
  });
});
