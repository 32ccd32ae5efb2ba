import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blueskyUser } from './sandbox-bluesky.js';
import { startSandbox, type Sandbox } from './sandbox-server.js';

const redirectUri = 'http://127.0.0.1:3000/v1/accounts/oauth/twitter/callback';
let sandbox: Sandbox;

beforeEach(async () => {
  sandbox = await startSandbox({
    apps: [
      { platform: 'twitter', clientId: 'x-client', clientSecret: 'x-secret', redirectUris: [redirectUri] },
      { platform: 'linkedin', clientId: 'li-client', clientSecret: 'li-secret', redirectUris: ['http://127.0.0.1:3000/v1/accounts/oauth/linkedin/callback'] },
    ],
  });
});
afterEach(async () => sandbox.close());

const verifier = 'v'.repeat(64);
const challenge = createHash('sha256').update(verifier).digest('base64url');

async function consent(options: { authorizeUrl: string; decision: 'approve' | 'deny' }): Promise<URL> {
  const page = await fetch(options.authorizeUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  const consentId = /name="consent_id" value="([^"]+)"/.exec(html)?.[1];
  expect(consentId).toBeDefined();
  const action = new URL('consent', options.authorizeUrl);
  const answer = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent_id: consentId!, decision: options.decision }),
  });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location')!);
}

function twitterAuthorizeUrl(overrides: Record<string, string> = {}): string {
  const url = new URL(sandbox.endpoints.twitter.oauthAuthorizeUrl);
  const params = {
    response_type: 'code',
    client_id: 'x-client',
    redirect_uri: redirectUri,
    scope: 'tweet.read tweet.write users.read offline.access media.write',
    state: 'state-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

async function token(form: Record<string, string>, secret = 'x-secret') {
  const response = await fetch(`${sandbox.endpoints.twitter.apiBaseUrl}/2/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`x-client:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('twitter emulator', () => {
  it('runs the authorization code flow with PKCE and rotates refresh tokens, rejecting reuse', async () => {
    const callback = await consent({ authorizeUrl: twitterAuthorizeUrl(), decision: 'approve' });
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe('state-1');
    const code = callback.searchParams.get('code')!;

    const wrongVerifier = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: 'x'.repeat(64) });
    expect(wrongVerifier.status).toBe(400);
    // A code is single use even when the first exchange failed.
    const replay = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    expect(replay).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' } });

    const second = await consent({ authorizeUrl: twitterAuthorizeUrl(), decision: 'approve' });
    const granted = await token({ grant_type: 'authorization_code', code: second.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({ token_type: 'bearer', expires_in: 7200, scope: 'tweet.read tweet.write users.read offline.access media.write' });

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: granted.body.refresh_token! });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(granted.body.refresh_token);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: granted.body.refresh_token! });
    expect(reused).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'Value passed for the token was invalid.' } });
    expect(sandbox.state.refreshCount).toBe(1);
    expect(sandbox.state.refreshRejections).toBe(1);

    const tweet = await fetch(`${sandbox.endpoints.twitter.apiBaseUrl}/2/tweets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${refreshed.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello sandbox' }),
    });
    expect(tweet.status).toBe(201);
    const created = (await tweet.json()) as { data: { id: string; text: string } };
    expect(created.data.text).toBe('hello sandbox');
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['hello sandbox']);

    const duplicate = await fetch(`${sandbox.endpoints.twitter.apiBaseUrl}/2/tweets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${refreshed.body.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello sandbox' }),
    });
    expect(duplicate.status).toBe(403);
  });

  it('rejects a redirect URI that differs by one character without redirecting', async () => {
    const response = await fetch(twitterAuthorizeUrl({ redirect_uri: `${redirectUri}/` }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('redirect-mismatch');
  });

  it('sends access_denied back when the user denies consent', async () => {
    const callback = await consent({ authorizeUrl: twitterAuthorizeUrl(), decision: 'deny' });
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('state-1');
  });

  it('answers 429 with x-rate-limit-reset while a rate-limit fault is armed, then recovers', async () => {
    const callback = await consent({ authorizeUrl: twitterAuthorizeUrl(), decision: 'approve' });
    const granted = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
    sandbox.setFault('twitter', { kind: 'rate_limit', resetSeconds: 30, remaining: 1 });
    const post = () =>
      fetch(`${sandbox.endpoints.twitter.apiBaseUrl}/2/tweets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${granted.body.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `post ${Math.random()}` }),
      });
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect((await post()).status).toBe(201);
  });

  it('records the post and then drops the connection for drop_after_record', async () => {
    const callback = await consent({ authorizeUrl: twitterAuthorizeUrl(), decision: 'approve' });
    const granted = await token({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
    sandbox.setFault('twitter', { kind: 'drop_after_record', remaining: 1 });
    await expect(
      fetch(`${sandbox.endpoints.twitter.apiBaseUrl}/2/tweets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${granted.body.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'did it land?' }),
      }),
    ).rejects.toThrow();
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['did it land?']);
  });
});

describe('bluesky emulator', () => {
  const xrpc = (name: string) => `${sandbox.endpoints.bluesky.serviceUrl}/xrpc/${name}`;

  it('creates sessions, posts with validated facets, and rotates refresh JWTs', async () => {
    const bad = await fetch(xrpc('com.atproto.server.createSession'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: blueskyUser.handle, password: 'wrong' }),
    });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'AuthenticationRequired', message: 'Invalid identifier or password' });

    const login = await fetch(xrpc('com.atproto.server.createSession'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: blueskyUser.handle, password: blueskyUser.appPassword }),
    });
    const session = (await login.json()) as { accessJwt: string; refreshJwt: string; did: string; didDoc: { service: Array<{ serviceEndpoint: string }> } };
    expect(session.did).toBe(blueskyUser.did);
    expect(session.didDoc.service[0]!.serviceEndpoint).toBe(sandbox.endpoints.bluesky.serviceUrl);

    const text = '🙂 see https://example.com';
    const start = Buffer.byteLength('🙂 see ');
    const created = await fetch(xrpc('com.atproto.repo.createRecord'), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        repo: session.did,
        collection: 'app.bsky.feed.post',
        record: {
          $type: 'app.bsky.feed.post',
          text,
          createdAt: new Date().toISOString(),
          facets: [{ index: { byteStart: start, byteEnd: Buffer.byteLength(text) }, features: [{ $type: 'app.bsky.richtext.facet#link', uri: 'https://example.com' }] }],
        },
      }),
    });
    expect(created.status).toBe(200);
    const { uri } = (await created.json()) as { uri: string };
    expect(uri).toMatch(new RegExp(`^at://${blueskyUser.did}/app.bsky.feed.post/[a-z2-7]{13}$`));

    const refresh = () =>
      fetch(xrpc('com.atproto.server.refreshSession'), { method: 'POST', headers: { authorization: `Bearer ${session.refreshJwt}` } });
    expect((await refresh()).status).toBe(200);
    const reused = await refresh();
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'ExpiredToken' });
  });

  it('answers an expired access JWT with HTTP 400 ExpiredToken, as the real PDS does', async () => {
    await sandbox.close();
    let now = Date.now();
    sandbox = await startSandbox({ now: () => now, blueskyAccessLifetimeSeconds: 60 });
    const login = await fetch(xrpc('com.atproto.server.createSession'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: blueskyUser.did, password: blueskyUser.appPassword }),
    });
    const session = (await login.json()) as { accessJwt: string };
    now += 61_000;
    const response = await fetch(xrpc('com.atproto.server.getSession'), { headers: { authorization: `Bearer ${session.accessJwt}` } });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'ExpiredToken', message: 'Token has expired' });
  });

  it('serves the DID document from the PLC emulator', async () => {
    const response = await fetch(`${sandbox.endpoints.bluesky.plcDirectoryUrl}/${blueskyUser.did}`);
    expect(await response.json()).toMatchObject({ id: blueskyUser.did, service: [{ type: 'AtprotoPersonalDataServer', serviceEndpoint: sandbox.endpoints.bluesky.serviceUrl }] });
  });
});

describe('linkedin emulator', () => {
  it('requires the versioned headers and returns the post URN in x-restli-id', async () => {
    sandbox.state.accessTokens.set('li-token', { platform: 'linkedin', userId: 'sbxMember01', scopes: ['openid', 'profile', 'w_member_social'], expiresAt: Date.now() + 60_000 });
    const body = JSON.stringify({
      author: 'urn:li:person:sbxMember01',
      commentary: 'Hello LinkedIn',
      visibility: 'PUBLIC',
      distribution: { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] },
      lifecycleState: 'PUBLISHED',
    });
    const unversioned = await fetch(`${sandbox.endpoints.linkedin.apiBaseUrl}/rest/posts`, {
      method: 'POST',
      headers: { authorization: 'Bearer li-token', 'content-type': 'application/json' },
      body,
    });
    expect(unversioned.status).toBe(426);
    const created = await fetch(`${sandbox.endpoints.linkedin.apiBaseUrl}/rest/posts`, {
      method: 'POST',
      headers: { authorization: 'Bearer li-token', 'content-type': 'application/json', 'linkedin-version': '202610', 'x-restli-protocol-version': '2.0.0' },
      body,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-restli-id')).toMatch(/^urn:li:share:\d+$/);
  });
});

describe('linkedin images and comments', () => {
  const headers = { authorization: 'Bearer li-token', 'content-type': 'application/json', 'linkedin-version': '202610', 'x-restli-protocol-version': '2.0.0' };
  beforeEach(() => {
    sandbox.state.accessTokens.set('li-token', { platform: 'linkedin', userId: 'sbxMember01', scopes: ['openid', 'profile', 'w_member_social'], expiresAt: Date.now() + 60_000 });
  });

  it('reports an image WAITING_UPLOAD until its bytes arrive, then AVAILABLE', async () => {
    const api = sandbox.endpoints.linkedin.apiBaseUrl;
    const initialized = await fetch(`${api}/rest/images?action=initializeUpload`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ initializeUploadRequest: { owner: 'urn:li:person:sbxMember01' } }),
    });
    const { value } = (await initialized.json()) as { value: { uploadUrl: string; image: string } };
    const status = async () => (await (await fetch(`${api}/rest/images/${encodeURIComponent(value.image)}`, { headers })).json()) as { status: string; owner: string };
    expect(await status()).toMatchObject({ status: 'WAITING_UPLOAD', owner: 'urn:li:person:sbxMember01' });
    expect((await fetch(value.uploadUrl, { method: 'PUT', headers: { authorization: 'Bearer li-token' }, body: Buffer.alloc(100) })).status).toBe(201);
    expect((await status()).status).toBe('AVAILABLE');
  });

  it('answers 404 to a comment on a post that does not exist', async () => {
    const target = 'urn:li:share:7300000000000000999';
    const response = await fetch(`${sandbox.endpoints.linkedin.apiBaseUrl}/rest/socialActions/${encodeURIComponent(target)}/comments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ actor: 'urn:li:person:sbxMember01', object: target, message: { text: 'hi' } }),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('X OAuth 1.0a credentials over the admin API', () => {
  it('registers a consumer and token pair, refusing an incomplete one', async () => {
    const register = (body: unknown) =>
      fetch(`${sandbox.url}/_sandbox/twitter/oauth1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await register({ consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at' })).status).toBe(400);
    expect((await register({ consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ts' })).status).toBe(201);
    expect(sandbox.state.oauth1Credentials).toEqual([{ consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'ts', userId: '1500000000000000001' }]);
  });
});

describe('fault switches over the admin API', () => {
  async function blueskySession() {
    const login = await fetch(`${sandbox.endpoints.bluesky.serviceUrl}/xrpc/com.atproto.server.createSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: blueskyUser.handle, password: blueskyUser.appPassword }),
    });
    return (await login.json()) as { accessJwt: string; did: string };
  }
  const createRecord = (session: { accessJwt: string; did: string }, text: string) =>
    fetch(`${sandbox.endpoints.bluesky.serviceUrl}/xrpc/com.atproto.repo.createRecord`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.accessJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repo: session.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() } }),
    });
  const arm = (body: unknown) =>
    fetch(`${sandbox.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers a 5xx in the platform shape for the armed number of writes, then recovers', async () => {
    const session = await blueskySession();
    expect((await arm({ platform: 'bluesky', fault: { kind: 'server_error', status: 502, remaining: 2 } })).status).toBe(200);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failed = await createRecord(session, `attempt ${attempt}`);
      expect(failed.status).toBe(502);
      expect(await failed.json()).toEqual({ error: 'InternalServerError', message: 'Internal Server Error' });
    }
    expect((await createRecord(session, 'third')).status).toBe(200);
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['third']);
  });

  it('delays writes while a slow fault is armed, and clears with a null fault', async () => {
    const session = await blueskySession();
    await arm({ platform: 'bluesky', fault: { kind: 'slow', delayMs: 300 } });
    const started = performance.now();
    expect((await createRecord(session, 'slow one')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await arm({ platform: 'bluesky', fault: null });
    expect(sandbox.state.faults.has('bluesky')).toBe(false);
  });

  it('refuses a malformed fault with a 400 naming the field', async () => {
    const response = await arm({ platform: 'bluesky', fault: { kind: 'slow' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('fault.delayMs');
  });
});

describe('post pages', () => {
  it('shows a stored post at postUrl, with ids such as AT URIs and URNs encoded', async () => {
    sandbox.state.addPost({ platform: 'linkedin', id: 'urn:li:share:7001', authorId: 'urn:li:person:abc', text: 'Hello <b>there</b>', mediaIds: ['urn:li:image:1'], raw: {} });
    sandbox.state.addPost({ platform: 'bluesky', id: 'at://did:plc:abc/app.bsky.feed.post/3kabc', authorId: 'did:plc:abc', text: 'sky', mediaIds: [], raw: {} });
    const linkedin = sandbox.postUrl({ platform: 'linkedin', postId: 'urn:li:share:7001' });
    expect(linkedin).toBe(`${sandbox.url}/posts/linkedin/urn%3Ali%3Ashare%3A7001`);
    const page = await fetch(linkedin);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-post-id="urn:li:share:7001"');
    expect(html).toContain('Hello &#60;b&#62;there&#60;/b&#62;');
    expect(html).toContain('<dd data-testid="media-count">1</dd>');
    const bluesky = await fetch(sandbox.postUrl({ platform: 'bluesky', postId: 'at://did:plc:abc/app.bsky.feed.post/3kabc' }));
    expect(await bluesky.text()).toContain('<blockquote>sky</blockquote>');
    // The overview links each post to its page.
    expect(await (await fetch(`${sandbox.url}/`)).text()).toContain('href="/posts/linkedin/urn%3Ali%3Ashare%3A7001"');
  });

  it('answers 404 for a post it does not have, or a malformed escape', async () => {
    for (const path of ['/posts/twitter/123', '/posts/twitter/%E0%A4%A']) {
      const page = await fetch(`${sandbox.url}${path}`);
      expect(page.status).toBe(404);
      expect(await page.text()).toContain('No such post in the sandbox');
    }
  });
});
