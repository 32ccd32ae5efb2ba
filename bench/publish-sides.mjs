// The sides the publish benchmarks compare, to the loopback X (`letmepost-publish-overhead.mjs`,
// all in one process; `publish-alone.mjs`, each in a process of its own): letmepost.publish, the
// same request with bare undici, and twitter-api-v2, for a connected account and for per-request
// OAuth 1.0a credentials. Every side of a comparison sends the same request.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { TwitterApi } from 'twitter-api-v2';
import { Agent } from 'undici';
import { bareCreatePost } from './bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost, expectPublished } from './bench-letmepost.mjs';

export const SEQUENTIAL = 10;
export const IN_FLIGHT = 16;
const WORKSPACE_ID = 'ws-bench';
let counter = 0;

function twitterApiV2({ auth, endpoints }) {
  // It calls `https.request`, which accepts an http: URL when the agent given is an http.Agent.
  const client = new TwitterApi(auth, { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }) });
  // Its API host is a constant; the v2 client keeps it in `_prefix`.
  client.v2._prefix = `${endpoints.apiBaseUrl}/2/`;
  return async () => {
    const answer = await client.v2.post('tweets', { text: `twitter-api-v2 ${(counter += 1)}` }, { forceBodyMode: 'json' });
    if (!answer.data?.id) throw new Error('twitter-api-v2 tweet failed');
  };
}

export async function comparisons({ server }) {
  const endpoints = server.endpoints.twitter;
  const credentials = server.oauth1Credentials;
  const oauth1 = {
    consumerKey: credentials.consumerKey,
    consumerSecret: credentials.consumerSecret,
    accessToken: credentials.accessToken,
    accessTokenSecret: credentials.accessTokenSecret,
  };
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
  const account = await connectBenchAccount({ letmepost, workspaceId: WORKSPACE_ID });
  const bareBearer = () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` });
  return {
    close: () => agent.close(),
    list: [
      {
        name: 'connected account (OAuth 2.0 user token, sealed in the store)',
        sides: {
          'bare undici': bareBearer,
          'letmepost.publish': async () => {
            const [result] = await letmepost.publish({ workspaceId: WORKSPACE_ID, post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] });
            expectPublished(result);
          },
          'twitter-api-v2': twitterApiV2({ auth: server.accessToken, endpoints }),
        },
      },
      {
        name: 'per-request OAuth 1.0a credentials (every side signs)',
        sides: {
          'bare undici': () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, oauth1, text: `bare ${(counter += 1)}` }),
          'letmepost.publish': async () => {
            const [result] = await letmepost.publish({ post: { text: `letmepost ${(counter += 1)}` }, targets: [{ platform: 'twitter', credentials }] });
            expectPublished(result);
          },
          'twitter-api-v2': twitterApiV2({
            auth: {
              appKey: credentials.consumerKey,
              appSecret: credentials.consumerSecret,
              accessToken: credentials.accessToken,
              accessSecret: credentials.accessTokenSecret,
            },
            endpoints,
          }),
          'bare undici, bearer': bareBearer,
        },
        // The unsigned request is shown for comparison with earlier figures; it sets no target.
        informational: ['bare undici, bearer'],
      },
    ],
  };
}

/** Wall time and this process's CPU time (user + system, µs) for one batch of `side`. */
export async function time({ side, shape }) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (shape === 'sequential') {
    for (let index = 0; index < SEQUENTIAL; index += 1) await side();
  } else {
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => side()));
  }
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms: elapsed, cpuUs: used.user + used.system };
}


/**
 * Runs `script` again in a fresh process with `env` added, and resolves with the figures it sends
 * back (`sendFigures`); `what` names the process in an error.
 */
export async function measureInFreshProcess({ script, env, what }) {
  const child = fork(script, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answer = once(child, 'message');
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
  const [figures] = await answer;
  return figures;
}

/** In a process `measureInFreshProcess` started: hands the figures to the parent and lets this process end. */
export function sendFigures(figures) {
  // The channel to the parent would keep this process alive: closed once the figures are sent.
  process.send(figures, () => process.disconnect());
}
