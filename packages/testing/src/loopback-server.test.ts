import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { loadFixture, loadTextFixture } from './load-fixture.js';
import { startLoopbackServer, type LoopbackServer } from './loopback-server.js';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startLoopbackServer', () => {
  it('records method, path, headers and a streamed body chunk by chunk', async () => {
    server = await startLoopbackServer({
      handler: (recorded, response) => {
        response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ received: recorded.body.length }));
      },
    });
    async function* chunks() {
      for (let index = 0; index < 4; index += 1) {
        yield new Uint8Array(16 * 1024).fill(index);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    const response = await request(`${server.url}/upload?part=1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'x-trace': 'abc' },
      body: Readable.from(chunks()),
    });
    expect(response.statusCode).toBe(201);
    expect(await response.body.json()).toEqual({ received: 64 * 1024 });
    const [recorded] = server.requests;
    expect(recorded?.method).toBe('PUT');
    expect(recorded?.url).toBe('/upload?part=1');
    expect(recorded?.headers['x-trace']).toBe('abc');
    expect(recorded?.headers['transfer-encoding']).toBe('chunked');
    expect(recorded?.chunkCount).toBeGreaterThan(1);
    expect(recorded?.body[16 * 1024 * 3]).toBe(3);
  });

  it('answers 500 when the handler throws', async () => {
    server = await startLoopbackServer({
      handler: () => {
        throw new Error('boom');
      },
    });
    const response = await request(`${server.url}/x`, { method: 'POST', body: '{"a":1}' });
    expect(response.statusCode).toBe(500);
    expect(await response.body.text()).toMatch(/boom/);
    expect(server.requests[0]?.json()).toEqual({ a: 1 });
  });

  it('refuses bodies over maxBodyBytes with 413', async () => {
    server = await startLoopbackServer({ maxBodyBytes: 10 });
    const response = await request(`${server.url}/x`, { method: 'POST', body: 'x'.repeat(100) });
    expect(response.statusCode).toBe(413);
    await response.body.dump();
    expect(server.requests).toHaveLength(0);
  });
});

describe('loadFixture', () => {
  it('parses JSON fixtures next to the caller and reads text fixtures verbatim', async () => {
    expect(await loadFixture({ from: import.meta.url, name: 'example-token.json' })).toMatchObject({ token_type: 'Bearer' });
    expect(await loadTextFixture({ from: import.meta.url, name: 'example-token.json' })).toMatch(/^\{/);
  });

  it('refuses names escaping __fixtures__', async () => {
    await expect(loadFixture({ from: import.meta.url, name: '../index.ts' })).rejects.toThrow(/inside __fixtures__/);
  });
});
