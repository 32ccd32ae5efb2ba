import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '@letmepost/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import facts from './test-support/threads-api-facts.json' with { type: 'json' };
import { createThreads } from './threads-provider.js';

// Every request this provider sends (and the consent URL it builds) is checked against the facts
// of Meta's Threads reference pages, kept in test-support/threads-api-facts.json with their
// sources: Threads has no machine-readable description, and Meta's pages may not be copied, so
// only names, types, enums and limits are kept. A parameter we add, rename or mistype fails here
// rather than as a 400 from Threads.

interface ParameterFact {
  type: 'string' | 'url' | 'boolean' | 'list' | 'fields';
  required?: boolean;
  enum?: string[];
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
}
interface OperationFact {
  parameters: Record<string, ParameterFact>;
  requiredWhen?: Array<{ parameter: string; equals: string; requires: string[] }>;
}
const operations = facts.operations as unknown as Record<string, OperationFact>;

/**
 * Sent although Threads does not document them: provider-utils' OAuth client always uses PKCE
 * (S256). Meta's OAuth endpoints ignore parameters they do not know (the consent and code
 * exchange work with them), so they are listed here, visibly, instead of being accepted silently.
 */
const UNDOCUMENTED_PKCE_PARAMETERS: Record<string, readonly string[]> = {
  'GET /oauth/authorize': ['code_challenge', 'code_challenge_method'],
  'POST /oauth/access_token': ['code_verifier'],
};

function operationOf(options: { method: string; path: string }): { key: string; operation: OperationFact } {
  const candidates = Object.entries(operations).filter(([key]) => {
    const [method, template] = key.split(' ') as [string, string];
    const pattern = new RegExp(`^${template.replace('{version}', 'v1\\.0').replace(/\{[^}]+\}/g, '(?:\\d+|me)')}$`);
    return method === options.method && pattern.test(options.path);
  });
  // A literal path (`/v1.0/me`) wins over a template (`/v1.0/{id}`).
  candidates.sort(([left], [right]) => (left.match(/\{/g)?.length ?? 0) - (right.match(/\{/g)?.length ?? 0));
  const match = candidates[0];
  if (match === undefined) throw new Error(`${options.method} ${options.path} is not an operation of threads-api-facts.json`);
  return { key: match[0], operation: match[1] };
}

/** What is wrong with one request's parameters (query and form body together), by the facts. */
function violations(options: { key: string; operation: OperationFact; parameters: URLSearchParams }): string[] {
  const { key, operation, parameters } = options;
  const problems: string[] = [];
  const allowedExtras = UNDOCUMENTED_PKCE_PARAMETERS[key] ?? [];
  for (const [name, value] of parameters) {
    const fact = operation.parameters[name];
    if (fact === undefined) {
      if (!allowedExtras.includes(name)) problems.push(`${key}: unknown parameter ${name}`);
      continue;
    }
    if (fact.enum !== undefined && (fact.type === 'string' ? [value] : value.split(',')).some((item) => !fact.enum!.includes(item))) {
      problems.push(`${key}: ${name}=${value} is not one of ${fact.enum.join('|')}`);
    }
    if (fact.type === 'boolean' && value !== 'true' && value !== 'false') problems.push(`${key}: ${name} must be true or false`);
    if (fact.type === 'url' && !/^https?:\/\/[^\s]+$/.test(value)) problems.push(`${key}: ${name} must be a URL`);
    if (fact.type === 'list') {
      const items = value.split(',');
      if ((fact.minItems !== undefined && items.length < fact.minItems) || (fact.maxItems !== undefined && items.length > fact.maxItems)) {
        problems.push(`${key}: ${name} has ${items.length} items`);
      }
    }
    if (fact.maxLength !== undefined && [...value].length > fact.maxLength) problems.push(`${key}: ${name} is longer than ${fact.maxLength}`);
    if (fact.pattern !== undefined && !new RegExp(fact.pattern, 'u').test(value)) problems.push(`${key}: ${name} does not match ${fact.pattern}`);
  }
  for (const [name, fact] of Object.entries(operation.parameters)) {
    if (fact.required === true && !parameters.has(name)) problems.push(`${key}: required ${name} is missing`);
  }
  for (const rule of operation.requiredWhen ?? []) {
    if (parameters.get(rule.parameter) !== rule.equals) continue;
    for (const name of rule.requires) if (!parameters.has(name)) problems.push(`${key}: ${rule.parameter}=${rule.equals} requires ${name}`);
  }
  return problems;
}

function parametersOf(request: RecordedRequest): URLSearchParams {
  const url = new URL(request.url, 'http://127.0.0.1');
  const parameters = new URLSearchParams(url.search);
  const contentType = String(request.headers['content-type'] ?? '');
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [name, value] of new URLSearchParams(request.body.toString('utf8'))) parameters.append(name, value);
  } else if (request.body.byteLength > 0) {
    throw new Error(`${request.method} ${url.pathname} sent a ${contentType} body; Threads takes parameters as a query or a form`);
  }
  return parameters;
}

const USER_ID = '17841400000000001';
let server: LoopbackServer;
let authorizeUrl: URL;

beforeAll(async () => {
  let nextId = 18000000000000100n;
  server = await startLoopbackServer({
    handler: (request, response) => {
      const reply = (body: unknown): void => void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const url = new URL(request.url, 'http://127.0.0.1');
      const path = url.pathname;
      if (path === '/oauth/access_token') return reply({ access_token: 'THQVJshort', user_id: Number(USER_ID) });
      if (path === '/access_token' || path === '/refresh_access_token') return reply({ access_token: 'THQVJlong', token_type: 'bearer', expires_in: 5183944 });
      if (path === '/v1.0/me') return reply({ id: USER_ID, username: 'letmepost' });
      if (path.endsWith('/threads_publishing_limit')) return reply({ data: [{ quota_usage: 0, config: { quota_total: 250 }, reply_quota_usage: 0, reply_config: { quota_total: 1000 } }] });
      if (request.method === 'POST') return reply({ id: String(nextId++) });
      if (request.method === 'DELETE') return reply({ success: true });
      if (url.searchParams.get('fields')?.includes('status')) return reply({ id: path.split('/').pop(), status: 'FINISHED' });
      return reply({ id: path.split('/').pop(), permalink: 'https://www.threads.com/@letmepost/post/x' });
    },
  });

  const threads = createThreads({ apiBaseUrl: server.url, oauthAuthorizeUrl: `${server.url}/oauth/authorize`, containerWait: { intervalMs: 1, maxWaitMs: 1 } });
  const client = { clientId: '990000000000001', clientSecret: 'contract-secret' };
  const redirectUri = 'https://app.example/v1/accounts/oauth/threads/callback';
  authorizeUrl = await threads.authorizationUrl!({
    client,
    redirectUri,
    state: 'state-0123456789abcdef',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    scopes: [...threads.auth.kind === 'oauth2' ? threads.auth.scopes.extended : []],
  });
  const tokens = await threads.exchangeCode!({
    client,
    redirectUri,
    callbackUrl: new URL(`${redirectUri}?code=AQBcode&state=state-0123456789abcdef#_`),
    state: 'state-0123456789abcdef',
    codeVerifier: 'verifier-0123456789abcdefghijklmnopqrstuvwxyz0123',
  });
  await threads.refresh!({ tokens, client });
  await threads.listAccounts!({ tokens, client });
  const auth = { type: 'credentials' as const, credentials: { accessToken: tokens.accessToken, threadsUserId: USER_ID } };
  const image = { url: 'https://cdn.example/a.jpg', mimeType: 'image/jpeg', altText: 'A cat' };
  const video = { url: 'https://cdn.example/v.mp4', mimeType: 'video/mp4' };
  for (const post of [
    { text: 'Plain text 😀' },
    { text: 'A link', link: 'https://letmepost.dev/a' },
    { text: 'An image', link: 'https://letmepost.dev/b', media: [image] },
    { text: 'A video', media: [video] },
    { text: 'A carousel', media: [image, video, image] },
    { text: 'A reply', replyTo: '18000000000000001' },
    { text: 'A thread', thread: [{ text: 'Two', media: [image, image] }, { text: 'Three' }], firstComment: 'First comment' },
  ]) {
    await threads.publish({ post, auth, options: { replyControl: 'mentioned_only', topicTag: 'letmepost' } });
  }
  await threads.deletePost!({ auth, postId: '18000000000000100' });
});

afterAll(async () => {
  await server?.close();
});

describe('Threads contract (threads-api-facts.json)', () => {
  it('every recorded request is a documented operation with documented, well-typed parameters', () => {
    expect(server.requests.length).toBeGreaterThan(40);
    const problems = server.requests.flatMap((request) => {
      const path = new URL(request.url, 'http://127.0.0.1').pathname;
      const { key, operation } = operationOf({ method: request.method, path });
      return violations({ key, operation, parameters: parametersOf(request) });
    });
    expect(problems).toEqual([]);
  });

  it('covers every operation the provider uses, and no operation it does not', () => {
    const used = new Set(server.requests.map((request) => operationOf({ method: request.method, path: new URL(request.url, 'http://127.0.0.1').pathname }).key));
    used.add('GET /oauth/authorize');
    expect([...used].sort()).toEqual(Object.keys(operations).sort());
  });

  it('the consent URL carries the documented parameters', () => {
    const { key, operation } = operationOf({ method: 'GET', path: '/oauth/authorize' });
    expect(violations({ key, operation, parameters: authorizeUrl.searchParams })).toEqual([]);
  });

  it('the checker itself refuses what Threads would refuse', () => {
    const { key, operation } = operationOf({ method: 'POST', path: `/v1.0/${USER_ID}/threads` });
    const check = (query: string) => violations({ key, operation, parameters: new URLSearchParams(query) });
    expect(check('media_type=TEXT')).toEqual([`${key}: media_type=TEXT requires text`]);
    expect(check('media_type=GIF&text=a')).toEqual([`${key}: media_type=GIF is not one of TEXT|IMAGE|VIDEO|CAROUSEL`]);
    expect(check('media_type=CAROUSEL&children=1')).toEqual([`${key}: children has 1 items`]);
    expect(check('media_type=TEXT&text=a&linkAttachment=https://a.example')).toEqual([`${key}: unknown parameter linkAttachment`]);
    expect(check('media_type=IMAGE&image_url=x')).toEqual([`${key}: image_url must be a URL`]);
  });
});
