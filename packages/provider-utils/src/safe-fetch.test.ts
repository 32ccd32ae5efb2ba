import type { LookupFunction } from 'node:net';
import { connect } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { startLocalServer, type LocalServer } from './test-support/local-server.js';
import { isBlockedAddress } from './blocked-address.js';
import { createSafeFetcher } from './safe-fetch.js';
import { failure } from './test-support/letmepost-failure.js';

let server: LocalServer | undefined;
const agents: Agent[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(agents.splice(0).map((agent) => agent.destroy()));
});

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces);
}

/** Resolves every name to `address`, counting calls, in both `all` and single-answer forms. */
function fixedLookup(address: string, calls: string[]): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    calls.push(hostname);
    const family = address.includes(':') ? 6 : 4;
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as unknown as LookupFunction;
}

/**
 * A dispatcher standing in for "the public internet": whatever host is asked for, it connects
 * to the local server. Used to test what happens after a first, allowed hop.
 */
function internetTo(origin: string): Agent {
  const port = Number(new URL(origin).port);
  const agent = new Agent({
    connect: (_options, callback) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (error) => callback(error, null));
    },
  });
  agents.push(agent);
  return agent;
}

describe('isBlockedAddress', () => {
  test.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.100.100.200',
    '169.254.169.254',
    '0.0.0.0',
    '192.0.0.192',
    '198.18.0.1',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:8.8.8.8',
    '::ffff:a9fe:a9fe',
    '::127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '64:ff9b::a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '2002:a9fe:a9fe::1',
    '2001:db8::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '[::1]',
    'localhost',
    'not-an-ip',
  ])('%s is blocked', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  test.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '64:ff9b::808:808', '2002:808:808::1'])(
    '%s is allowed',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );
});

describe('createSafeFetcher', () => {
  test('a literal loopback URL is refused before connecting', async () => {
    server = await startLocalServer((_request, response) => response.end('secret'));
    const error = await failure(createSafeFetcher({ platform: 'linkedin' }).fetch({ url: `${server.origin}/admin` }));
    expect(error).toMatchObject({ code: 'media_unreachable', retryable: false, platform: 'linkedin' });
    expect(error.message).toContain('127.0.0.1');
    expect(server.requests).toHaveLength(0);
  });

  test('the check runs inside the connection’s own DNS lookup: a name resolving to 127.0.0.1 is refused', async () => {
    server = await startLocalServer((_request, response) => response.end('secret'));
    const calls: string[] = [];
    const fetcher = createSafeFetcher({ lookup: fixedLookup('127.0.0.1', calls) });
    const url = `http://media.example.test:${new URL(server.origin).port}/image.png`;
    const error = await failure(fetcher.fetch({ url }));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('resolves to an address media URLs may not reach');
    // The connection asked our lookup (no separate pre-resolution that DNS rebinding could fool)…
    expect(calls).toEqual(['media.example.test']);
    // …and never connected.
    expect(server.requests).toHaveLength(0);
  });

  test('a name resolving to a mix of public and private addresses is refused', async () => {
    const lookup = ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      const answers = [
        { address: '93.184.216.34', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ];
      if (options.all) callback(null, answers);
      else callback(null, answers[1]!.address, 4);
    }) as unknown as LookupFunction;
    const error = await failure(createSafeFetcher({ lookup }).fetch({ url: 'http://rebind.example.test/x.png' }));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('may not reach');
  });

  test('allowPrivateNetwork: the same lookup connects and the body streams', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'image/png; charset=binary', 'content-length': '5' }).end('hello');
    });
    const calls: string[] = [];
    const fetcher = createSafeFetcher({ allowPrivateNetwork: true, lookup: fixedLookup('127.0.0.1', calls) });
    const response = await fetcher.fetch({ url: `http://media.example.test:${new URL(server.origin).port}/a.png?sig=abc` });
    expect(response).toMatchObject({ status: 200, contentType: 'image/png', contentLength: 5 });
    expect((await readAll(response.body)).toString()).toBe('hello');
    expect(calls).toEqual(['media.example.test']);
    expect(server.requests[0]!.url).toBe('/a.png?sig=abc');
  });

  test.each(['ftp://example.com/a.png', 'file:///etc/passwd', 'gopher://x/', 'http://user:pass@example.com/a.png', 'not a url'])(
    '%s is refused',
    async (url) => {
      const error = await failure(createSafeFetcher().fetch({ url }));
      expect(error.code).toBe('media_unreachable');
    },
  );

  test('each redirect hop is checked again (to a metadata address): refused, not followed', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/' }).end();
    });
    const fetcher = createSafeFetcher({ dispatcher: internetTo(server.origin) });
    const error = await failure(fetcher.fetch({ url: 'http://cdn.example.test/a.png' }));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('169.254.169.254');
    expect(server.requests).toHaveLength(1);
  });

  test('redirects are followed by hand, relative locations resolved, to a scheme check', async () => {
    server = await startLocalServer((request, response) => {
      if (request.url === '/start') response.writeHead(301, { location: '/next?x=1' }).end();
      else if (request.url === '/next?x=1') response.writeHead(307, { location: 'http://cdn2.example.test/final.png' }).end();
      else response.writeHead(200, { 'content-type': 'image/png' }).end('png!');
    });
    const fetcher = createSafeFetcher({ dispatcher: internetTo(server.origin) });
    const response = await fetcher.fetch({ url: 'http://cdn.example.test/start' });
    expect(response.url).toBe('http://cdn2.example.test/final.png');
    expect((await readAll(response.body)).toString()).toBe('png!');
    expect(server.requests.map((request) => [request.headers.host, request.url])).toEqual([
      ['cdn.example.test', '/start'],
      ['cdn.example.test', '/next?x=1'],
      ['cdn2.example.test', '/final.png'],
    ]);
  });

  test('a redirect to another scheme is refused', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(302, { location: 'file:///etc/passwd' }).end());
    const error = await failure(createSafeFetcher({ dispatcher: internetTo(server.origin) }).fetch({ url: 'http://cdn.example.test/a' }));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('http or https');
  });

  test('too many redirects', async () => {
    server = await startLocalServer((request, response) => response.writeHead(302, { location: `/r${request.url}` }).end());
    const error = await failure(createSafeFetcher({ dispatcher: internetTo(server.origin), maxRedirects: 3 }).fetch({ url: 'http://cdn.example.test/a' }));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('more than 3 times');
    expect(server.requests).toHaveLength(4);
  });

  test('non-2xx → media_unreachable with the status', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(404).end('nope'));
    const error = await failure(createSafeFetcher({ allowPrivateNetwork: true }).fetch({ url: `${server.origin}/gone.png` }));
    expect(error).toMatchObject({ code: 'media_unreachable', status: 404, retryable: false });
  });

  test('a declared length over the cap → media_invalid without reading', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
      response.write(Buffer.alloc(1024));
    });
    const error = await failure(createSafeFetcher({ allowPrivateNetwork: true, maxBytes: 1024 * 1024 }).fetch({ url: `${server.origin}/big.mp4` }));
    expect(error.code).toBe('media_invalid');
    expect(error.message).toContain('1048576-byte limit');
  });

  test('an undeclared length over the cap → media_invalid while streaming; the download stops', async () => {
    let closedEarly = false;
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'video/mp4' });
      const timer = setInterval(() => {
        if (response.destroyed) {
          closedEarly = true;
          clearInterval(timer);
          return;
        }
        response.write(Buffer.alloc(32 * 1024));
      }, 1);
      response.on('close', () => {
        clearInterval(timer);
        closedEarly = !response.writableFinished;
      });
    });
    const response = await createSafeFetcher({ allowPrivateNetwork: true }).fetch({ url: `${server.origin}/stream.mp4`, maxBytes: 256 * 1024 });
    expect(response.contentLength).toBeUndefined();
    const error = await failure(readAll(response.body));
    expect(error.code).toBe('media_invalid');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(true);
  });

  test('idle timeout: a server that stalls mid-body → media_unreachable', async () => {
    server = await startLocalServer((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write(Buffer.alloc(10));
    });
    const response = await createSafeFetcher({ allowPrivateNetwork: true, idleTimeoutMs: 200 }).fetch({ url: `${server.origin}/slow.png` });
    const error = await failure(readAll(response.body));
    expect(error.code).toBe('media_unreachable');
    expect(error.message).toContain('stalled');
  });

  test('idle timeout while waiting for headers', async () => {
    server = await startLocalServer(() => {});
    const error = await failure(createSafeFetcher({ allowPrivateNetwork: true, idleTimeoutMs: 200 }).fetch({ url: `${server.origin}/slow.png` }));
    expect(error.code).toBe('media_unreachable');
    expect(error.retryable).toBe(true);
  });

  test('signed query strings are not echoed in errors', async () => {
    server = await startLocalServer((_request, response) => response.writeHead(403).end());
    const error = await failure(
      createSafeFetcher({ allowPrivateNetwork: true }).fetch({ url: `${server.origin}/a.png?X-Amz-Signature=canarysignature123` }),
    );
    expect(JSON.stringify(error.toJSON())).not.toContain('canarysignature123');
  });
});
