import { Agent, Dispatcher } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { createHttpClient } from './http-client.js';
import { encodeMultipart, type MultipartPart } from './multipart.js';
import { startLocalServer, type LocalServer } from './test-support/local-server.js';

const BOUNDARY = 'letmepost-test-boundary';

function joined(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
}

describe('encodeMultipart', () => {
  test('lays out text and file parts byte for byte, with the exact length', () => {
    const data = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const encoded = encodeMultipart({
      boundary: BOUNDARY,
      parts: [
        { name: 'segment_index', value: '3' },
        { name: 'media', data, fileName: 'segment', contentType: 'application/octet-stream' },
      ],
    });
    const expected = Buffer.concat([
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="segment_index"\r\n\r\n3\r\n` +
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="media"; filename="segment"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      Buffer.from(data),
      Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    ]);
    expect(encoded.contentType).toBe(`multipart/form-data; boundary=${BOUNDARY}`);
    expect(joined(encoded.chunks).equals(expected)).toBe(true);
    expect(encoded.contentLength).toBe(expected.byteLength);
  });

  test('file bytes are the caller’s own array, not a copy', () => {
    const data = new Uint8Array(4 * 1024 * 1024);
    const encoded = encodeMultipart({ parts: [{ name: 'media', data }] });
    expect(encoded.chunks.filter((chunk) => chunk === data)).toHaveLength(1);
    // Only part headers were allocated besides it.
    const others = encoded.chunks.filter((chunk) => chunk !== data);
    expect(others.reduce((sum, chunk) => sum + chunk.byteLength, 0)).toBeLessThan(300);
  });

  test('escapes quotes and line breaks in names as browsers and undici do, and sends CRLF in values', () => {
    const encoded = encodeMultipart({
      boundary: BOUNDARY,
      parts: [
        { name: 'a"b\nc', value: 'line one\nline two\rline three' },
        { name: 'file', data: new Uint8Array([65]), fileName: 'x"y\r.png', contentType: 'image/png' },
      ],
    });
    const text = joined(encoded.chunks).toString('latin1');
    expect(text).toContain('name="a%22b%0D%0Ac"\r\n\r\nline one\r\nline two\r\nline three\r\n');
    expect(text).toContain('filename="x%22y%0D.png"\r\nContent-Type: image/png\r\n\r\nA\r\n');
  });

  test('defaults: a file part without a name is "blob", of type application/octet-stream; an empty file adds no chunk', () => {
    const encoded = encodeMultipart({ boundary: BOUNDARY, parts: [{ name: 'f', data: new Uint8Array(0) }] });
    expect(encoded.chunks.every((chunk) => chunk.byteLength > 0)).toBe(true);
    expect(joined(encoded.chunks).toString()).toBe(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="blob"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--${BOUNDARY}--\r\n`,
    );
  });

  test('refuses a boundary outside RFC 2046 and a content type that could inject headers', () => {
    expect(() => encodeMultipart({ boundary: 'has space', parts: [] })).toThrow(RangeError);
    expect(() => encodeMultipart({ boundary: 'x'.repeat(71), parts: [] })).toThrow(RangeError);
    expect(() => encodeMultipart({ parts: [{ name: 'f', data: new Uint8Array(1), contentType: 'text/plain\r\nX-Evil: 1' }] })).toThrow(RangeError);
  });

  test('a generated boundary is random per body', () => {
    const first = encodeMultipart({ parts: [] }).contentType;
    const second = encodeMultipart({ parts: [] }).contentType;
    expect(first).toMatch(/^multipart\/form-data; boundary=letmepost-[0-9a-f]{38}$/);
    expect(first).not.toBe(second);
  });
});

// At the wire, against a real server (nock hangs on bodies sent as a sequence of pieces).
describe('multipart parts as a request body', () => {
  let server: LocalServer | undefined;
  const dispatchers: Dispatcher[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.destroy()));
  });

  /** Forwards to a real pool and keeps what each dispatch was given, to check identity. */
  class RecordingDispatcher extends Dispatcher {
    readonly bodies: unknown[] = [];
    constructor(private readonly inner: Dispatcher) {
      super();
    }
    override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      this.bodies.push(options.body);
      return this.inner.dispatch(options, handler);
    }
    override async close(): Promise<void> {
      await this.inner.close();
    }
    override async destroy(): Promise<void> {
      await this.inner.destroy();
    }
  }

  function client() {
    const dispatcher = new RecordingDispatcher(new Agent({ keepAliveTimeout: 1000 }));
    dispatchers.push(dispatcher);
    const http = createHttpClient({ platform: 'twitter', dispatcher, retry: { random: () => 0, sleep: async () => {} } });
    return { http, dispatcher };
  }

  const segment = Uint8Array.from({ length: 256 * 1024 + 13 }, (_, index) => (index * 31) % 256);
  const parts: MultipartPart[] = [
    { name: 'segment_index', value: '0' },
    { name: 'media', data: segment, fileName: 'segment', contentType: 'application/octet-stream' },
  ];

  test('goes out with an exact Content-Length (not chunked), the declared boundary, and the exact bytes', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const { http } = client();
    await http.request({ method: 'POST', url: `${server.origin}/2/media/upload/1/append`, body: { multipart: parts }, retry: 'idempotent' });

    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(String(request!.headers['content-type']))?.[1];
    expect(boundary).toBeDefined();
    expect(request!.headers['transfer-encoding']).toBeUndefined();
    expect(Number(request!.headers['content-length'])).toBe(request!.body.byteLength);
    expect(request!.body.equals(joined(encodeMultipart({ parts, boundary: boundary! }).chunks))).toBe(true);
    // And any multipart parser reads the same fields back.
    const form = await new Response(request!.body, { headers: { 'content-type': String(request!.headers['content-type']) } }).formData();
    expect(form.get('segment_index')).toBe('0');
    const media = form.get('media') as File;
    expect(media.name).toBe('segment');
    expect(Buffer.from(await media.arrayBuffer()).equals(Buffer.from(segment))).toBe(true);
  });

  test('the payload reaches undici by reference: the dispatched body holds the caller’s own array', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(200).end());
    const { http, dispatcher } = client();
    await http.request({ method: 'POST', url: `${server.origin}/append`, body: { multipart: parts }, retry: 'idempotent' });
    const body = dispatcher.bodies[0] as readonly Uint8Array[];
    expect(Array.isArray(body)).toBe(true);
    expect(body.filter((chunk) => chunk === segment)).toHaveLength(1);
  });

  test('a retried request sends the same bytes again', async () => {
    server = await startLocalServer((_request, response) => {
      if (server!.requests.length === 1) response.writeHead(503).end();
      else response.writeHead(200).end();
    });
    const { http, dispatcher } = client();
    const response = await http.request({ method: 'POST', url: `${server.origin}/append`, body: { multipart: parts }, retry: 'idempotent' });
    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers['content-type']).toBe(server.requests[0]!.headers['content-type']);
    expect(server.requests[1]!.body.equals(server.requests[0]!.body)).toBe(true);
    expect(server.requests[0]!.body.byteLength).toBeGreaterThan(segment.byteLength);
    expect(dispatcher.bodies[1]).toBe(dispatcher.bodies[0]);
  });
});
