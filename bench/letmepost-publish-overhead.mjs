// Publish overhead through the whole library: `letmepost.publish()` of a text post to X (one
// target with per-request OAuth 1.0a credentials: post and target checked, preflight, the
// provider's request signed and sent, the answer parsed and mapped) versus a bare undici
// `request()` carrying the same JSON to the same loopback X (the sandbox, in its own process, over
// cleartext HTTP/1.1), with its own pooled Agent. twitter-api-v2 (what `client.v2.tweet()` sends,
// signed with the same OAuth 1.0a keys, through a keep-alive `http.Agent`) runs in the same
// rounds. Bare undici sends the OAuth 2.0 user token as a bearer: no signing, so the two
// libraries' figures carry the HMAC-SHA1 signature as part of their overhead.
//
// Two shapes of load: sequential (10 calls one after another) and 16 in flight (16 calls started
// together, awaited together). Each round runs every side once per shape, the order rotating
// each round (so no side always runs on a warmer server); the headline per side is the median
// of the per-round ratios of wall time to bare undici's, and the ratio of client CPU time (user +
// system of this process) over all rounds. Target: letmepost <= 1.25 x bare undici, wall and CPU,
// both shapes.
import { Agent as HttpAgent } from 'node:http';
import { createBenchLetmepost } from './bench-letmepost.mjs';
import { TwitterApi } from 'twitter-api-v2';
import { Agent } from 'undici';
import { bareCreatePost } from './bare-undici.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';
import { median } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 60);
const SEQUENTIAL = 10;
const IN_FLIGHT = 16;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const TARGET_RATIO = 1.25;
const server = await startLoopbackSandbox();
const credentials = server.oauth1Credentials;
let counter = 0;

function transport({ name, apiBaseUrl }) {
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
  const letmepost = createBenchLetmepost({ apiBaseUrl });
  const sides = {
    'bare undici': () => bareCreatePost({ apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` }),
    'letmepost.publish': async () => {
      const [result] = await letmepost.publish({
        post: { text: `letmepost ${(counter += 1)}` },
        targets: [{ platform: 'twitter', credentials }],
      });
      if (result.status !== 'published') throw new Error(`letmepost publish failed: ${JSON.stringify(result.error)}`);
    },
  };
  const client = new TwitterApi(
    { appKey: credentials.consumerKey, appSecret: credentials.consumerSecret, accessToken: credentials.accessToken, accessSecret: credentials.accessTokenSecret },
    // It calls `https.request`, which accepts an http: URL when the agent given is an http.Agent.
    { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }) },
  );
  // Its API host is a constant; the v2 client keeps it in `_prefix`.
  client.v2._prefix = `${apiBaseUrl}/2/`;
  sides['twitter-api-v2'] = async () => {
    // `tweet()` picks JSON by the URL's path starting with /2/; the sandbox serves X under /twitter.
    const answer = await client.v2.post('tweets', { text: `twitter-api-v2 ${(counter += 1)}` }, { forceBodyMode: 'json' });
    if (!answer.data?.id) throw new Error('twitter-api-v2 tweet failed');
  };
  return { name, sides, close: () => agent.close() };
}

/** Wall time and this process's CPU time (user + system, µs) for one batch of `side`. */
async function time({ side, shape }) {
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

const transports = [transport({ name: 'cleartext HTTP/1.1', apiBaseUrl: server.endpoints.twitter.apiBaseUrl })];
const missed = [];
try {
  for (const { name, sides, close } of transports) {
    const names = Object.keys(sides);
    for (const side of names) for (let index = 0; index < WARMUP; index += 1) await sides[side]();
    const lines = [`${name}: ${ROUNDS} rounds, each ${SEQUENTIAL} sequential calls and ${IN_FLIGHT} in flight per side`];
    for (const shape of ['sequential', 'in flight']) {
      const ratios = Object.fromEntries(names.map((side) => [side, []]));
      const totals = Object.fromEntries(names.map((side) => [side, { ms: 0, cpuUs: 0 }]));
      for (let round = 0; round < ROUNDS; round += 1) {
        const order = names.map((_, index) => names[(index + round) % names.length]);
        const measured = {};
        for (const side of order) measured[side] = await time({ side: sides[side], shape });
        for (const side of names) {
          ratios[side].push(measured[side].ms / measured['bare undici'].ms);
          totals[side].ms += measured[side].ms;
          totals[side].cpuUs += measured[side].cpuUs;
        }
      }
      const count = ROUNDS * (shape === 'sequential' ? SEQUENTIAL : IN_FLIGHT);
      lines.push(`  ${shape}:`);
      for (const side of names) {
        const wall = median(ratios[side]);
        const cpu = totals[side].cpuUs / totals['bare undici'].cpuUs;
        lines.push(
          `    ${side.padEnd(18)} ${(totals[side].ms / count).toFixed(3)} ms/call wall, ${(totals[side].cpuUs / count).toFixed(0).padStart(4)} µs/call CPU` +
            (side === 'bare undici' ? '' : `; ratio to bare undici: wall ${wall.toFixed(3)} (median of rounds), CPU ${cpu.toFixed(3)}`),
        );
        if (side === 'letmepost.publish' && (wall > TARGET_RATIO || cpu > TARGET_RATIO)) missed.push(`${name} ${shape}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    await close();
  }
  process.stdout.write(
    missed.length === 0
      ? `letmepost.publish within ${TARGET_RATIO} x bare undici (wall and CPU), sequential and in flight\n`
      : `missed ${TARGET_RATIO} x bare undici: ${missed.join(', ')}\n`,
  );
  if (missed.length > 0) process.exitCode = 1;
} finally {
  await server.stop();
}
