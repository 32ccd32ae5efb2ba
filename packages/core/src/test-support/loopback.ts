/**
 * Test-only: a real HTTP server on 127.0.0.1, so core's tests can assert what a provider put on
 * the wire. (Core cannot use `@letmepost/testing`'s server: that package depends on core.)
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WireRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Loopback {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** `127.0.0.1:<port>`, the instance a per-instance provider derives from `origin`. */
  host: string;
  requests: WireRequest[];
  close(): Promise<void>;
}

export async function startLoopback({
  handle,
}: {
  handle: (request: WireRequest, response: ServerResponse) => void | Promise<void>;
}): Promise<Loopback> {
  const requests: WireRequest[] = [];
  const server = createServer(async (incoming, response) => {
    const pieces: Buffer[] = [];
    for await (const piece of incoming) pieces.push(piece as Buffer);
    const request = { method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body: Buffer.concat(pieces).toString('utf8') };
    requests.push(request);
    try {
      await handle(request, response);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson({ response, status = 200, body }: { response: ServerResponse; status?: number; body: unknown }): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
