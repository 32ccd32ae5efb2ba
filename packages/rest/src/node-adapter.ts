import type { IncomingMessage, ServerResponse } from 'node:http';

export type FetchHandler = (request: Request) => Promise<Response>;

/**
 * Adapts the Web-standard handler to Node's `(req, res)` signature, which is what `node:http`,
 * Express (`app.use('/v1', toNodeListener(handler))` — mount at the root so paths are kept) and
 * Fastify (`reply.hijack()` then call it with `request.raw`, `reply.raw`) accept.
 */
export function toNodeListener(handler: FetchHandler, options: { trustProxy?: boolean } = {}) {
  return async function listener(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const forwardedProto = options.trustProxy ? request.headers['x-forwarded-proto'] : undefined;
      const protocol = typeof forwardedProto === 'string' ? forwardedProto.split(',')[0]!.trim() : 'encrypted' in request.socket ? 'https' : 'http';
      const host = request.headers.host ?? 'localhost';
      // Express strips its mount path from `req.url`; `originalUrl` keeps what the client sent.
      const path = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const item of value) headers.append(name, item);
        else headers.set(name, value);
      }
      const method = request.method ?? 'GET';
      const hasBody = method !== 'GET' && method !== 'HEAD';
      // A body-parsing middleware may already have consumed the stream; re-serialise what it parsed.
      const parsedBody = (request as IncomingMessage & { body?: unknown }).body;
      let body: RequestInit["body"] | undefined;
      if (hasBody) {
        if (parsedBody !== undefined && request.readableEnded) {
          body = typeof parsedBody === 'string' || parsedBody instanceof Uint8Array ? parsedBody : JSON.stringify(parsedBody);
          headers.delete('content-length');
        } else {
          body = requestBodyStream({ request });
        }
      }
      const webRequest = new Request(`${protocol}://${host}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body, duplex: 'half' } : {}),
      } as RequestInit);
      const webResponse = await handler(webRequest);
      response.statusCode = webResponse.status;
      webResponse.headers.forEach((value, name) => response.setHeader(name, value));
      // The handler answered without reading the whole body (a 413 at the cap, or a 401/404
      // before reading it): rather than read and discard a body that may never end, the
      // connection closes once the answer is out.
      if (hasBody && !request.readableEnded && parsedBody === undefined) response.setHeader('connection', 'close');
      if (webResponse.body) {
        for await (const chunk of webResponse.body as unknown as AsyncIterable<Uint8Array>) response.write(chunk);
      }
      response.end();
    } catch (error) {
      if (!response.headersSent) {
        response.statusCode = 500;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ error: { code: 'internal_error', message: 'Internal error', doc_url: null } }));
      } else {
        response.destroy(error instanceof Error ? error : undefined);
      }
    }
  };
}

/**
 * The request body as a Web stream that reads only as fast as the handler pulls. Cancelling it
 * (the handler stopped at the size cap) stops reading without destroying the socket, which
 * `Readable.toWeb` would do, so the 413 can still be sent.
 */
function requestBodyStream({ request }: { request: IncomingMessage }): ReadableStream<Uint8Array> {
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        request.pause();
        request.on('data', (chunk: Buffer) => {
          if (finished) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) request.pause();
        });
        request.once('end', () => {
          if (finished) return;
          finished = true;
          controller.close();
        });
        request.once('error', (error) => {
          if (finished) return;
          finished = true;
          controller.error(error);
        });
      },
      pull() {
        request.resume();
      },
      cancel() {
        finished = true;
        request.pause();
      },
    },
    { highWaterMark: 1 },
  );
}
