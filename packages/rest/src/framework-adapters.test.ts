import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createBluesky } from '@letmepost/provider-bluesky';
import { blueskyUser, startSandbox, type Sandbox } from '@letmepost/sandbox';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { NextRequest } from 'next/server.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toNodeListener } from './node-adapter.js';
import { createRestHandler } from './rest-handler.js';

// Each framework is mounted for real and driven over HTTP (or its own request object for
// Next.js route handlers): connect a Bluesky account through POST /v1/accounts, list it back.
let sandbox: Sandbox;
let handler: (request: Request) => Promise<Response>;

beforeAll(async () => {
  sandbox = await startSandbox();
  const letmepost = createLetmepost({
    providers: [createBluesky({ ...sandbox.endpoints.bluesky, allowPrivateNetwork: true })],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: 'http://127.0.0.1',
  });
  handler = createRestHandler({
    letmepost,
    authenticate: (request) => (request.headers.get('authorization') === 'Bearer k' ? { workspaceId: 'ws' } : null),
  });
});
afterAll(async () => sandbox.close());

const connectBody = JSON.stringify({ platform: 'bluesky', credentials: { identifier: blueskyUser.handle, app_password: blueskyUser.appPassword } });
const jsonHeaders = { authorization: 'Bearer k', 'content-type': 'application/json' };

async function exercise(baseUrl: string): Promise<void> {
  const unauthenticated = await fetch(`${baseUrl}/v1/accounts`);
  expect(unauthenticated.status).toBe(401);
  const created = await fetch(`${baseUrl}/v1/accounts`, { method: 'POST', headers: jsonHeaders, body: connectBody });
  expect(created.status).toBe(201);
  const listed = (await (await fetch(`${baseUrl}/v1/accounts`, { headers: jsonHeaders })).json()) as { data: Array<{ username: string }>; request_id: string };
  expect(listed.data.map((account) => account.username)).toContain(blueskyUser.handle);
  expect(listed.request_id).toMatch(/^req_/);
}

async function listen(server: import('node:http').Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('framework adapters', () => {
  it('Hono: app.all("/v1/*", (c) => handler(c.req.raw))', async () => {
    const app = new Hono();
    app.all('/v1/*', (context) => handler(context.req.raw));
    const server = createServer(async (request, response) => toNodeListener(async (webRequest) => app.fetch(webRequest))(request, response));
    const baseUrl = await listen(server);
    try {
      await exercise(baseUrl);
    } finally {
      server.close();
    }
  });

  it('Express: app.use(toNodeListener(handler)), also behind express.json()', async () => {
    for (const withBodyParser of [false, true]) {
      const app = express();
      if (withBodyParser) app.use(express.json());
      app.use('/v1', toNodeListener(handler));
      const server = createServer(app);
      const baseUrl = await listen(server);
      try {
        await exercise(baseUrl);
      } finally {
        server.close();
      }
    }
  });

  it('Fastify: a catch-all route that hands the raw request to the listener', async () => {
    const app = Fastify();
    const listener = toNodeListener(handler);
    // Fastify parses bodies itself; let it stream through untouched instead.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    app.all('/v1/*', async (request, reply) => {
      reply.hijack();
      await listener(request.raw, reply.raw);
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await exercise(address);
    } finally {
      await app.close();
    }
  });

  it('Next.js route handlers: export const GET = handler, POST = handler', async () => {
    // What app/v1/[...path]/route.ts exports; Next calls them with a NextRequest.
    const route = { GET: handler, POST: handler, DELETE: handler };
    const created = await route.POST(new NextRequest('http://localhost:3000/v1/accounts', { method: 'POST', headers: jsonHeaders, body: connectBody }));
    expect(created.status).toBe(201);
    const listed = await route.GET(new NextRequest('http://localhost:3000/v1/accounts', { headers: jsonHeaders }));
    expect(((await listed.json()) as { data: Array<{ username: string }> }).data.map((account) => account.username)).toContain(blueskyUser.handle);
  });
});
