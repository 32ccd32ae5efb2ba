import { MockAgent } from 'undici';

export const GRAPH = 'https://graph.instagram.com';
export const VERSION = 'v26.0';
export const IG_USER_ID = '17841400000000001';
export const ACCESS_TOKEN = 'IGAAaccess-c4n4ry-7a8b';
export const CLIENT_ID = '990011223344556';
export const CLIENT_SECRET = 'instagram-app-secret-c4n4ry-9c0d';
export const NOW = Date.UTC(2026, 11, 6, 0, 0, 0);

export interface RecordedGraphRequest {
  method: string;
  /** Path without the version prefix, e.g. `17841400000000001/media`. */
  path: string;
  /** Query and form parameters together, as sent (strings). */
  params: Record<string, string>;
}

/** A MockAgent standing in for graph.instagram.com, with every request it answered recorded. */
export function createGraphMock(): { agent: MockAgent; recorded: () => RecordedGraphRequest[] } {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent.enableCallHistory();
  return {
    agent,
    recorded: () =>
      (agent.getCallHistory()?.calls() ?? [])
        .filter((call) => call.origin === GRAPH)
        .map((call) => {
          const url = new URL(call.fullUrl);
          const params: Record<string, string> = Object.fromEntries(url.searchParams);
          if (typeof call.body === 'string' && call.body.length > 0) Object.assign(params, Object.fromEntries(new URLSearchParams(call.body)));
          return { method: call.method, path: url.pathname.replace(/^\/(v\d+\.\d+\/)?/, ''), params };
        }),
  };
}

const json = { headers: { 'content-type': 'application/json' } };

/** Registers one answer for `METHOD /v26.0/<path>` (any query). */
export function answer(options: { agent: MockAgent; method: string; path: string; status?: number; body: unknown; times?: number; persist?: boolean; unversioned?: boolean }): void {
  const prefix = options.unversioned === true ? '' : `/${VERSION}`;
  const scope = options.agent
    .get(GRAPH)
    .intercept({ method: options.method, path: (path) => path.split('?')[0] === `${prefix}/${options.path}` })
    .reply(options.status ?? 200, JSON.stringify(options.body), json);
  if (options.persist === true) scope.persist();
  else if (options.times !== undefined) scope.times(options.times);
}
