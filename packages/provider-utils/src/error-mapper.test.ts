import { LetmepostError } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { createErrorMapper, type ErrorMapperRule } from './error-mapper.js';
import { createHttpClient, type HttpErrorResponse } from './http-client.js';
import { failure } from './test-support/letmepost-failure.js';

const API = 'https://graph.example.com';
const CANARY_TOKEN = 'canary-graph-token-5c4b3a';
const NOW = Date.UTC(2026, 0, 1);

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
});

type GraphFields = { code: number | undefined; subcode: number | undefined; type: string | undefined; slackError: string | undefined };

const graphBody = z.looseObject({
  error: z.looseObject({ code: z.number().optional(), error_subcode: z.number().optional(), type: z.string().optional() }).optional(),
});

const fields = (response: HttpErrorResponse): GraphFields => {
  const parsed = graphBody.safeParse(response.body);
  const error = parsed.success ? parsed.data.error : undefined;
  const slack = z.object({ ok: z.literal(false), error: z.string() }).safeParse(response.body);
  return { code: error?.code, subcode: error?.error_subcode, type: error?.type, slackError: slack.success ? slack.data.error : undefined };
};

const rules: readonly ErrorMapperRule<GraphFields>[] = [
  { when: { code: 190, subcode: [458, 460, 463] }, code: 'reauth_required', rule: 'facebook.token.invalidated', remediation: 'Connect again.' },
  { when: [{ code: 190 }, { status: 401 }], code: 'auth_expired' },
  { when: [{ code: [4, 17, 32, 613] }, { status: 429 }], code: 'rate_limited', retryAfter: 'header-or-reset' },
  { when: { slackError: ['channel_not_found', 'not_in_channel'] }, code: 'not_found', field: 'options.channel' },
  { when: { slackError: 'ratelimited' }, code: 'rate_limited', retryAfter: 'header' },
  { when: { status: '5xx' }, code: 'default' },
  { when: { status: (status) => status === 418 }, code: 'platform_rejected', message: ({ message }) => `${message} (a teapot)` },
  { when: { status: '4xx', type: 'OAuthException' }, code: 'permission_denied' },
];

const mapper = createErrorMapper({
  platform: 'facebook',
  clock: { now: () => NOW },
  fields,
  message: ({ response, fields: found }) => `Graph answered ${response.status}${found.code === undefined ? '' : ` code ${found.code}`}`,
  rules,
});

const response = (fields: Partial<HttpErrorResponse> & { status: number }): HttpErrorResponse => ({
  headers: {},
  body: undefined,
  rateLimit: {},
  request: { method: 'POST', url: `${API}/me/feed`, retry: 'create' },
  ...fields,
});

describe('createErrorMapper', () => {
  test('the first row whose condition holds maps the answer; every key of a condition must hold', () => {
    expect(mapper(response({ status: 400, body: { error: { code: 190, error_subcode: 460 } } }))).toMatchObject({
      code: 'reauth_required',
      rule: 'facebook.token.invalidated',
      remediation: 'Connect again.',
      platform: 'facebook',
      status: 400,
      message: 'Graph answered 400 code 190',
    });
    // Code 190 with another subcode falls through to the next row.
    expect(mapper(response({ status: 400, body: { error: { code: 190, error_subcode: 999 } } }))?.code).toBe('auth_expired');
  });

  test('a list of conditions holds when any of them does', () => {
    expect(mapper(response({ status: 401, body: {} }))?.code).toBe('auth_expired');
    expect(mapper(response({ status: 400, body: { error: { code: 613 } } }))?.code).toBe('rate_limited');
  });

  test('retryAfter comes from Retry-After, else from the window reset against the clock', () => {
    expect(mapper(response({ status: 429, rateLimit: { retryAfterMs: 5_000, resetAt: NOW + 60_000 } }))?.retryAfterMs).toBe(5_000);
    expect(mapper(response({ status: 429, rateLimit: { resetAt: NOW + 60_000 } }))?.retryAfterMs).toBe(60_000);
    expect(mapper(response({ status: 429, rateLimit: {} }))?.retryAfterMs).toBeUndefined();
  });

  test('status classes, predicates, message overrides and fields', () => {
    expect(mapper(response({ status: 503, body: {} }))).toBeUndefined();
    expect(mapper(response({ status: 418, body: {} }))?.message).toBe('Graph answered 418 (a teapot)');
    expect(mapper(response({ status: 403, body: { error: { type: 'OAuthException' } } }))?.code).toBe('permission_denied');
    expect(mapper(response({ status: 403, body: { error: { type: 'GraphMethodException' } } }))).toBeUndefined();
  });

  test('keeps the answer as platformResponse and never reads prose', () => {
    const error = mapper(response({ status: 400, body: { error: { code: 190, message: 'Error validating access token: session has been invalidated' } } }))!;
    expect(error.platformResponse).toEqual({ status: 400, body: { error: { code: 190, message: 'Error validating access token: session has been invalidated' } } });
    expect(mapper(response({ status: 400, body: { error: { message: 'code 190' } } }))).toBeUndefined();
  });
});

describe('inspectSuccess: failures in 2xx bodies', () => {
  // The same table, for a platform that answers failures with 200 (Slack's Web API).
  const slackMapper = createErrorMapper({ platform: 'slack', fields, message: ({ response }) => `Slack answered ${response.status}`, rules });
  const http = () =>
    createHttpClient({
      platform: 'slack',
      clock: { now: () => NOW },
      retry: { sleep: async () => undefined },
      mapError: slackMapper,
      inspectSuccess: (answer) => (fields(answer).slackError === undefined ? undefined : slackMapper(answer)),
    });

  test('a 200 `{ ok: false }` becomes the mapped typed error, with the request’s secrets masked, sent once', async () => {
    const scope = nock(API)
      .post('/chat.postMessage')
      .reply(200, { ok: false, error: 'channel_not_found', echo: CANARY_TOKEN });
    const error = await failure(
      http().json({ method: 'POST', url: `${API}/chat.postMessage`, auth: { bearer: CANARY_TOKEN }, body: { json: { channel: 'C1' } }, schema: z.object({ ok: z.literal(true) }) }),
    );
    scope.done();
    expect(error).toMatchObject({ code: 'not_found', field: 'options.channel', status: 200, platform: 'slack' });
    expect(JSON.stringify(error.toJSON())).not.toContain(CANARY_TOKEN);
  });

  test('a rate limit reported in a 200 keeps Retry-After and is not retried for a create', async () => {
    const scope = nock(API).post('/chat.postMessage').reply(200, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' });
    const error = await failure(http().request({ method: 'POST', url: `${API}/chat.postMessage`, body: { json: {} } }));
    scope.done();
    expect(error).toMatchObject({ code: 'rate_limited', retryAfterMs: 30_000 });
  });

  test('a 2xx body that reports success passes through untouched', async () => {
    nock(API).post('/chat.postMessage').reply(200, { ok: true, ts: '1.2' });
    const { value } = await http().json({ method: 'POST', url: `${API}/chat.postMessage`, body: { json: {} }, schema: z.object({ ok: z.literal(true), ts: z.string() }) });
    expect(value.ts).toBe('1.2');
  });

  test('without the hook the same body is read as a success (the gap the hook closes)', async () => {
    nock(API).post('/chat.postMessage').reply(200, { ok: false, error: 'channel_not_found' });
    const plain = createHttpClient({ platform: 'slack', mapError: mapper });
    const response = await plain.request({ method: 'POST', url: `${API}/chat.postMessage`, body: { json: {} } });
    expect(response.status).toBe(200);
    expect(LetmepostError.isInstance(response)).toBe(false);
  });
});
