import { LetmepostError } from '@letmepost/core';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  CANARY_APP_PASSWORD,
  DID,
  HANDLE,
  NOW,
  PDS,
  PLC,
  exposedText,
  fixture,
  notFound,
  session,
  testProvider,
} from './test-support/bluesky-test-setup.js';

const didDocument = fixture('plc-did-document.json');
const createSessionResponse = fixture('create-session.json');

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected request was made').toEqual([]);
});

/** The requests after the DID is known: its PLC document, then the login on its PDS. */
function expectLoginOnPds(options: { identifier: string }) {
  nock(PLC).get(`/${DID}`).reply(200, didDocument);
  nock(PDS, { badheaders: ['authorization'] })
    .post('/xrpc/com.atproto.server.createSession', { identifier: options.identifier, password: CANARY_APP_PASSWORD })
    .matchHeader('content-type', 'application/json')
    .reply(200, createSessionResponse);
  nock(PDS)
    .get('/xrpc/app.bsky.actor.getProfile')
    .query({ actor: DID })
    .matchHeader('authorization', `Bearer ${session.accessJwt}`)
    .reply(200, { did: DID, handle: HANDLE, displayName: 'Alice', avatar: 'https://cdn.bsky.app/img/avatar/plain/x/y@jpeg' });
}

describe('connectWithCredentials', () => {
  test('resolves a handle through DNS TXT, the DID through plc.directory, and logs in on the PDS', async () => {
    const lookups: string[] = [];
    const provider = testProvider({
      resolveTxt: async (hostname) => {
        lookups.push(hostname);
        // Chunked TXT records, an unrelated record, and the atproto one.
        return [['v=spf1 -all'], ['did=', DID]];
      },
    });
    expectLoginOnPds({ identifier: HANDLE });

    const grant = await provider.connectWithCredentials!({ credentials: { identifier: `@${HANDLE}`, appPassword: CANARY_APP_PASSWORD } });

    expect(lookups).toEqual([`_atproto.${HANDLE}`]);
    expect(grant.account).toEqual({
      platformAccountId: DID,
      kind: 'person',
      username: HANDLE,
      displayName: 'Alice',
      avatarUrl: 'https://cdn.bsky.app/img/avatar/plain/x/y@jpeg',
      profileUrl: `https://bsky.app/profile/${DID}`,
      data: { pdsUrl: PDS, did: DID, handle: HANDLE },
    });
    expect(grant.tokens).toEqual({
      accessToken: session.accessJwt,
      refreshToken: session.refreshJwt,
      tokenType: 'Bearer',
      // `exp` of the fixture JWTs: 2 hours and 90 days after NOW.
      expiresAt: NOW + 7200 * 1000,
      refreshTokenExpiresAt: NOW + 90 * 86400 * 1000,
      secrets: { appPassword: CANARY_APP_PASSWORD },
    });
  });

  test('falls back to https://<handle>/.well-known/atproto-did when DNS has no record', async () => {
    const provider = testProvider();
    nock(`https://${HANDLE}`).get('/.well-known/atproto-did').reply(200, `${DID}\n`, { 'content-type': 'text/plain' });
    expectLoginOnPds({ identifier: HANDLE });
    const grant = await provider.connectWithCredentials!({ credentials: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD } });
    expect(grant.account.platformAccountId).toBe(DID);
  });

  test('ignores DNS answers naming two different DIDs', async () => {
    const provider = testProvider({ resolveTxt: async () => [[`did=${DID}`], ['did=did:plc:otherotherotherotherother']] });
    nock(`https://${HANDLE}`).get('/.well-known/atproto-did').reply(200, DID);
    expectLoginOnPds({ identifier: HANDLE });
    await provider.connectWithCredentials!({ credentials: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD } });
  });

  test('resolves handles through the given service with com.atproto.identity.resolveHandle', async () => {
    const lookups: string[] = [];
    const provider = testProvider({
      resolveTxt: async (hostname) => {
        lookups.push(hostname);
        throw notFound;
      },
    });
    nock('https://pds.example.net').get('/xrpc/com.atproto.identity.resolveHandle').query({ handle: HANDLE }).reply(200, { did: DID });
    expectLoginOnPds({ identifier: HANDLE });
    await provider.connectWithCredentials!({
      credentials: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD, service: 'https://pds.example.net/' },
    });
    expect(lookups, 'no DNS lookup when a service is given').toEqual([]);
  });

  test('a DID identifier skips handle resolution; did:web documents come from /.well-known/did.json', async () => {
    const provider = testProvider();
    nock('https://carol.example.org').get('/.well-known/did.json').reply(200, fixture('web-did-document.json'));
    nock('https://pds.example.org')
      .post('/xrpc/com.atproto.server.createSession', { identifier: 'did:web:carol.example.org', password: CANARY_APP_PASSWORD })
      .reply(200, { ...createSessionResponse, did: 'did:web:carol.example.org', handle: 'carol.example.org' });
    nock('https://pds.example.org').get('/xrpc/app.bsky.actor.getProfile').query(true).reply(500, {});
    const grant = await provider.connectWithCredentials!({
      credentials: { identifier: 'did:web:carol.example.org', appPassword: CANARY_APP_PASSWORD },
    });
    // A failing profile read costs the display name, not the connection.
    expect(grant.account).toMatchObject({ platformAccountId: 'did:web:carol.example.org', username: 'carol.example.org' });
    expect(grant.account.displayName).toBeUndefined();
    expect(grant.account.data).toEqual({ pdsUrl: 'https://pds.example.org', did: 'did:web:carol.example.org', handle: 'carol.example.org' });
  });

  test('refuses a PDS endpoint on a private address (SSRF) before sending the app password', async () => {
    const provider = testProvider();
    nock(PLC)
      .get(`/${DID}`)
      .reply(200, { ...didDocument, service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'http://169.254.169.254' }] });
    const error = await provider
      .connectWithCredentials!({ credentials: { identifier: DID, appPassword: CANARY_APP_PASSWORD } })
      .catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'platform_auth_failed', field: 'identifier' });
  });

  test('refuses a PDS whose host name resolves to a private address, checked in the connection\'s own DNS lookup', async () => {
    // A listener to prove nothing connects, and a name that only DNS shows to be 127.0.0.1: the
    // literal-address check cannot see it, the guarded connection pool must.
    let connections = 0;
    const listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const host = 'pds.rebind.example';
    const realLookup = dns.lookup;
    const lookups: string[] = [];
    dns.lookup = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      if (hostname !== host) return (realLookup as (...args: unknown[]) => void)(hostname, options, callback);
      lookups.push(hostname);
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
      if (all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as typeof dns.lookup;
    syncBuiltinESMExports();
    nock.enableNetConnect(`${host}:${port}`);
    try {
      const provider = testProvider();
      nock(PLC)
        .get(`/${DID}`)
        .reply(200, { ...didDocument, service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: `https://${host}:${port}` }] });
      const error = await provider
        .connectWithCredentials!({ credentials: { identifier: DID, appPassword: CANARY_APP_PASSWORD } })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'validation_failed', rule: 'http.blocked_address', retryable: false });
      expect((error as Error).message).toBe(
        `POST https://${host}:${port}/xrpc/com.atproto.server.createSession was not sent: ${host} resolves to 127.0.0.1, a private or internal address, which Bluesky requests may not reach.`,
      );
      expect(lookups).toEqual([host]);
      expect(connections).toBe(0);
      expect(exposedText(error)).not.toContain(CANARY_APP_PASSWORD);
    } finally {
      dns.lookup = realLookup;
      syncBuiltinESMExports();
      nock.disableNetConnect();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  test('a service URL on a private address is refused before any request', async () => {
    const provider = testProvider();
    await expect(
      provider.connectWithCredentials!({ credentials: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD, service: 'http://127.0.0.1:2583' } }),
    ).rejects.toMatchObject({ code: 'validation_failed', field: 'service' });
  });

  test('a handle nobody resolves is platform_auth_failed naming the identifier', async () => {
    const provider = testProvider();
    nock(`https://${HANDLE}`).get('/.well-known/atproto-did').reply(404, 'not found');
    nock('https://bsky.social')
      .get('/xrpc/com.atproto.identity.resolveHandle')
      .query({ handle: HANDLE })
      .reply(400, { error: 'InvalidRequest', message: 'Unable to resolve handle' });
    await expect(provider.connectWithCredentials!({ credentials: { identifier: HANDLE, appPassword: CANARY_APP_PASSWORD } })).rejects.toMatchObject({
      code: 'platform_auth_failed',
      field: 'identifier',
      platform: 'bluesky',
    });
  });

  test('a refused app password is platform_auth_failed and never shows the password', async () => {
    const provider = testProvider();
    nock(PLC).get(`/${DID}`).reply(200, didDocument);
    nock(PDS).post('/xrpc/com.atproto.server.createSession').reply(401, fixture('error-invalid-password.json'));
    const error = await provider
      .connectWithCredentials!({ credentials: { identifier: DID, appPassword: CANARY_APP_PASSWORD } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'platform_auth_failed', status: 401, field: 'appPassword' });
    expect(exposedText(error)).not.toContain(CANARY_APP_PASSWORD);
  });

  test('createSession rate limits are rate_limited, waiting until RateLimit-Reset (epoch seconds)', async () => {
    const provider = testProvider();
    nock(PLC).get(`/${DID}`).reply(200, didDocument);
    nock(PDS)
      .post('/xrpc/com.atproto.server.createSession')
      .reply(429, fixture('error-rate-limit.json'), {
        'ratelimit-limit': '30',
        'ratelimit-remaining': '0',
        'ratelimit-reset': String(NOW / 1000 + 240),
        'ratelimit-policy': '30;w=300',
      });
    const error = await provider
      .connectWithCredentials!({ credentials: { identifier: DID, appPassword: CANARY_APP_PASSWORD } })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 240_000, retryable: true, status: 429 });
    expect(exposedText(error)).not.toContain(CANARY_APP_PASSWORD);
  });

  test('refuses credentials that are not an app password or a handle, naming the fields, before any request', async () => {
    const provider = testProvider();
    const error = await provider
      .connectWithCredentials!({ credentials: { identifier: 'not a handle', appPassword: 'hunter2-main-password' } as never })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', field: 'credentials.identifier' });
    expect((error as LetmepostError).issues.map((issue) => issue.field)).toEqual(['credentials.identifier', 'credentials.appPassword']);
    expect(exposedText(error)).not.toContain('hunter2-main-password');
    expect(provider.credentialSchema.safeParse({}).success).toBe(false);
  });
});
