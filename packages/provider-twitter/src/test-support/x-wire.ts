import nock from 'nock';
import { createHmac } from 'node:crypto';

/** One request as nock received it. */
export interface WireCall {
  method: string;
  /** Path with query. */
  path: string;
  headers: Record<string, string>;
  text: string;
}

export interface XReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Registers one X endpoint answer on nock and records what was sent to it. Replies are served
 * in registration order, so a sequence of calls to one path gets a sequence of answers.
 */
export function interceptX(options: {
  calls: WireCall[];
  method: 'GET' | 'POST' | 'DELETE';
  path: string | RegExp;
  reply: XReply;
  origin?: string;
}): nock.Scope {
  const scope = nock(options.origin ?? 'https://api.x.com');
  const interceptor =
    options.method === 'GET'
      ? scope.get(options.path)
      : options.method === 'DELETE'
        ? scope.delete(options.path)
        : scope.post(options.path, () => true);
  return interceptor.reply(async (request: Request) => {
    const url = new URL(request.url);
    options.calls.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers.entries()),
      text: await request.text(),
    });
    const body = options.reply.body;
    return [
      options.reply.status,
      body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
      { 'content-type': 'application/json', ...options.reply.headers },
    ];
  });
}

// ---- OAuth 1.0a reference (RFC 5849), written independently of provider-utils -----------------

function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function parseOAuthHeader(header: string): Record<string, string> {
  const parameters: Record<string, string> = {};
  for (const match of header.slice('OAuth '.length).matchAll(/([a-z_]+)="([^"]*)"/g)) {
    parameters[match[1]!] = decodeURIComponent(match[2]!);
  }
  return parameters;
}

export function referenceOAuth1Signature(options: {
  method: string;
  url: string;
  oauthParameters: Record<string, string>;
  /** Form body parameters (JSON and multipart bodies are not signed). */
  bodyParameters?: Record<string, string>;
  consumerSecret: string;
  tokenSecret: string;
}): string {
  const url = new URL(options.url);
  const pairs = [
    ...url.searchParams.entries(),
    ...Object.entries(options.oauthParameters).filter(([name]) => name !== 'oauth_signature'),
    ...Object.entries(options.bodyParameters ?? {}),
  ].map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`);
  pairs.sort();
  const base = [options.method, percentEncode(`${url.origin}${url.pathname}`), percentEncode(pairs.join('&'))].join('&');
  return createHmac('sha1', `${percentEncode(options.consumerSecret)}&${percentEncode(options.tokenSecret)}`).update(base).digest('base64');
}
