import { runProviderConformance } from '@letmepost/testing';
import type { MockAgent } from 'undici';
import codeExchangeFlat from './__fixtures__/code-exchange-flat.json' with { type: 'json' };
import codeExchangeRefused from './__fixtures__/code-exchange-refused.json' with { type: 'json' };
import containerCreated from './__fixtures__/container-created.json' with { type: 'json' };
import containerFinished from './__fixtures__/container-finished.json' with { type: 'json' };
import containerPublished from './__fixtures__/container-published.json' with { type: 'json' };
import error190Expired from './__fixtures__/error-190-expired.json' with { type: 'json' };
import error10Permission from './__fixtures__/error-10-permission.json' with { type: 'json' };
import error4RateLimit from './__fixtures__/error-4-rate-limit.json' with { type: 'json' };
import error9004Fetch from './__fixtures__/error-9004-fetch.json' with { type: 'json' };
import longLivedToken from './__fixtures__/long-lived-token.json' with { type: 'json' };
import me from './__fixtures__/me.json' with { type: 'json' };
import mediaList from './__fixtures__/media-list.json' with { type: 'json' };
import mediaPublished from './__fixtures__/media-published.json' with { type: 'json' };
import permalink from './__fixtures__/permalink.json' with { type: 'json' };
import publishingLimit from './__fixtures__/publishing-limit.json' with { type: 'json' };
import { createInstagram } from './instagram-provider.js';
import { ACCESS_TOKEN, answer, CLIENT_ID, CLIENT_SECRET, GRAPH, IG_USER_ID, VERSION } from './test-support/instagram-graph-mock.js';

const IMAGE_URL = 'https://media.letmepost.dev/bakery/sourdough.jpg';
const account = { platformAccountId: IG_USER_ID, username: 'letmepost.bakery', data: { igUserId: IG_USER_ID } };
const containerId = containerCreated.id;

/** Everything a single-image publish reads and creates before `media_publish`. */
function beforePublish(agent: MockAgent): void {
  answer({ agent, method: 'GET', path: `${IG_USER_ID}/content_publishing_limit`, body: publishingLimit, persist: true });
  answer({ agent, method: 'POST', path: `${IG_USER_ID}/media`, body: containerCreated, persist: true });
  answer({ agent, method: 'GET', path: containerId, body: containerFinished, persist: true });
  answer({ agent, method: 'GET', path: mediaPublished.id, body: permalink, persist: true });
}

// The whole contract: shape, preflight with canonical rule ids, Instagram Login's code exchange
// and long-lived swap, publish failures and 2xx refusals at media_publish, refresh, the account,
// and resume (checkStatus only reads; finalize twice publishes once).
runProviderConformance({
  createProvider: ({ dispatcher, clock }) =>
    createInstagram({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, dispatcher, clock, lookupHost: async () => ['151.101.1.1'], containerWait: { intervalMs: 0, maxWaitMs: 0 } }),
  oauth: {
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    redirectUri: 'https://app.example/v1/accounts/oauth/instagram/callback',
    authorizationEndpoint: 'https://www.instagram.com/oauth/authorize',
    scopeSeparator: ',',
    tokenEndpoint: { origin: 'https://api.instagram.com', path: '/oauth/access_token' },
    tokenResponse: { status: 200, body: codeExchangeFlat },
    setup: (agent) => answer({ agent, method: 'GET', path: 'access_token', body: longLivedToken, unversioned: true }),
    expected: { accessToken: longLivedToken.access_token, scopes: ['instagram_business_basic', 'instagram_business_content_publish'] },
    invalidGrantResponse: { status: 400, body: codeExchangeRefused },
  },
  credentials: { valid: { accessToken: ACCESS_TOKEN, instagramAccountId: IG_USER_ID } },
  publish: {
    auth: { type: 'account', account, tokens: { accessToken: ACCESS_TOKEN } },
    post: { text: 'Fresh sourdough, out of the oven at 7', media: [{ url: IMAGE_URL, mimeType: 'image/jpeg', altText: 'A loaf of sourdough' }] },
    canarySecrets: [ACCESS_TOKEN, CLIENT_SECRET],
    setup: beforePublish,
    writeEndpoint: { origin: GRAPH, method: 'POST', path: (path) => path.split('?')[0] === `/${VERSION}/${IG_USER_ID}/media_publish`, success: { status: 200, body: mediaPublished } },
    expected: { postId: mediaPublished.id, url: permalink.permalink },
    rateLimit: { headers: { 'retry-after': '60' }, body: error4RateLimit, retryAfterMs: 60_000 },
    errorBodies: { 401: error190Expired, 403: error10Permission },
    successErrorBody: { status: 200, body: error9004Fetch, codes: ['media_invalid'] },
  },
  validation: [
    { post: { text: 'Only words' }, rule: 'instagram.media.required' },
    { post: { text: 'a', media: [{ url: 'https://127.0.0.1/a.jpg', mimeType: 'image/jpeg' }] }, rule: 'instagram.media.url_not_public' },
    { post: { text: 'a', media: [{ url: 'https://cdn.example.com/a.jpg', mimeType: 'image/jpeg', width: 1080, height: 1920 }] }, rule: 'instagram.media.aspect_ratio' },
    { post: { text: 'a', media: [{ url: 'https://cdn.example.com/a.mp4', mimeType: 'video/mp4', durationSeconds: 1200 }] }, rule: 'instagram.media.video_duration' },
    { post: { text: 'a', media: [{ url: 'https://cdn.example.com/a.jpg', mimeType: 'image/jpeg' }] }, options: { placement: 'story' }, rule: 'instagram.story.caption' },
    { post: { text: 'a', media: [{ url: 'https://cdn.example.com/a.jpg', mimeType: 'image/jpeg' }] }, options: { placement: 'everywhere' }, rule: 'instagram.options.invalid' },
  ],
  refresh: {
    // A token 30 days from expiry: old enough to be refreshed.
    tokens: { accessToken: ACCESS_TOKEN, expiresAt: Date.UTC(2025, 1, 14) },
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    endpoint: { origin: GRAPH, method: 'GET', path: (path) => path.startsWith('/refresh_access_token?') },
    rotated: { status: 200, body: longLivedToken },
    // No refresh token exists: the access token itself is refreshed, and none may be made up.
    expected: { accessToken: longLivedToken.access_token },
    withoutRefreshToken: { status: 200, body: longLivedToken },
  },
  accounts: {
    tokens: { accessToken: ACCESS_TOKEN },
    client: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    setup: (agent) => answer({ agent, method: 'GET', path: 'me', body: me }),
    expectedAccountIds: [IG_USER_ID],
  },
  resume: {
    auth: { type: 'account', account, tokens: { accessToken: ACCESS_TOKEN } },
    resume: { v: 1, igUserId: IG_USER_ID, shape: 'image', stage: 'container', containerId, caption: mediaList.data[0]!.caption, createdAt: Date.UTC(2025, 0, 15, 11, 59), warnings: [] },
    setup: (agent) => {
      // The first finalize finds the container ready and publishes it; the second finds it published.
      answer({ agent, method: 'GET', path: containerId, body: containerFinished, times: 1 });
      answer({ agent, method: 'GET', path: containerId, body: containerPublished, persist: true });
      answer({ agent, method: 'GET', path: mediaPublished.id, body: permalink, persist: true });
      answer({
        agent,
        method: 'GET',
        path: `${IG_USER_ID}/media`,
        body: { data: [{ ...mediaList.data[0], timestamp: '2025-01-15T12:00:30+0000' }] },
        persist: true,
      });
    },
    finalizeEndpoint: { origin: GRAPH, method: 'POST', path: (path) => path.split('?')[0] === `/${VERSION}/${IG_USER_ID}/media_publish`, success: { status: 200, body: mediaPublished } },
    expected: { postId: mediaPublished.id },
  },
});
