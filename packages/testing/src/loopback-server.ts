import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as it arrived on the wire, body fully read (chunked or not). */
export interface RecordedRequest {
  method: string;
  /** Path with query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** How many chunks the body arrived in; more than one shows it was streamed. */
  chunkCount: number;
  /** `body` decoded as UTF-8. */
  text(): string;
  /** `body` parsed as JSON. */
  json(): unknown;
}

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request received so far, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface LoopbackServerOptions {
  /** Answers each request after its body has been read. Default: 200 with an empty JSON object. */
  handler?: (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;
  /** Refuse bodies larger than this many bytes with 413. Default 64 MiB. */
  maxBodyBytes?: number;
}

/**
 * A real HTTP server on 127.0.0.1 for wire assertions that mocks cannot make: streamed and
 * chunked request bodies (which nock cannot replay), exact bytes, and keep-alive behaviour.
 */
export async function startLoopbackServer(options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const requests: RecordedRequest[] = [];
  const handler =
    options.handler ??
    ((_request: RecordedRequest, response: ServerResponse) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        if (!refused) response.writeHead(413, { connection: 'close' }).end();
        refused = true;
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body,
        chunkCount: chunks.length,
        text: () => body.toString('utf8'),
        json: () => JSON.parse(body.toString('utf8')) as unknown,
      };
      requests.push(recorded);
      Promise.resolve()
        .then(() => handler(recorded, response))
        .catch((error: unknown) => {
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`loopback handler failed: ${(error as Error).message}`);
        });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
