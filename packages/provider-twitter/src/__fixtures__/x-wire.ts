import nock from 'nock';

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
