import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore, type AnyProvider, type Clock } from '@letmepost/core';
import { createLoopbackProvider } from '@letmepost/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRestHandler } from './rest-handler.js';
import { authenticateTestKeys } from './test-support/authenticate.js';

const BASE = 'http://api.test';
const DAY = 24 * 60 * 60 * 1000;
const OPERATOR_SECRET = 'canary-operator-secret-4e1b';

let now = Date.UTC(2026, 11, 1);
const clock: Clock = { now: () => now };
let refreshes: string[];

function provider(): AnyProvider {
  const base = createLoopbackProvider({ id: 'instagram', baseUrl: 'http://127.0.0.1:9', clientId: 'ig-client', clientSecret: 'canary-rest-secret-0002' });
  return {
    ...base,
    auth: { kind: 'oauth2', scopes: { write: ['write'], extended: [] }, pkce: false, refresh: 'none' },
    authorizationUrl({ client, redirectUri, state }) {
      const url = new URL('https://auth.instagram.test/oauth/authorize');
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('state', state);
      return url;
    },
    async exchangeCode() {
      return { accessToken: 'long-lived-1', expiresAt: now + 60 * DAY };
    },
    async listAccounts() {
      return [{ platformAccountId: 'ig-1', kind: 'person', displayName: 'Alice' }];
    },
    async refresh({ tokens }) {
      refreshes.push(tokens.accessToken);
      return { accessToken: `long-lived-${refreshes.length + 1}`, expiresAt: now + 60 * DAY };
    },
    validate: () => [],
  } as AnyProvider;
}

async function call(handler: (request: Request) => Promise<Response>, options: { path: string; headers?: Record<string, string>; body?: unknown }) {
  const response = await handler(
    new Request(`${BASE}${options.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(options.body ?? {}),
    }),
  );
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('REST: POST /v1/maintenance/refresh-due', () => {
  let letmepost: ReturnType<typeof createLetmepost>;
  let accountId: string;

  beforeEach(async () => {
    refreshes = [];
    now = Date.UTC(2026, 11, 1);
    letmepost = createLetmepost({ providers: [provider()], store: memoryTokenStore({ clock }), clock, encryptionKey: randomBytes(32).toString('base64'), baseUrl: BASE });
    const { url } = await letmepost.connect.start({ workspaceId: 'ws-a', platform: 'instagram', allowQuickstartCreds: true });
    const state = new URL(url).searchParams.get('state') ?? '';
    const [account] = await letmepost.connect.complete({
      platform: 'instagram',
      callbackUrl: `${BASE}/v1/accounts/oauth/instagram/callback?code=c1&state=${encodeURIComponent(state)}`,
    });
    accountId = account!.id;
    now += 55 * DAY;
  });

  const operatorHandler = () =>
    createRestHandler({
      letmepost,
      authenticate: authenticateTestKeys,
      authorizeOperator: (request) => request.headers.get('x-operator-key') === OPERATOR_SECRET,
    });

  it('refreshes due grants for an authorised operator and answers the report in snake_case', async () => {
    const response = await call(operatorHandler(), {
      path: '/v1/maintenance/refresh-due',
      headers: { 'x-operator-key': OPERATOR_SECRET },
      body: { within_ms: 7 * DAY },
    });
    expect(response.status).toBe(200);
    expect(refreshes).toEqual(['long-lived-1']);
    expect(response.json?.data).toEqual({
      checked: 1,
      refreshed: [{ workspace_id: 'ws-a', grant_id: expect.any(String), platform: 'instagram', account_ids: [accountId], expires_at: now + 60 * DAY }],
      failed: [],
      not_refreshable: [],
      needs_reconnect: [],
    });
    expect(JSON.stringify(response.json)).not.toContain('long-lived');
  });

  it('refuses a workspace API key: operator tasks are not a workspace right', async () => {
    const response = await call(operatorHandler(), {
      path: '/v1/maintenance/refresh-due',
      headers: { authorization: 'Bearer key-a' },
      body: { within_ms: 7 * DAY },
    });
    expect(response.status).toBe(403);
    expect(response.json?.error).toMatchObject({ code: 'permission_denied' });
    expect(refreshes).toEqual([]);
  });

  it('does not exist unless the host configured who the operator is', async () => {
    const handler = createRestHandler({ letmepost, authenticate: authenticateTestKeys });
    const response = await call(handler, {
      path: '/v1/maintenance/refresh-due',
      headers: { 'x-operator-key': OPERATOR_SECRET, authorization: 'Bearer key-a' },
      body: { within_ms: 7 * DAY },
    });
    expect(response.status).toBe(404);
    expect(refreshes).toEqual([]);
  });

  it('names a bad window (422) before refreshing anything', async () => {
    const response = await call(operatorHandler(), {
      path: '/v1/maintenance/refresh-due',
      headers: { 'x-operator-key': OPERATOR_SECRET },
      body: { within_ms: 'a week' },
    });
    expect(response.status).toBe(422);
    expect(response.json?.error?.code).toBe('validation_failed');
    expect(JSON.stringify(response.json)).toContain('within_ms');
    expect(refreshes).toEqual([]);
  });
});
