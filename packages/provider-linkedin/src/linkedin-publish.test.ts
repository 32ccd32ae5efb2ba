import { LetmepostError, type ErrorCode, type PublishAuth } from '@letmepost/core';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import error400TooLong from './__fixtures__/error-400-text-too-long.json' with { type: 'json' };
import error401Expired from './__fixtures__/error-401-expired-token.json' with { type: 'json' };
import error401Invalid from './__fixtures__/error-401-invalid-token.json' with { type: 'json' };
import error401Revoked from './__fixtures__/error-401-revoked-token.json' with { type: 'json' };
import error403 from './__fixtures__/error-403-access-denied.json' with { type: 'json' };
import error422Duplicate from './__fixtures__/error-422-duplicate.json' with { type: 'json' };
import error422Validation from './__fixtures__/error-422-validation.json' with { type: 'json' };
import error426 from './__fixtures__/error-426-nonexistent-version.json' with { type: 'json' };
import error429 from './__fixtures__/error-429-throttled.json' with { type: 'json' };
import error500 from './__fixtures__/error-500.json' with { type: 'json' };
import type { LinkedInCredentials } from './linkedin-credentials.js';
import { createLinkedIn } from './linkedin-provider.js';

const API = 'https://api.linkedin.com';
const TOKEN = 'AQX_publish_token_c4n4ry_19fe77';
const POST_URN = 'urn:li:share:7300000000000000042';
const ENCODED_POST_URN = 'urn%3Ali%3Ashare%3A7300000000000000042';

const personAuth: PublishAuth<LinkedInCredentials> = { type: 'credentials', credentials: { accessToken: TOKEN, personId: '782bbtaQ' } };
const personAccountAuth: PublishAuth<LinkedInCredentials> = {
  type: 'account',
  account: { platformAccountId: 'urn:li:person:782bbtaQ', kind: 'person', data: { urn: 'urn:li:person:782bbtaQ' } },
  tokens: { accessToken: TOKEN },
};
const organizationAccountAuth: PublishAuth<LinkedInCredentials> = {
  type: 'account',
  account: {
    platformAccountId: 'urn:li:organization:2414183',
    kind: 'organization',
    data: { urn: 'urn:li:organization:2414183', memberUrn: 'urn:li:person:782bbtaQ', role: 'ADMINISTRATOR' },
  },
  tokens: { accessToken: TOKEN },
};

function provider() {
  return createLinkedIn({ apiVersion: '202607', http: { retry: { maxAttempts: 1 } } });
}

const distribution = { feedDistribution: 'MAIN_FEED', targetEntities: [], thirdPartyDistributionChannels: [] };

/** Intercepts `POST /rest/posts`, recording the JSON body and headers sent. */
function interceptCreate(reply: { status: number; body?: unknown; headers?: Record<string, string> } = { status: 201, headers: { 'x-restli-id': POST_URN } }) {
  const sent: { body?: unknown; headers?: Headers } = {};
  const scope = nock(API)
    .post('/rest/posts', (body: unknown) => {
      sent.body = body;
      return true;
    })
    .reply(reply.status, reply.body === undefined ? '' : JSON.stringify(reply.body), {
      ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...reply.headers,
    });
  scope.on('request', (request: { headers: Headers }) => {
    sent.headers = request.headers;
  });
  return { scope, sent };
}

function expectRestHeaders(headers: Headers | undefined) {
  expect(headers?.get('authorization')).toBe(`Bearer ${TOKEN}`);
  expect(headers?.get('linkedin-version')).toBe('202607');
  expect(headers?.get('x-restli-protocol-version')).toBe('2.0.0');
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('publish: text and links', () => {
  it('posts text as the member with escaped commentary and the versioned headers', async () => {
    const { scope, sent } = interceptCreate();
    const result = await provider().publish({ post: { text: 'Launch (beta) #letmepost @team' }, auth: personAuth, options: {} });
    scope.done();
    expectRestHeaders(sent.headers);
    expect(sent.headers?.get('content-type')).toBe('application/json');
    expect(sent.body).toEqual({
      author: 'urn:li:person:782bbtaQ',
      commentary: 'Launch \\(beta\\) #letmepost \\@team',
      visibility: 'PUBLIC',
      distribution,
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
    });
    expect(result).toEqual({
      status: 'published',
      postId: POST_URN,
      url: `https://www.linkedin.com/feed/update/${POST_URN}/`,
      warnings: [],
    });
  });

  it('posts as an organization from per-request credentials', async () => {
    const { scope, sent } = interceptCreate();
    await provider().publish({
      post: { text: 'From the page' },
      auth: { type: 'credentials', credentials: { accessToken: TOKEN, organizationId: 'urn:li:organization:2414183' } },
      options: { visibility: 'PUBLIC', disableReshare: true },
    });
    scope.done();
    expect(sent.body).toMatchObject({ author: 'urn:li:organization:2414183', isReshareDisabledByAuthor: true });
  });

  it('posts as an organization account, or as a page chosen with options.organizationId', async () => {
    const first = interceptCreate();
    await provider().publish({ post: { text: 'Org account' }, auth: organizationAccountAuth, options: {} });
    first.scope.done();
    expect(first.sent.body).toMatchObject({ author: 'urn:li:organization:2414183' });

    const second = interceptCreate();
    await provider().publish({ post: { text: 'Member picks a page' }, auth: personAccountAuth, options: { organizationId: '5515715' } });
    second.scope.done();
    expect(second.sent.body).toMatchObject({ author: 'urn:li:organization:5515715' });
  });

  it('shares a link as an article card', async () => {
    const { scope, sent } = interceptCreate();
    const result = await provider().publish({
      post: { text: 'Read this', link: 'https://example.com/blog/launch' },
      auth: personAccountAuth,
      options: { linkTitle: 'We launched', linkDescription: 'What is new', visibility: 'CONNECTIONS' },
    });
    scope.done();
    expect(sent.body).toEqual({
      author: 'urn:li:person:782bbtaQ',
      commentary: 'Read this',
      visibility: 'CONNECTIONS',
      distribution,
      lifecycleState: 'PUBLISHED',
      isReshareDisabledByAuthor: false,
      content: { article: { source: 'https://example.com/blog/launch', title: 'We launched', description: 'What is new' } },
    });
    expect(result.warnings).toEqual([]);
  });

  it('adds the first comment on the new post (plain text, no little escaping)', async () => {
    const { scope } = interceptCreate();
    let commentBody: unknown;
    const commentScope = nock(API)
      .post(`/rest/socialActions/${ENCODED_POST_URN}/comments`, (body: unknown) => {
        commentBody = body;
        return true;
      })
      .reply(201, '', { 'x-restli-id': `urn:li:comment:(urn:li:activity:1,2)` });
    const commentHeaders: Headers[] = [];
    commentScope.on('request', (request: { headers: Headers }) => commentHeaders.push(request.headers));
    const result = await provider().publish({ post: { text: 'Main', firstComment: 'Link (here): https://x.example' }, auth: personAuth, options: {} });
    scope.done();
    commentScope.done();
    expectRestHeaders(commentHeaders[0]);
    expect(commentBody).toEqual({
      actor: 'urn:li:person:782bbtaQ',
      object: POST_URN,
      message: { text: 'Link (here): https://x.example' },
    });
    expect(result).toMatchObject({ status: 'published', postId: POST_URN, warnings: [] });
  });

  it('reports a failed first comment as a warning on a published post', async () => {
    const { scope } = interceptCreate();
    const commentScope = nock(API).post(`/rest/socialActions/${ENCODED_POST_URN}/comments`).reply(403, error403);
    const result = await provider().publish({ post: { text: 'Main', firstComment: 'later' }, auth: personAuth, options: {} });
    scope.done();
    commentScope.done();
    expect(result.status).toBe('published');
    expect(result.warnings).toEqual([
      { code: 'linkedin.first_comment.failed', message: 'The post was published but its first comment was not (permission_denied).' },
    ]);
  });

  it('answers unknown, not published, when LinkedIn omits the post id', async () => {
    const { scope } = interceptCreate({ status: 201 });
    const result = await provider().publish({ post: { text: 'hi' }, auth: personAuth, options: {} });
    scope.done();
    expect(result.status).toBe('unknown');
    expect(result.error?.code).toBe('publish_outcome_unknown');
  });

  it('refuses bad credentials and options with validation_failed naming the field, before any request', async () => {
    const badCredentials = await provider()
      .publish({ post: { text: 'hi' }, auth: { type: 'credentials', credentials: { accessToken: TOKEN, personId: 'not a urn!' } as never }, options: {} })
      .catch((caught: unknown) => caught);
    expect(badCredentials).toMatchObject({ code: 'validation_failed', field: 'credentials.personId' });
    expect(JSON.stringify(badCredentials)).not.toContain(TOKEN);
    const badOptions = await provider()
      .publish({ post: { text: 'hi' }, auth: personAuth, options: { visibility: 'FRIENDS' } as never })
      .catch((caught: unknown) => caught);
    expect(badOptions).toMatchObject({ code: 'validation_failed', field: 'options.visibility' });
  });
});

describe('publish: LinkedIn errors are mapped from structured fields', () => {
  const cases: Array<{ name: string; status: number; body: unknown; code: ErrorCode; retryable: boolean }> = [
    { name: '401 INVALID_ACCESS_TOKEN (65600)', status: 401, body: error401Invalid, code: 'auth_expired', retryable: false },
    { name: '401 EXPIRED_ACCESS_TOKEN (65602)', status: 401, body: error401Expired, code: 'auth_expired', retryable: false },
    { name: '401 REVOKED_ACCESS_TOKEN (65601)', status: 401, body: error401Revoked, code: 'reauth_required', retryable: false },
    { name: '403 ACCESS_DENIED (100)', status: 403, body: error403, code: 'permission_denied', retryable: false },
    { name: '422 DUPLICATE_POST', status: 422, body: error422Duplicate, code: 'duplicate_content', retryable: false },
    { name: '422 code DUPLICATE_POST', status: 422, body: { status: 422, code: 'DUPLICATE_POST', message: 'Content is a duplicate' }, code: 'duplicate_content', retryable: false },
    { name: '400 FIELD_ARRAY_SIZE_TOO_HIGH', status: 400, body: error400TooLong, code: 'platform_rejected', retryable: false },
    { name: '422 schema validation', status: 422, body: error422Validation, code: 'platform_rejected', retryable: false },
    { name: '426 NONEXISTENT_VERSION', status: 426, body: error426, code: 'platform_unavailable', retryable: false },
    { name: '429 throttled', status: 429, body: error429, code: 'rate_limited', retryable: true },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.code}`, async () => {
      const { scope } = interceptCreate({ status: testCase.status, body: testCase.body });
      const error = await provider()
        .publish({ post: { text: 'hi' }, auth: personAuth, options: {} })
        .catch((caught: unknown) => caught);
      scope.done();
      expect(LetmepostError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: testCase.code, platform: 'linkedin', status: testCase.status, retryable: testCase.retryable });
      for (const rendering of [JSON.stringify(error), String(error), (error as Error).stack ?? '']) expect(rendering).not.toContain(TOKEN);
    });
  }

  it('the same duplicate message without the structured code is not a duplicate (prose is never parsed)', async () => {
    const { scope } = interceptCreate({ status: 422, body: { status: 422, message: 'Content is a duplicate of urn:li:share:1' } });
    const error = await provider()
      .publish({ post: { text: 'hi' }, auth: personAuth, options: {} })
      .catch((caught: unknown) => caught);
    scope.done();
    expect(error).toMatchObject({ code: 'platform_rejected' });
  });

  it('500 on the create → unknown result (the post may exist), sent once', async () => {
    const { scope } = interceptCreate({ status: 500, body: error500 });
    const result = await provider().publish({ post: { text: 'hi' }, auth: personAuth, options: {} });
    scope.done();
    expect(result.status).toBe('unknown');
    expect(result.error?.code).toBe('publish_outcome_unknown');
  });
});

describe('deletePost', () => {
  it('sends DELETE /rest/posts/{encoded urn} with the versioned headers', async () => {
    const scope = nock(API).delete(`/rest/posts/${ENCODED_POST_URN}`).reply(204);
    const headers: Headers[] = [];
    scope.on('request', (request: { headers: Headers }) => headers.push(request.headers));
    await provider().deletePost!({ auth: personAccountAuth, postId: POST_URN });
    scope.done();
    expectRestHeaders(headers[0]);
    expect(headers[0]?.get('x-restli-method')).toBe('DELETE');
  });

  it('refuses an id that is not a post URN before any request', async () => {
    const error = await provider()
      .deletePost!({ auth: personAccountAuth, postId: '7300000000000000042' })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'validation_failed', field: 'postId' });
  });

  it('maps a 403 on delete to permission_denied', async () => {
    nock(API).delete(`/rest/posts/${ENCODED_POST_URN}`).reply(403, error403);
    await expect(provider().deletePost!({ auth: personAuth, postId: POST_URN })).rejects.toMatchObject({ code: 'permission_denied' });
  });
});
