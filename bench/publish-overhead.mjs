// Library publish overhead: `provider.publish()` of a text post versus a bare undici `request()`
// carrying the same JSON to the same loopback server (the sandbox, in its own process), with its
// own pooled Agent, reading the answer with `body.json()`.
//
// Method: many short rounds (10 requests a side), each timing a batch of one then a batch of the
// other, the order alternating every round (ABBA), so both sides see the same machine state. On a
// shared machine load comes and goes within seconds; a per-round ratio cancels it, and the median
// over rounds is the headline (the ratio of means over all requests, which a burst on one side
// skews, and the client's CPU time per request are printed too). Target: median ratio <= 1.10.
// Note the library sends two headers bare does not (`user-agent`, `accept`): the server parsing
// them is part of what is measured.
import { createTwitter } from '@letmepost/provider-twitter';
import { Agent } from 'undici';
import { bareCreatePost } from './bare-undici.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';
import { median } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);

const server = await startLoopbackSandbox();
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
const provider = createTwitter({ ...server.endpoints.twitter });
const auth = {
  type: 'account',
  account: { platformAccountId: '1500000000000000001', username: 'sandbox_x_user' },
  tokens: { accessToken: server.accessToken },
};
let counter = 0;

function bare() {
  return bareCreatePost({ apiBaseUrl: server.endpoints.twitter.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` });
}

async function library() {
  const result = await provider.publish({ post: { text: `library ${(counter += 1)}` }, auth, options: {} });
  if (result.status !== 'published') throw new Error(`library publish failed: ${JSON.stringify(result.error)}`);
}

/** Wall time and this process's CPU time (user + system, µs) for `count` sequential calls. */
async function time(fn, count) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let index = 0; index < count; index += 1) await fn();
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { ms: elapsed, cpuUs: used.user + used.system };
}

const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];

try {
  await time(bare, WARMUP);
  await time(library, WARMUP);
  const ratios = [];
  const totals = { bare: { ms: 0, cpuUs: 0 }, library: { ms: 0, cpuUs: 0 } };
  for (let round = 0; round < ROUNDS; round += 1) {
    // ABBA: which side goes first alternates, so neither always runs on a warmer server.
    const order = round % 2 === 0 ? ['bare', 'library'] : ['library', 'bare'];
    const measured = {};
    for (const side of order) measured[side] = await time(side === 'bare' ? bare : library, PER_ROUND);
    ratios.push(measured.library.ms / measured.bare.ms);
    for (const side of order) {
      totals[side].ms += measured[side].ms;
      totals[side].cpuUs += measured[side].cpuUs;
    }
  }
  const count = ROUNDS * PER_ROUND;
  const perRequest = (side) => `${(totals[side].ms / count).toFixed(3)} ms/req (client CPU ${(totals[side].cpuUs / count).toFixed(0)} µs/req)`;
  process.stdout.write(
    `publish overhead over ${ROUNDS} rounds x ${PER_ROUND} requests each: bare undici ${perRequest('bare')}, provider.publish ${perRequest('library')}\n` +
      `  ratio library/bare: median of rounds ${median(ratios).toFixed(3)} (p25 ${quantile(ratios, 0.25).toFixed(3)}, p75 ${quantile(ratios, 0.75).toFixed(3)}), ` +
      `ratio of means ${(totals.library.ms / totals.bare.ms).toFixed(3)}, CPU ratio ${(totals.library.cpuUs / totals.bare.cpuUs).toFixed(3)} (target: median <= 1.10)\n`,
  );
  if (median(ratios) > 1.1) process.exitCode = 1;
} finally {
  await agent.close();
  await server.stop();
}
