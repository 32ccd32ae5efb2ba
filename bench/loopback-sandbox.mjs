// Runs the platform sandbox in its own process, so the benchmark process measures only the
// client side (its RSS, its CPU). Prints one JSON line with the URLs and a seeded access token.
//
// Besides the sandbox's own cleartext HTTP/1.1 port, a TLS front on another loopback port speaks
// what the real platform hosts speak: HTTPS, offering HTTP/2 and HTTP/1.1 by ALPN (the server
// picks h2 when the client offers it, as api.x.com does), and passes every request through to the
// sandbox. Its certificate is fixtures/loopback-cert.pem, a self-signed certificate for 127.0.0.1
// made for these benchmarks only; clients trust it through NODE_EXTRA_CA_CERTS, so the library
// runs with its default connection pool, untouched.
import { request as httpRequest } from 'node:http';
import { createSecureServer } from 'node:http2';
import { readFileSync } from 'node:fs';
import { startSandbox } from '@letmepost/sandbox';

// The X app the publish benchmark connects an account through (OAuth 2.0 with PKCE, as a host's
// users connect theirs); its callback is on the bench instance's base URL.
const twitterApp = {
  platform: 'twitter',
  clientId: 'bench-client-id',
  clientSecret: 'bench-client-secret',
  redirectUris: ['https://app.example.com/v1/accounts/oauth/twitter/callback'],
};
const sandbox = await startSandbox({ port: 0, apps: [twitterApp] });
const accessToken = 'bench-access-token';
sandbox.state.accessTokens.set(accessToken, {
  platform: 'twitter',
  userId: '1500000000000000001',
  scopes: ['tweet.read', 'tweet.write', 'users.read', 'offline.access', 'media.write'],
  expiresAt: Date.now() + 24 * 3600 * 1000,
});
// OAuth 1.0a user keys for the same X user, for publishes with per-request credentials.
const oauth1Credentials = {
  consumerKey: 'bench-consumer-key',
  consumerSecret: 'bench-consumer-secret',
  accessToken: '1500000000000000001-bench-access-token',
  accessTokenSecret: 'bench-access-token-secret',
};
sandbox.state.registerOAuth1Credentials({ ...oauth1Credentials, userId: '1500000000000000001' });

const upstream = new URL(sandbox.url);
// Hop-by-hop headers are HTTP/1.1 only; HTTP/2 refuses them.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
/** Requests the TLS front received, by HTTP version, since the last time they were asked for. */
let protocols = {};
const front = createSecureServer(
  {
    key: readFileSync(new URL('./fixtures/loopback-key.pem', import.meta.url)),
    cert: readFileSync(new URL('./fixtures/loopback-cert.pem', import.meta.url)),
    allowHTTP1: true,
  },
  (request, response) => {
    protocols[request.httpVersion] = (protocols[request.httpVersion] ?? 0) + 1;
    const headers = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (!name.startsWith(':') && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers.host = upstream.host;
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers }, (answer) => {
      const answerHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name)) answerHeaders[name] = value;
      response.writeHead(answer.statusCode ?? 502, answerHeaders);
      answer.pipe(response);
    });
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  },
);
await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
const tlsOrigin = `https://127.0.0.1:${front.address().port}`;

/** The sandbox's endpoints with their cleartext origin swapped for the TLS front's. */
function throughFront(endpoints) {
  return JSON.parse(JSON.stringify(endpoints).replaceAll(sandbox.url.replace(/\/$/, ''), tlsOrigin));
}

process.stdout.write(
  `${JSON.stringify({
    url: sandbox.url,
    endpoints: sandbox.endpoints,
    tls: { origin: tlsOrigin, endpoints: throughFront(sandbox.endpoints), caFile: new URL('./fixtures/loopback-cert.pem', import.meta.url).pathname },
    accessToken,
    oauth1Credentials,
    twitterApp: { clientId: twitterApp.clientId, clientSecret: twitterApp.clientSecret },
  })}\n`,
);
process.on('message', (message) => {
  if (message === 'protocols') {
    process.send({ protocols });
    protocols = {};
  }
  if (message === 'stop') {
    front.close();
    void sandbox.close().then(() => process.exit(0));
  }
});
