import nock from 'nock';

/** One request as nock received it. */
export interface WireCall {
  method: string;
  /** Path with query. */
  path: string;
  headers: Record<string, string>;
  /** The form body, decoded (empty for GET and DELETE). */
  form: Record<string, string>;
}

export interface ThreadsReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const THREADS_API = 'https://graph.threads.net';

/**
 * Registers one Threads answer on nock and records what was sent to it. Answers are served in
 * registration order, so a sequence of calls to one path gets a sequence of answers.
 */
export function interceptThreads(options: {
  calls: WireCall[];
  method: 'GET' | 'POST' | 'DELETE';
  /** Path without the query (the query is recorded, not matched). */
  path: string;
  reply: ThreadsReply;
  times?: number;
}): nock.Scope {
  const scope = nock(THREADS_API);
  const matchPath = (path: string) => path.split('?')[0] === options.path;
  const interceptor =
    options.method === 'GET' ? scope.get(matchPath) : options.method === 'DELETE' ? scope.delete(matchPath) : scope.post(matchPath, () => true);
  return interceptor.times(options.times ?? 1).reply(async (request: Request) => {
    const url = new URL(request.url);
    const text = await request.text();
    options.calls.push({
      method: request.method,
      path: url.pathname + url.search,
      headers: Object.fromEntries(request.headers.entries()),
      form: Object.fromEntries(new URLSearchParams(text).entries()),
    });
    const body = options.reply.body;
    return [options.reply.status, body === undefined ? '' : JSON.stringify(body), { 'content-type': 'application/json', ...options.reply.headers }];
  });
}
