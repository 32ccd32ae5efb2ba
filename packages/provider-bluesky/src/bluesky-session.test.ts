import { LetmepostError } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  CANARY_APP_PASSWORD,
  DID,
  NOW,
  PDS,
  account,
  exposedText,
  fixture,
  refreshed,
  session,
  testProvider,
  tokens,
} from './test-support/bluesky-test-setup.js';
import { SessionCache, jwtExpiresAt } from './bluesky-session.js';

const createSessionResponse = fixture('create-session.json');

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending, 'every expected request was made').toEqual([]);
});

describe('refresh', () => {
  test('calls refreshSession with the refresh JWT as bearer and no body, keeping the app password', async () => {
    const provider = testProvider();
    nock(PDS, { badheaders: ['content-type'] })
      .post('/xrpc/com.atproto.server.refreshSession', '')
      .matchHeader('authorization', `Bearer ${session.refreshJwt}`)
      .reply(200, fixture('refresh-session.json'));
    const next = await provider.refresh!({ tokens, grantData: account.data });
    expect(next).toEqual({
      accessToken: refreshed.accessJwt,
      refreshToken: refreshed.refreshJwt,
      tokenType: 'Bearer',
      expiresAt: NOW + (3600 + 7200) * 1000,
      refreshTokenExpiresAt: NOW + (3600 + 90 * 86400) * 1000,
      secrets: { appPassword: CANARY_APP_PASSWORD },
    });
  });

  test('logs in again with the app password when the refresh token is dead', async () => {
    const provider = testProvider();
    nock(PDS).post('/xrpc/com.atproto.server.refreshSession').reply(400, fixture('error-expired-token.json'));
    nock(PDS, { badheaders: ['authorization'] })
      .post('/xrpc/com.atproto.server.createSession', { identifier: DID, password: CANARY_APP_PASSWORD })
      .reply(200, createSessionResponse);
    const next = await provider.refresh!({ tokens, grantData: account.data });
    expect(next).toMatchObject({ accessToken: session.accessJwt, refreshToken: session.refreshJwt, secrets: { appPassword: CANARY_APP_PASSWORD } });
  });

  test('without a stored refresh token it logs in with the app password directly', async () => {
    const provider = testProvider();
    nock(PDS)
      .post('/xrpc/com.atproto.server.createSession', { identifier: DID, password: CANARY_APP_PASSWORD })
      .reply(200, createSessionResponse);
    const next = await provider.refresh!({ tokens: { ...tokens, refreshToken: undefined }, grantData: account.data });
    expect(next.refreshToken).toBe(session.refreshJwt);
  });

  test('is reauth_required when the app password was revoked too, without showing it', async () => {
    const provider = testProvider();
    nock(PDS).post('/xrpc/com.atproto.server.refreshSession').reply(400, { error: 'InvalidToken', message: 'Token could not be verified' });
    nock(PDS).post('/xrpc/com.atproto.server.createSession').reply(401, fixture('error-invalid-password.json'));
    const error = await provider.refresh!({ tokens, grantData: account.data }).catch((caught: unknown) => caught);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'reauth_required', platform: 'bluesky', retryable: false });
    expect(exposedText(error)).not.toContain(CANARY_APP_PASSWORD);
    expect(exposedText(error)).not.toContain(session.refreshJwt);
  });

  test('is reauth_required when the refresh token is dead and no app password is stored', async () => {
    const provider = testProvider();
    nock(PDS).post('/xrpc/com.atproto.server.refreshSession').reply(400, fixture('error-expired-token.json'));
    await expect(provider.refresh!({ tokens: { ...tokens, secrets: undefined }, grantData: account.data })).rejects.toMatchObject({ code: 'reauth_required' });
  });

  test('an outage during refresh stays retryable and does not burn a login', async () => {
    const provider = testProvider();
    nock(PDS).post('/xrpc/com.atproto.server.refreshSession').reply(503, { error: 'NotEnoughResources', message: 'try later' });
    await expect(provider.refresh!({ tokens, grantData: account.data })).rejects.toMatchObject({ code: 'platform_unavailable', retryable: true });
  });
});

describe('session helpers', () => {
  test('jwtExpiresAt reads exp in milliseconds and tolerates garbage', () => {
    expect(jwtExpiresAt(session.accessJwt)).toBe(NOW + 7200 * 1000);
    expect(jwtExpiresAt('not-a-jwt')).toBeUndefined();
    expect(jwtExpiresAt('a.bm90IGpzb24.c')).toBeUndefined();
  });

  test('the cache key is a SHA-256 that never contains the credentials and separates services', () => {
    const key = SessionCache.keyFor({ identifier: 'alice.example.com', appPassword: CANARY_APP_PASSWORD });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(CANARY_APP_PASSWORD);
    expect(SessionCache.keyFor({ identifier: 'alice.example.com', appPassword: CANARY_APP_PASSWORD, service: 'https://pds.example.net' })).not.toBe(key);
  });

  test('the cache evicts the least recently used session past maxEntries', () => {
    const cache = new SessionCache({ maxEntries: 2 });
    const entry = { did: DID, handle: 'a', pdsUrl: PDS, accessJwt: 'x' };
    cache.set('a', entry);
    cache.set('b', entry);
    cache.get('a');
    cache.set('c', entry);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map(Boolean)).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
  });
});
