import type { ServerResponse } from 'node:http';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { afterAll, afterEach, beforeAll } from 'vitest';
import businessOwnedPages from '../__fixtures__/business-owned-pages.json' with { type: 'json' };
import commentCreated from '../__fixtures__/comment-created.json' with { type: 'json' };
import feedCreated from '../__fixtures__/feed-created.json' with { type: 'json' };
import meAccounts from '../__fixtures__/me-accounts.json' with { type: 'json' };
import meBusinesses from '../__fixtures__/me-businesses.json' with { type: 'json' };
import mePermissionsGranted from '../__fixtures__/me-permissions-granted.json' with { type: 'json' };
import photoPublished from '../__fixtures__/photo-published.json' with { type: 'json' };
import tokenLongLived from '../__fixtures__/token-long-lived.json' with { type: 'json' };
import tokenShortLived from '../__fixtures__/token-short-lived.json' with { type: 'json' };
import videoCreated from '../__fixtures__/video-created.json' with { type: 'json' };

export const GRAPH_VERSION = 'v26.0';

/**
 * A Graph API stand-in on 127.0.0.1 that answers every call the provider makes with the captured
 * fixtures and records the requests as they arrived (streamed bodies included), for the upload
 * and contract tests. nock cannot replay streamed request bodies.
 */
export interface FakeGraph {
  server: LoopbackServer;
  url: string;
  /** Parameters of a recorded request: its query, plus its form or multipart fields (a file part reads `<file N bytes>`). */
  paramsOf(request: RecordedRequest): Record<string, string>;
  /** Path without the version prefix and query: `101/feed`. */
  pathOf(request: RecordedRequest): string;
  /** Answers with the given status and body for the next request matching `method path` (once). */
  failNext(options: { method: string; path: string; status: number; body: unknown }): void;
  close(): Promise<void>;
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function parseMultipart(request: RecordedRequest): Record<string, string> {
  const type = request.headers['content-type'] ?? '';
  const boundary = /boundary=(.+)$/.exec(type)?.[1];
  if (boundary === undefined) return {};
  const fields: Record<string, string> = {};
  const text = request.body.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    const name = /name="([^"]+)"/.exec(part)?.[1];
    if (name === undefined) continue;
    const start = part.indexOf('\r\n\r\n');
    const value = part.slice(start + 4, part.length - 2);
    fields[name] = /filename="/.test(part) ? `<file ${Buffer.byteLength(value, 'latin1')} bytes>` : value;
  }
  return fields;
}

export async function startFakeGraph(): Promise<FakeGraph> {
  const failures: Array<{ method: string; path: string; status: number; body: unknown }> = [];
  let url = '';
  const pathOf = (request: RecordedRequest): string => new URL(request.url, 'http://x').pathname.replace(new RegExp(`^/${GRAPH_VERSION.replace('.', '\\.')}/`), '').replace(/^\//, '');
  const server = await startLoopbackServer({
    handler: (request, response) => {
      const path = pathOf(request);
      const query = new URL(request.url, 'http://x').searchParams;
      const failure = failures.findIndex((entry) => entry.method === request.method && entry.path === path);
      if (failure >= 0) {
        const [entry] = failures.splice(failure, 1);
        reply(response, entry!.status, entry!.body);
        return;
      }
      const key = `${request.method} ${path}`;
      if (key === 'POST oauth/access_token') return reply(response, 200, tokenShortLived);
      if (key === 'GET oauth/access_token') return reply(response, 200, tokenLongLived);
      if (key === 'GET me/accounts') return reply(response, 200, meAccounts);
      if (key === 'GET me/businesses') return reply(response, 200, meBusinesses);
      if (key === 'GET 900/owned_pages') return reply(response, 200, businessOwnedPages);
      if (key === 'GET 900/client_pages') return reply(response, 200, { data: [] });
      if (key === 'GET me/permissions') return reply(response, 200, mePermissionsGranted);
      if (key === 'DELETE me/permissions') return reply(response, 200, { success: true });
      if (/^POST \d+\/feed$/.test(key)) return reply(response, 200, feedCreated);
      if (/^POST \d+\/photos$/.test(key)) {
        const fields = { ...Object.fromEntries(new URLSearchParams(request.text())), ...parseMultipart(request) };
        return reply(response, 200, fields.published === 'false' ? { id: `29${request.body.length % 90}` } : photoPublished);
      }
      if (/^POST \d+\/videos$/.test(key)) return reply(response, 200, videoCreated);
      if (/^POST \d+\/video_reels$/.test(key)) {
        const fields = Object.fromEntries(new URLSearchParams(request.text()));
        if (fields.upload_phase === 'start') return reply(response, 200, { video_id: '4001', upload_url: `${url}/video-upload/${GRAPH_VERSION}/4001` });
        return reply(response, 200, { success: true });
      }
      if (key === `POST video-upload/${GRAPH_VERSION}/4001`) return reply(response, 200, { success: true });
      if (/^POST [\d_]+\/comments$/.test(key)) return reply(response, 200, commentCreated);
      if (/^DELETE [\d_]+$/.test(key)) return reply(response, 200, { success: true });
      return reply(response, 404, { error: { message: `Unknown path ${key} (${query.toString()})`, type: 'GraphMethodException', code: 803 } });
    },
  });
  url = server.url;
  return {
    server,
    url,
    pathOf,
    paramsOf: (request) => {
      const query = Object.fromEntries(new URL(request.url, 'http://x').searchParams);
      const type = request.headers['content-type'] ?? '';
      const body = type.startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(request.text())) : type.startsWith('multipart/') ? parseMultipart(request) : {};
      return { ...query, ...body };
    },
    failNext: (failure) => failures.push(failure),
    close: () => server.close(),
  };
}

/** One fake Graph for a test file: started before its tests, its recordings cleared after each. */
export function useFakeGraph(): () => FakeGraph {
  let graph: FakeGraph | undefined;
  beforeAll(async () => {
    graph = await startFakeGraph();
  });
  afterAll(async () => {
    await graph?.close();
  });
  afterEach(() => {
    if (graph !== undefined) graph.server.requests.length = 0;
  });
  return () => {
    if (graph === undefined) throw new Error('The fake Graph is not started yet.');
    return graph;
  };
}
