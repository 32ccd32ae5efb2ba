import { describe, expect, it } from 'vitest';
import { SandboxHttpError } from './sandbox-http.js';
import { createMetaGraph } from './sandbox-meta-graph.js';
import { SandboxState } from './sandbox-state.js';

function setup() {
  let now = 1_780_000_000_000;
  const state = new SandboxState({ now: () => now });
  const meta = createMetaGraph({ state });
  return { state, meta, advance: (ms: number) => (now += ms) };
}

function graphCode(run: () => unknown): { status: number; code: number; subcode?: number } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof SandboxHttpError)) throw error;
    const body = error.body as { error: { code: number; error_subcode?: number } };
    return { status: error.status, code: body.error.code, ...(body.error.error_subcode !== undefined && { subcode: body.error.error_subcode }) };
  }
  throw new Error('expected a Graph error');
}

describe('the shared Graph container state machine', () => {
  it('IN_PROGRESS for its processing reads, then FINISHED; published once; publishing again is refused', () => {
    const { meta } = setup();
    const container = meta.createContainer({ platform: 'instagram', ownerId: '1784', kind: 'REELS', params: {}, processingReads: 2 });
    expect(container.status).toBe('IN_PROGRESS');
    expect(graphCode(() => meta.publishContainer({ id: container.id, ownerPlatform: 'instagram', ownerId: '1784', limitKey: 'ig:1784', limit: 100, mediaId: () => 'm1' }))).toEqual({ status: 400, code: 9007, subcode: 2_207_027 });
    expect(meta.readContainer({ id: container.id, ownerPlatform: 'instagram' }).status).toBe('IN_PROGRESS');
    expect(meta.readContainer({ id: container.id, ownerPlatform: 'instagram' }).status).toBe('FINISHED');
    const published = meta.publishContainer({ id: container.id, ownerPlatform: 'instagram', ownerId: '1784', limitKey: 'ig:1784', limit: 100, mediaId: () => 'm1' });
    expect(published).toMatchObject({ status: 'PUBLISHED', publishedId: 'm1' });
    expect(graphCode(() => meta.publishContainer({ id: container.id, ownerPlatform: 'instagram', ownerId: '1784', limitKey: 'ig:1784', limit: 100, mediaId: () => 'm2' })).code).toBe(9007);
  });

  it('the fault switch ends containers ERROR or EXPIRED, or keeps them processing', () => {
    const { meta } = setup();
    meta.setContainerFault('threads', { kind: 'error', message: 'Media fetch failed' });
    expect(meta.createContainer({ platform: 'threads', ownerId: '9', kind: 'IMAGE', params: {} })).toMatchObject({ status: 'ERROR', errorMessage: 'Media fetch failed' });
    meta.setContainerFault('threads', { kind: 'expired' });
    const expired = meta.createContainer({ platform: 'threads', ownerId: '9', kind: 'IMAGE', params: {} });
    expect(expired.status).toBe('EXPIRED');
    expect(graphCode(() => meta.publishContainer({ id: expired.id, ownerPlatform: 'threads', ownerId: '9', limitKey: 't:9', limit: 250, mediaId: () => 'x' })).subcode).toBe(2_207_020);
    meta.setContainerFault('threads', { kind: 'slow', reads: 3 });
    const slow = meta.createContainer({ platform: 'threads', ownerId: '9', kind: 'TEXT', params: {} });
    expect([1, 2, 3].map(() => meta.readContainer({ id: slow.id, ownerPlatform: 'threads' }).status)).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'FINISHED']);
    meta.setContainerFault('threads', undefined);
    expect(meta.createContainer({ platform: 'threads', ownerId: '9', kind: 'TEXT', params: {} }).status).toBe('FINISHED');
  });

  it('counts publishes over a rolling 24 hours and refuses past the limit with 9/2207042', () => {
    const { meta, advance } = setup();
    const publish = () => {
      const container = meta.createContainer({ platform: 'instagram', ownerId: '1', kind: 'IMAGE', params: {} });
      return meta.publishContainer({ id: container.id, ownerPlatform: 'instagram', ownerId: '1', limitKey: 'ig:1', limit: 2, mediaId: () => container.id });
    };
    publish();
    publish();
    expect(graphCode(publish)).toEqual({ status: 400, code: 9, subcode: 2_207_042 });
    advance(86_400_001);
    expect(publish().status).toBe('PUBLISHED');
    expect(meta.publishingUsage({ key: 'ig:1' })).toBe(1);
  });
});

describe('the shared Graph tokens', () => {
  it('refreshes a long-lived token only once it is a day old, and refuses an expired one', () => {
    const { state, meta, advance } = setup();
    state.registerApp({ platform: 'threads', clientId: 'th', clientSecret: 'th-secret', redirectUris: ['https://app.example/cb'] });
    const token = meta.issueToken({ platform: 'threads', userId: '9', scopes: ['threads_basic'], clientId: 'th', lifetimeSeconds: 60 * 86_400, long: true });
    const sent: unknown[] = [];
    const response = { writeHead: () => response, end: (body: string) => sent.push(JSON.parse(body)) } as never;
    expect(graphCode(() => meta.refreshLongLived({ platform: 'threads', params: { grant_type: 'th_refresh_token', access_token: token }, response, grantType: 'th_refresh_token' })).code).toBe(10);
    advance(86_400_000);
    meta.refreshLongLived({ platform: 'threads', params: { grant_type: 'th_refresh_token', access_token: token }, response, grantType: 'th_refresh_token' });
    expect(sent[0]).toMatchObject({ token_type: 'bearer', expires_in: 60 * 86_400 });
    expect(state.refreshCount).toBe(1);
    advance(60 * 86_400_000);
    expect(graphCode(() => meta.refreshLongLived({ platform: 'threads', params: { grant_type: 'th_refresh_token', access_token: token }, response, grantType: 'th_refresh_token' }))).toEqual({ status: 400, code: 190, subcode: 463 });
  });

  it('swaps a short-lived token for a 60-day one only with the app’s secret', () => {
    const { state, meta } = setup();
    state.registerApp({ platform: 'instagram', clientId: 'ig', clientSecret: 'ig-secret', redirectUris: ['https://app.example/cb'] });
    const short = meta.issueToken({ platform: 'instagram', userId: '1784', scopes: ['instagram_business_basic'], clientId: 'ig', lifetimeSeconds: 3600 });
    const sent: unknown[] = [];
    const response = { writeHead: () => response, end: (body: string) => sent.push(JSON.parse(body)) } as never;
    expect(graphCode(() => meta.longLivedSwap({ platform: 'instagram', params: { grant_type: 'ig_exchange_token', client_secret: 'nope', access_token: short }, response, grantType: 'ig_exchange_token', tokenParameter: 'access_token' })).code).toBe(101);
    meta.longLivedSwap({ platform: 'instagram', params: { grant_type: 'ig_exchange_token', client_secret: 'ig-secret', access_token: short }, response, grantType: 'ig_exchange_token', tokenParameter: 'access_token' });
    expect(sent[0]).toMatchObject({ token_type: 'bearer', expires_in: 60 * 86_400 });
  });
});
