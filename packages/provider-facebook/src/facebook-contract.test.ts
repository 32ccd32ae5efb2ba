import type { RecordedRequest } from '@letmepost/testing';
import { checkGraphRequest, type GraphRequestToCheck } from '@letmepost/meta-graph/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishAuth } from '@letmepost/core';
import type { FacebookCredentials } from './facebook-credentials.js';
import { createFacebook } from './facebook-provider.js';
import { startFakeGraph, type FakeGraph } from './test-support/fake-graph.js';

// Every request the provider sends, recorded on a loopback Graph, is checked against the facts
// of Meta's own node descriptions (`@letmepost/meta-graph/contract`: parameter names, types,
// enums, required flags, field names). Graph ids say nothing of their node type, so the path is
// mapped to its node here. Calls outside the node descriptions are checked against the fact
// sheet instead: the OAuth token endpoint, a business's `owned_pages`/`client_pages` (the
// Business node is not among the descriptions) and the Reels byte upload host.

const PAGE_TOKEN = 'EAAPage101-c4n4ry-token';
const auth: PublishAuth<FacebookCredentials> = {
  type: 'account',
  account: { platformAccountId: '101', kind: 'page', data: { pageId: '101' } },
  tokens: { accessToken: PAGE_TOKEN, secrets: { appsecretProof: 'proof' } },
};

let graph: FakeGraph;
beforeAll(async () => {
  graph = await startFakeGraph();
  const provider = createFacebook({ clientId: '1', clientSecret: 'secret', apiBaseUrl: graph.url, http: { retry: { maxAttempts: 1 } } });
  const image = { url: 'https://media.example/a.jpg', mimeType: 'image/jpeg', altText: 'alt' };
  const bytes = { data: new Uint8Array(2048), mimeType: 'image/png' };
  const video = { data: new Uint8Array(4096), mimeType: 'video/mp4' };
  await provider.exchangeCode!({
    client: { clientId: '1', clientSecret: 'secret' },
    redirectUri: 'https://app.example/cb',
    callbackUrl: new URL('https://app.example/cb?code=c&state=state-0123456789'),
    state: 'state-0123456789',
    codeVerifier: 'verifier-verifier-verifier-verifier-verifier-0123',
  });
  await provider.listAccounts!({ tokens: { accessToken: 'user' }, client: { clientId: '1', clientSecret: 'secret' } });
  await provider.publish({ post: { text: 'text', link: 'https://letmepost.dev', firstComment: 'first' }, auth, options: {} });
  await provider.publish({ post: { text: 'one photo', media: [image] }, auth, options: {} });
  await provider.publish({ post: { text: 'photo bytes', media: [bytes] }, auth, options: {} });
  await provider.publish({ post: { text: 'photos', media: [image, bytes] }, auth, options: {} });
  await provider.publish({ post: { text: 'video', media: [video] }, auth, options: {} });
  await provider.publish({ post: { text: 'video url', media: [{ url: 'https://media.example/v.mp4', mimeType: 'video/mp4' }] }, auth, options: {} });
  await provider.publish({ post: { text: 'reel', media: [video] }, auth, options: { videoFormat: 'reel' } });
  await provider.deletePost!({ auth, postId: '101_1001' });
  await provider.revoke!({ tokens: { accessToken: 'user' } });
});
afterAll(async () => {
  await graph.close();
});

/** The node a recorded Graph call targets, or why it is checked elsewhere. */
function targetOf(request: RecordedRequest): Omit<GraphRequestToCheck, 'params'> | { outside: string } {
  const path = graph.pathOf(request);
  const method = request.method as GraphRequestToCheck['method'];
  if (path === 'oauth/access_token') return { outside: 'oauth' };
  if (/^\d+\/(owned_pages|client_pages)$/.test(path)) return { outside: 'business' };
  if (path.startsWith('video-upload/')) return { outside: 'rupload' };
  const me = /^me\/(\w+)$/.exec(path);
  if (me !== null) return { node: 'User', method, edge: me[1]! };
  const pageEdge = /^101\/(\w+)$/.exec(path);
  if (pageEdge !== null) return { node: 'Page', method, edge: pageEdge[1]! };
  const postEdge = /^\d+_\d+\/(\w+)$/.exec(path);
  if (postEdge !== null) return { node: 'PagePost', method, edge: postEdge[1]! };
  const videoEdge = /^\d+\/(\w+)$/.exec(path);
  if (videoEdge !== null) return { node: 'AdVideo', method, edge: videoEdge[1]! };
  if (/^\d+_\d+$/.test(path)) return { node: 'PagePost', method };
  throw new Error(`No node known for ${method} ${path}`);
}

describe('Facebook requests against the Graph node descriptions', () => {
  it('recorded every shape', () => {
    const seen = new Set(graph.server.requests.map((request) => `${request.method} ${graph.pathOf(request)}`));
    for (const expected of ['GET me/accounts', 'GET me/businesses', 'POST 101/feed', 'POST 101/photos', 'POST 101/videos', 'POST 101/video_reels', 'POST 101_1001/comments', 'DELETE 101_1001', 'DELETE me/permissions']) {
      expect(seen, expected).toContain(expected);
    }
  });

  it('every Graph call names only parameters of its operation, with their types and enum values', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const request of graph.server.requests) {
      const target = targetOf(request);
      if ('outside' in target) continue;
      checked += 1;
      problems.push(...checkGraphRequest({ ...target, params: graph.paramsOf(request) }));
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(15);
  });

  it('the calls outside the descriptions follow the fact sheet', () => {
    for (const request of graph.server.requests) {
      const target = targetOf(request);
      if (!('outside' in target)) continue;
      const params = graph.paramsOf(request);
      if (target.outside === 'oauth' && request.method === 'POST') {
        expect(Object.keys(params).sort()).toEqual(['client_id', 'client_secret', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
      }
      if (target.outside === 'oauth' && request.method === 'GET') {
        expect(Object.keys(params).sort()).toEqual(['client_id', 'client_secret', 'fb_exchange_token', 'grant_type']);
        expect(params.grant_type).toBe('fb_exchange_token');
      }
      if (target.outside === 'business') expect(params.fields).toBe('id,name,username,access_token,picture.type(large)');
      if (target.outside === 'rupload') {
        expect(request.headers.authorization).toMatch(/^OAuth /);
        expect(request.headers.offset).toBe('0');
        expect(request.headers.file_size).toBe(String(request.body.length));
      }
    }
  });

  it('the check fails a request that departs from the description (the test can fail)', () => {
    const feed = graph.server.requests.find((request) => graph.pathOf(request) === '101/feed')!;
    expect(checkGraphRequest({ node: 'Page', method: 'POST', edge: 'feed', params: { ...graph.paramsOf(feed), messsage: 'typo' } })).toEqual(['POST Page/feed: unknown parameter messsage']);
  });
});
