import { LetmepostError } from '@letmepost/core';
import { runWithPublishContext } from '@letmepost/core/internal';
import nock from 'nock';
import { inspect } from 'node:util';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createHttpClient, defaultErrorForStatus, type HttpClientSettings } from './http-client.js';
import { oauth1PercentEncode, oauth1Signature } from './oauth1.js';
import { failure } from './test-support/letmepost-failure.js';

const API = 'https://api.example.com';
const CANARY_TOKEN = 'canary-bearer-9f8e7d6c5b4a';
const CANARY_CONSUMER_SECRET = 'canary-consumer-secret-1a2b3c';
const CANARY_TOKEN_SECRET = 'canary-token-secret-4d5e6f';

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

/** Retries wait for nothing in these tests; the requested delays are recorded instead. */
function client(overrides: Partial<HttpClientSettings> = {}) {
  const sleeps: number[] = [];
  const http = createHttpClient({
    platform: 'linkedin',
    clock: { now: () => Date.UTC(2025, 0, 1) },
    retry: { random: () => 0.5, sleep: async ({ ms }) => void sleeps.push(ms) },
    ...overrides,
  });
  return { http, sleeps };
}

function expectNoSecrets(error: LetmepostError, secrets: readonly string[]) {
  const surfaces = [error.message, JSON.stringify(error.toJSON()), inspect(error), JSON.stringify(error.platformResponse ?? null)];
  for (const secret of secrets) for (const surface of surfaces) expect(surface).not.toContain(secret);
}

describe('requests at the wire', () => {
  test('JSON body with bearer auth and query', async () => {
    const scope = nock(API, {
      reqheaders: {
        authorization: `Bearer ${CANARY_TOKEN}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'user-agent': 'letmepost-test/1.0',
        'x-restli-protocol-version': '2.0.0',
      },
    })
      .post('/rest/posts', { author: 'urn:li:person:1', commentary: 'hi' })
      .query({ a: '1', flag: 'true' })
      .reply(201, { id: 'urn:li:share:7' }, { 'x-restli-id': 'urn:li:share:7' });
    const { http } = client({ userAgent: 'letmepost-test/1.0', headers: { 'X-Restli-Protocol-Version': '2.0.0' } });
    const { value, response } = await http.json({
      method: 'POST',
      url: `${API}/rest/posts`,
      query: { a: 1, flag: true, skipped: undefined },
      body: { json: { author: 'urn:li:person:1', commentary: 'hi' } },
      auth: { bearer: CANARY_TOKEN },
      schema: z.object({ id: z.string() }),
    });
    expect(value).toEqual({ id: 'urn:li:share:7' });
    expect(response.status).toBe(201);
    expect(response.headers['x-restli-id']).toBe('urn:li:share:7');
    scope.done();
  });

  test('form body with OAuth 1.0a: the signature covers query and form parameters', async () => {
    let authorization = '';
    let body = '';
    const scope = nock(API)
      .post('/1.1/statuses/update.json')
      .query({ include_entities: 'true' })
      .reply(async (request: Request) => {
        authorization = request.headers.get('authorization') ?? '';
        body = await request.text();
        expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
        return [200, { id_str: '1' }];
      });
    const credentials = { consumerKey: 'ck', consumerSecret: CANARY_CONSUMER_SECRET, token: 'tk', tokenSecret: CANARY_TOKEN_SECRET };
    const { http } = client({ platform: 'twitter' });
    await http.request({
      method: 'POST',
      url: `${API}/1.1/statuses/update.json?include_entities=true`,
      body: { form: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' } },
      auth: { oauth1: credentials },
    });
    scope.done();
    expect(body).toBe('status=Hello+Ladies+%2B+Gentlemen%2C+a+signed+OAuth+request%21');
    const fields = Object.fromEntries(
      [...authorization.replace(/^OAuth /, '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, decodeURIComponent(match[2]!)]),
    );
    const { oauth_signature: signature, ...oauthParameters } = fields;
    expect(oauthParameters.oauth_token).toBe('tk');
    expect(signature).toBe(
      oauth1Signature({
        method: 'POST',
        url: `${API}/1.1/statuses/update.json?include_entities=true`,
        credentials,
        oauthParameters,
        bodyParameters: { status: 'Hello Ladies + Gentlemen, a signed OAuth request!' },
      }),
    );
  });

  test('JSON body with OAuth 1.0a: the body is not signed', async () => {
    let authorization = '';
    const scope = nock(API)
      .post('/2/tweets', { text: 'hi' })
      .reply((request: Request) => {
        authorization = request.headers.get('authorization') ?? '';
        return [201, { data: { id: '1' } }];
      });
    const credentials = { consumerKey: 'ck', consumerSecret: CANARY_CONSUMER_SECRET, token: 'tk', tokenSecret: CANARY_TOKEN_SECRET };
    await client({ platform: 'twitter' }).http.request({ method: 'POST', url: `${API}/2/tweets`, body: { json: { text: 'hi' } }, auth: { oauth1: credentials } });
    scope.done();
    const fields = Object.fromEntries(
      [...authorization.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!, decodeURIComponent(match[2]!)]),
    );
    const { oauth_signature: signature, ...oauthParameters } = fields;
    expect(signature).toBe(oauth1Signature({ method: 'POST', url: `${API}/2/tweets`, credentials, oauthParameters }));
    expect(oauth1PercentEncode(signature!)).toBe(/oauth_signature="([^"]*)"/.exec(authorization)?.[1]);
  });

  test('basic auth', async () => {
    const scope = nock(API, { reqheaders: { authorization: `Basic ${Buffer.from('user:pa:ss').toString('base64')}` } })
      .get('/me')
      .reply(200, {});
    await client().http.request({ method: 'GET', url: `${API}/me`, auth: { basic: { username: 'user', password: 'pa:ss' } } });
    scope.done();
  });

  test('multipart FormData keeps its boundary', async () => {
    let contentType = '';
    let body = '';
    const scope = nock(API)
      .post('/upload')
      .reply(async (request: Request) => {
        contentType = request.headers.get('content-type') ?? '';
        body = await request.text();
        return [200, {}];
      });
    const form = new FormData();
    form.append('media_category', 'tweet_image');
    form.append('media', new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' }), 'a.png');
    await client().http.request({ method: 'POST', url: `${API}/upload`, body: { multipart: form } });
    scope.done();
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(contentType)?.[1];
    expect(boundary).toBeTruthy();
    expect(body).toContain(`--${boundary}`);
    expect(body).toContain('name="media_category"\r\n\r\ntweet_image');
    expect(body).toContain('filename="a.png"');
  });

  test('bytes body with its content type', async () => {
    const scope = nock(API, { reqheaders: { 'content-type': 'image/jpeg', 'content-length': '4' } })
      .put('/blob', Buffer.from([0xff, 0xd8, 0xff, 0xe0]))
      .reply(201);
    const response = await client().http.request({
      method: 'PUT',
      url: `${API}/blob`,
      body: { bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), contentType: 'image/jpeg' },
      retry: 'idempotent',
    });
    expect(response.status).toBe(201);
    expect(response.body.byteLength).toBe(0);
    scope.done();
  });

  test('acceptStatus returns a non-2xx answer instead of throwing', async () => {
    nock(API).put('/resumable').reply(308, '', { range: 'bytes=0-99' });
    const response = await client().http.request({ method: 'PUT', url: `${API}/resumable`, retry: 'idempotent', acceptStatus: (status) => status === 308 });
    expect(response.status).toBe(308);
    expect(response.headers.range).toBe('bytes=0-99');
  });
});

describe('default error mapping (creates: sent exactly once)', () => {
  test.each([
    { status: 400, code: 'platform_rejected', retryable: false },
    { status: 401, code: 'auth_expired', retryable: false },
    { status: 403, code: 'permission_denied', retryable: false },
    { status: 404, code: 'not_found', retryable: false },
    { status: 409, code: 'platform_rejected', retryable: false },
    { status: 413, code: 'media_invalid', retryable: false },
    { status: 415, code: 'media_invalid', retryable: false },
    { status: 422, code: 'platform_rejected', retryable: false },
    { status: 503, code: 'platform_unavailable', retryable: true },
  ])('$status → $code', async ({ status, code, retryable }) => {
    let hits = 0;
    nock(API)
      .post('/posts')
      .times(3)
      .reply(() => {
        hits += 1;
        return [status, { message: `failed with ${CANARY_TOKEN}` }];
      });
    const { http, sleeps } = client();
    const error = await failure(http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} }, auth: { bearer: CANARY_TOKEN } }));
    expect({ code: error.code, retryable: error.retryable, status: error.status, platform: error.platform }).toEqual({
      code,
      retryable,
      status,
      platform: 'linkedin',
    });
    expect(hits).toBe(1);
    expect(sleeps).toEqual([]);
    expect(error.platformResponse).toEqual({ status, body: { message: 'failed with [redacted]' } });
    expectNoSecrets(error, [CANARY_TOKEN]);
  });

  test('429 on a create: rate_limited with retryAfterMs, not retried', async () => {
    let hits = 0;
    nock(API)
      .post('/posts')
      .times(2)
      .reply(() => {
        hits += 1;
        return [429, { title: 'Too Many Requests' }, { 'retry-after': '30' }];
      });
    const error = await failure(client().http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} } }));
    expect(error.code).toBe('rate_limited');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(30_000);
    expect(hits).toBe(1);
  });

  test.each([500, 502, 504])('%i on a create → publish_outcome_unknown, sent once', async (status) => {
    let hits = 0;
    nock(API)
      .post('/posts')
      .times(3)
      .reply(() => {
        hits += 1;
        return [status, '<html>gateway</html>'];
      });
    const { http, sleeps } = client();
    const error = await failure(http.request({ method: 'POST', url: `${API}/posts`, body: { json: { text: 'x' } } }));
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(status);
    expect(error.platform).toBe('linkedin');
    expect(hits).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test('500 on a create that mapError recognises as definite keeps the mapped error', async () => {
    nock(API).post('/posts').reply(500, { serviceErrorCode: 65600 });
    const { http } = client({
      mapError: (response) =>
        (response.body as { serviceErrorCode?: number }).serviceErrorCode === 65600
          ? new LetmepostError({ code: 'duplicate_content', message: 'duplicate' })
          : undefined,
    });
    const error = await failure(http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} } }));
    expect(error.code).toBe('duplicate_content');
    expect(error.platform).toBe('linkedin');
  });

  test("mapError's result gets the platform and this request's secrets masked", async () => {
    nock(API).post('/posts').query({ x: '1' }).reply(422, { code: 'X1', echo: CANARY_TOKEN });
    const seen: unknown[] = [];
    const { http } = client({
      mapError: (response) => {
        seen.push(response);
        return new LetmepostError({
          code: 'platform_rejected',
          message: `rejected: token ${CANARY_TOKEN}`,
          platformResponse: response.body,
        });
      },
    });
    const error = await failure(http.request({ method: 'POST', url: `${API}/posts?x=1`, body: { json: {} }, auth: { bearer: CANARY_TOKEN } }));
    expect(seen[0]).toMatchObject({
      status: 422,
      body: { code: 'X1' },
      request: { method: 'POST', url: `${API}/posts`, retry: 'create' },
    });
    expect(error.platform).toBe('linkedin');
    expect(error.message).toBe('rejected: token [redacted]');
    expectNoSecrets(error, [CANARY_TOKEN]);
  });

  test('secrets passed for a request are masked (token in the URL echoed back)', async () => {
    const pageToken = 'EAAGcanarypagetoken123';
    nock(API).get('/me').query(true).reply(400, { error: { message: `bad token ${pageToken}` } });
    const error = await failure(client().http.request({ method: 'GET', url: `${API}/me?fields=id&page_token=${pageToken}`, secrets: [pageToken] }));
    expect(error.message).toContain('bad token [redacted]');
    expectNoSecrets(error, [pageToken]);
  });

  test('a body that is not JSON is kept as (truncated) text', async () => {
    nock(API).get('/x').reply(400, 'x'.repeat(5000));
    const error = await failure(client().http.request({ method: 'GET', url: `${API}/x` }));
    const body = (error.platformResponse as { body: string }).body;
    expect(body.length).toBeLessThan(2100);
    expect(body).toMatch(/more characters\]$/);
  });
});

/** Every 6-character piece of each secret: a cut through a secret leaves one of these behind. */
function expectNoSecretFragments(error: LetmepostError, secrets: readonly string[]) {
  const surfaces = [error.message, JSON.stringify(error.toJSON()), inspect(error, { depth: 8 }), JSON.stringify(error.platformResponse ?? null)].join('\n');
  for (const secret of secrets) {
    for (let start = 0; start + 6 <= secret.length; start += 1) {
      expect(surfaces, `a fragment of ${secret.length}-character secret at ${start}`).not.toContain(secret.slice(start, start + 6));
    }
  }
}

describe('secrets across a cut are redacted before the cut', () => {
  // The token starts 10 characters before each cut, so cutting first would keep its first 10.
  const acrossCut = (cut: number) => `${'m'.repeat(cut - 10)}${CANARY_TOKEN} and more text after it`;

  test('the default mapping quotes at most 300 characters of the message, none of them the token', async () => {
    nock(API).post('/posts').reply(400, { message: acrossCut(300) });
    const error = await failure(client().http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} }, auth: { bearer: CANARY_TOKEN } }));
    expect(error.code).toBe('platform_rejected');
    expect(error.message).toContain(`${'m'.repeat(290)}[redacted]`);
    expectNoSecretFragments(error, [CANARY_TOKEN]);
  });

  test('a mapError that cuts the platform’s prose at 300 characters gets a body already redacted', async () => {
    const seen: unknown[] = [];
    const { http } = client({
      mapError: (response) => {
        seen.push(response.body);
        const detail = (response.body as { errors: Array<{ detail: string }> }).errors[0]!.detail;
        return new LetmepostError({ code: 'platform_rejected', message: `rejected: ${detail.slice(0, 300)}` });
      },
    });
    nock(API).post('/posts').reply(403, { errors: [{ code: 'E1', detail: acrossCut(300) }] });
    const error = await failure(http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} }, auth: { bearer: CANARY_TOKEN } }));
    // Structured fields reach the mapper unchanged; only secrets inside strings are masked.
    expect(seen[0]).toEqual({ errors: [{ code: 'E1', detail: `${'m'.repeat(290)}[redacted] and more text after it` }] });
    expectNoSecretFragments(error, [CANARY_TOKEN]);
  });

  test('a text body is excerpted at 2,000 characters after the token is masked', async () => {
    nock(API).get('/x').reply(400, acrossCut(2000) + 'z'.repeat(3000));
    const error = await failure(client().http.request({ method: 'GET', url: `${API}/x`, auth: { bearer: CANARY_TOKEN } }));
    expect(String((error.platformResponse as { body: string }).body)).toMatch(/^m{1990}\[redacted\]… \[\d+ more characters\]$/);
    expectNoSecretFragments(error, [CANARY_TOKEN]);
  });

  test('a string of an unreadable 2xx body is cut at 500 characters after the token is masked', async () => {
    nock(API).get('/me').reply(200, { data: { id: 1, note: acrossCut(500) } });
    const error = await failure(
      client().http.json({ method: 'GET', url: `${API}/me`, auth: { bearer: CANARY_TOKEN }, schema: z.object({ data: z.object({ id: z.string() }) }) }),
    );
    expect((error.platformResponse as { body: { data: { note: string } } }).body.data.note).toMatch(/^m{490}\[redacted\]… \[\d+ more characters\]$/);
    expectNoSecretFragments(error, [CANARY_TOKEN]);
  });

  test('an inline credential the platform echoes across the cut is masked whole', async () => {
    const echoed = 'Bearer abcdefghijklmnopqrstuvwxyz0123456789';
    nock(API).get('/me').reply(401, { message: `${'m'.repeat(294)} ${echoed}` });
    const error = await failure(client().http.request({ method: 'GET', url: `${API}/me` }));
    // The marker would not fit before the cut either, so it is left out whole rather than split.
    expect(error.message).toMatch(/ m{294} …$/);
    expectNoSecretFragments(error, [echoed.slice('Bearer '.length)]);
  });
});

describe('retries of safe requests', () => {
  test('GET: 503 then 200, full-jitter backoff', async () => {
    let hits = 0;
    nock(API)
      .get('/me')
      .times(2)
      .reply(() => {
        hits += 1;
        return hits === 1 ? [503, ''] : [200, { id: 'u1' }];
      });
    const { http, sleeps } = client({ retry: { baseDelayMs: 100, random: () => 0.5, sleep: async ({ ms }) => void sleeps.push(ms) } });
    const sleepsLocal = sleeps;
    const { value } = await http.json({ method: 'GET', url: `${API}/me`, schema: z.object({ id: z.string() }) });
    expect(value).toEqual({ id: 'u1' });
    expect(hits).toBe(2);
    expect(sleepsLocal).toEqual([50]); // random 0.5 × min(max, 100 × 2^0)
  });

  test('gives up after maxAttempts with the mapped error', async () => {
    let hits = 0;
    nock(API)
      .get('/me')
      .times(5)
      .reply(() => {
        hits += 1;
        return [502, ''];
      });
    const sleeps: number[] = [];
    const http = createHttpClient({
      platform: 'bluesky',
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999, sleep: async ({ ms }) => void sleeps.push(ms) },
    });
    const error = await failure(http.request({ method: 'GET', url: `${API}/me` }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(true);
    expect(hits).toBe(4);
    expect(sleeps).toEqual([99, 199, 249]); // capped by maxDelayMs
  });

  test('429 with Retry-After (HTTP date) is waited for when within maxDelayMs', async () => {
    const now = Date.UTC(2025, 0, 1);
    let hits = 0;
    nock(API)
      .get('/me')
      .times(2)
      .reply(() => {
        hits += 1;
        return hits === 1 ? [429, '', { 'retry-after': new Date(now + 2000).toUTCString() }] : [200, {}];
      });
    const { http, sleeps } = client({ clock: { now: () => now } });
    await http.request({ method: 'GET', url: `${API}/me` });
    expect(sleeps).toEqual([2000]);
  });

  test('429 with x-rate-limit-reset (epoch seconds) is waited for', async () => {
    const now = Date.UTC(2025, 0, 1);
    let hits = 0;
    nock(API)
      .get('/2/users/me')
      .times(2)
      .reply(() => {
        hits += 1;
        return hits === 1 ? [429, '', { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(now / 1000 + 3) }] : [200, {}];
      });
    const { http, sleeps } = client({ clock: { now: () => now } });
    await http.request({ method: 'GET', url: `${API}/2/users/me` });
    expect(sleeps).toEqual([3000]);
  });

  test("a 503 carrying X's routine window reset is retried promptly, not parked until the reset", async () => {
    const now = Date.UTC(2025, 0, 1);
    let hits = 0;
    nock(API)
      .get('/2/users/me')
      .times(2)
      .reply(() => {
        hits += 1;
        const headers = { 'x-rate-limit-remaining': '299', 'x-rate-limit-reset': String(now / 1000 + 900) };
        return hits === 1 ? [503, '', headers] : [200, {}, headers];
      });
    const { http, sleeps } = client({ clock: { now: () => now } });
    await http.request({ method: 'GET', url: `${API}/2/users/me` });
    expect(hits).toBe(2);
    expect(sleeps).toEqual([125]);
  });

  test('a 429 with only a reset header gets retryAfterMs from it', async () => {
    const now = Date.UTC(2025, 0, 1);
    nock(API)
      .post('/2/tweets')
      .reply(429, { title: 'Too Many Requests' }, { 'x-rate-limit-reset': String(now / 1000 + 600) });
    const error = await failure(client({ clock: { now: () => now } }).http.request({ method: 'POST', url: `${API}/2/tweets`, body: { json: {} } }));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(600_000);
  });

  test('a Retry-After beyond maxDelayMs is not waited for: rate_limited with retryAfterMs', async () => {
    let hits = 0;
    nock(API)
      .get('/me')
      .times(3)
      .reply(() => {
        hits += 1;
        return [429, '', { 'retry-after': '900' }];
      });
    const { http, sleeps } = client();
    const error = await failure(http.request({ method: 'GET', url: `${API}/me` }));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(900_000);
    expect(hits).toBe(1);
    expect(sleeps).toEqual([]);
  });

  test("'idempotent' writes are retried on 500", async () => {
    let hits = 0;
    nock(API)
      .put('/chunk/1', 'abc')
      .times(2)
      .reply(() => {
        hits += 1;
        return hits === 1 ? [500, ''] : [204];
      });
    const { http } = client();
    const response = await http.request({ method: 'PUT', url: `${API}/chunk/1`, body: { bytes: Buffer.from('abc'), contentType: 'application/octet-stream' }, retry: 'idempotent' });
    expect(response.status).toBe(204);
    expect(hits).toBe(2);
  });
});

describe('JSON responses', () => {
  test('a 2xx of the wrong shape names the schema path; raw body redacted and truncated', async () => {
    nock(API)
      .get('/me')
      .reply(200, { data: { id: 42, access_token: 'leaked-access-token', name: 'y'.repeat(3000) } });
    const error = await failure(
      client().http.json({ method: 'GET', url: `${API}/me`, schema: z.object({ data: z.object({ id: z.string() }) }) }),
    );
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('data.id: Invalid input: expected string, received number');
    const body = (error.platformResponse as { body: { data: Record<string, unknown> } }).body;
    expect(body.data.id).toBe(42);
    expect(body.data.access_token).toBe('[redacted]');
    expect(String(body.data.name)).toMatch(/^y{500}… \[2500 more characters\]$/);
    expectNoSecrets(error, ['leaked-access-token']);
  });

  test('a 2xx that is not JSON', async () => {
    nock(API).get('/me').reply(200, '<html>maintenance</html>');
    const error = await failure(client().http.json({ method: 'GET', url: `${API}/me`, schema: z.object({}) }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.message).toContain('not JSON');
  });

  test('a create whose 2xx cannot be read is publish_outcome_unknown (the post likely exists)', async () => {
    let hits = 0;
    nock(API)
      .post('/posts')
      .times(2)
      .reply(() => {
        hits += 1;
        return [201, { unexpected: true }];
      });
    const error = await failure(client().http.json({ method: 'POST', url: `${API}/posts`, body: { json: {} }, schema: z.object({ id: z.string() }) }));
    expect(error.code).toBe('publish_outcome_unknown');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('id: Invalid input');
    expect(hits).toBe(1);
  });

  test('quickParse answers the usual shape itself and leaves anything else to the schema', async () => {
    const schema = z.object({ data: z.object({ id: z.string() }) });
    const seen: unknown[] = [];
    const quickParse = (value: unknown): { data: { id: string } } | undefined => {
      seen.push(value);
      const id = (value as { data?: { id?: unknown } }).data?.id;
      return typeof id === 'string' && id.startsWith('quick-') ? { data: { id } } : undefined;
    };
    nock(API).get('/me').reply(200, { data: { id: 'quick-1', extra: true } });
    const { value } = await client().http.json({ method: 'GET', url: `${API}/me`, schema, quickParse });
    expect(value).toEqual({ data: { id: 'quick-1' } });

    // Left to the schema: what it accepts comes back through it, what it refuses is its error.
    nock(API).get('/me').reply(200, { data: { id: 'slow-1', extra: true } });
    expect((await client().http.json({ method: 'GET', url: `${API}/me`, schema, quickParse })).value).toEqual({ data: { id: 'slow-1' } });
    nock(API).get('/me').reply(200, { data: { id: 7 } });
    const error = await failure(client().http.json({ method: 'GET', url: `${API}/me`, schema, quickParse }));
    expect(error.message).toContain('data.id: Invalid input: expected string, received number');
    expect(seen).toEqual([{ data: { id: 'quick-1', extra: true } }, { data: { id: 'slow-1', extra: true } }, { data: { id: 7 } }]);
  });

  test('response.json() on malformed JSON', async () => {
    nock(API).get('/x').reply(200, '{oops');
    const response = await client().http.request({ method: 'GET', url: `${API}/x` });
    expect(() => response.json()).toThrowError(expect.objectContaining({ code: 'platform_unavailable' }));
  });
});

describe('byte cap', () => {
  test('a declared Content-Length beyond the cap is refused without reading', async () => {
    nock(API).get('/big').reply(200, 'x'.repeat(2048), { 'content-length': '2048' });
    const error = await failure(client({ maxResponseBytes: 1024 }).http.request({ method: 'GET', url: `${API}/big` }));
    expect(error.code).toBe('platform_unavailable');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('larger than 1024 bytes');
  });
});

describe('dry run', () => {
  test('a write is refused without being sent; reads still go out', async () => {
    const write = nock(API).post('/posts').reply(201, {});
    const read = nock(API).get('/me').reply(200, {});
    const { http } = client();
    await runWithPublishContext({ dryRun: true }, async () => {
      const error = await failure(http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} } }));
      expect(error.code).toBe('not_supported');
      expect(error.rule).toBe('http.dry_run_write');
      expect(error.retryable).toBe(false);
      await http.request({ method: 'GET', url: `${API}/me` });
      // A POST that only reads may say so.
      nock(API).post('/search').reply(200, {});
      await http.request({ method: 'POST', url: `${API}/search`, isWrite: false });
    });
    expect(write.isDone()).toBe(false);
    expect(read.isDone()).toBe(true);
  });

  test('outside a dry run the same write goes out', async () => {
    const write = nock(API).post('/posts').reply(201, {});
    await runWithPublishContext({ dryRun: false }, () => client().http.request({ method: 'POST', url: `${API}/posts`, body: { json: {} } }));
    expect(write.isDone()).toBe(true);
  });
});

describe('a request that cannot be built', () => {
  test('rejects (never throws) and sends nothing, for the first attempt as for any', async () => {
    const endpoint = nock(API).get('/me').reply(200, {});
    const { http } = client();
    // Headers are built for every attempt (a fresh OAuth 1.0a nonce each time): a header value
    // that cannot be read fails there.
    const headers = {
      get 'x-broken'(): string {
        throw new Error('header value unreadable');
      },
    };
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = http.request({ method: 'GET', url: `${API}/me`, headers });
    }).not.toThrow();
    await expect(pending).rejects.toThrow('header value unreadable');
    expect(endpoint.isDone()).toBe(false);
  });
});

describe('defaultErrorForStatus', () => {
  const base = { headers: {}, body: undefined, request: { method: 'GET' as const, url: `${API}/x`, retry: 'safe' as const } };
  test('429 carries retryAfterMs from the rate-limit info', () => {
    const error = defaultErrorForStatus({ ...base, status: 429, rateLimit: { retryAfterMs: 1234 } });
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfterMs).toBe(1234);
  });
  test('messages use the platform error text when present', () => {
    const error = defaultErrorForStatus({ ...base, status: 400, rateLimit: {}, body: { error: { message: 'Invalid media id' } } }, { platform: 'facebook' });
    expect(error.message).toBe(`Facebook rejected GET ${API}/x (400): Invalid media id`);
    expect(error.platform).toBe('facebook');
  });
});
