// Publish overhead through the whole library: `letmepost.publish()` of a text post to X, against
// the same request written with bare undici, to the same loopback X (the sandbox, in its own
// process, over cleartext HTTP/1.1: no TLS cost to hide the client's own), and against
// twitter-api-v2 (a keep-alive `http.Agent`; `tweet()` sends JSON when the path starts with /2/,
// so `v2.post('tweets', ..., { forceBodyMode: 'json' })`, which is what `tweet()` sends).
//
// Two ways a host publishes, each its own comparison, every side sending the same request:
// - a connected account: the account was connected through X's OAuth 2.0 consent and its tokens
//   are sealed in the store; `letmepost.publish({ workspaceId, targets: [{ accountId }] })`
//   looks it up, opens its tokens, checks they are fresh and sends a bearer request. Bare undici
//   and twitter-api-v2 send the same bearer request with a token they hold in memory.
// - per-request OAuth 1.0a credentials (`targets: [{ platform, credentials }]`): every side signs
//   (HMAC-SHA1); bare undici with a hand-written signer (`bare-undici.mjs`).
// Also printed, without a target: letmepost's signed publish against bare undici's bearer request
// (how this benchmark compared before: the signature counted as letmepost's overhead).
//
// The loopback X runs on a CPU of its own (`separateCores`, Linux with taskset): it stands in for a
// remote platform, which never runs on the client's CPU between a request and its answer.
//
// Two shapes of load: sequential (10 calls one after another) and 16 in flight (16 calls started
// together, awaited together). Each round runs every side once per shape, in an order shuffled
// each round: no side always runs on a warmer server, and none always runs right after the same
// other side (whose garbage the next side's batch may be the one to collect, and whose code
// leaves the caches as it leaves them). A rotation would give each side one fixed predecessor.
// The headline per side is the median of the per-round ratios of wall time to bare undici's, and
// the ratio of client CPU time (user + system of this process) over all rounds, with a 95%
// bootstrap interval over the rounds (how much the machine's noise could move it). Target:
// letmepost <= 1.25 x bare undici, wall and CPU, both shapes, both ways, and ahead of
// twitter-api-v2.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { TwitterApi } from 'twitter-api-v2';
import { Agent } from 'undici';
import { bareCreatePost } from './bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost } from './bench-letmepost.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';
import { bootstrapInterval, median, seededRandom, shuffled } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const SEQUENTIAL = 10;
const IN_FLIGHT = 16;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 40);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
// Set in the measuring processes this script forks; the parent only reports.
const PROCESS_INDEX = process.env.BENCH_PROCESS_INDEX === undefined ? undefined : Number(process.env.BENCH_PROCESS_INDEX);
const TARGET_RATIO = 1.25;
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

function checked(result) {
  if (result.status !== 'published') throw new Error(`letmepost publish failed: ${JSON.stringify(result.error)}`);
}

async function comparisons({ server }) {
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
            checked(result);
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
            checked(result);
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

/** `rounds` rounds of one shape, every side once per round in a shuffled order: each side's wall ms and CPU µs per round. */
async function measure({ sides, shape, rounds, random }) {
  const names = Object.keys(sides);
  const perRound = Object.fromEntries(names.map((side) => [side, { ms: [], cpuUs: [] }]));
  for (let round = 0; round < rounds; round += 1) {
    for (const side of shuffled({ values: names, random })) {
      const { ms, cpuUs } = await time({ side: sides[side], shape });
      perRound[side].ms.push(ms);
      perRound[side].cpuUs.push(cpuUs);
    }
  }
  return perRound;
}

/**
 * One measuring process: its own loopback X, every side warmed up, then `ROUNDS` rounds of each
 * comparison and shape. Its figures go to the parent, which pools them with the other processes'.
 */
async function measureInThisProcess({ index }) {
  const server = await startLoopbackSandbox({ separateCores: true });
  // A seed per process: each process measures its own sequence of orders, the same every run.
  const random = seededRandom({ seed: 20261206 + index });
  const { list, close } = await comparisons({ server });
  try {
    // Every side of every comparison is warmed up before anything is measured, first on its own
    // and then by rounds of the very loop that is measured (shuffled, both shapes), whose figures
    // are dropped: V8 compiles hot code on background threads, whose CPU this process's usage
    // includes, and it compiles again when the mix of calls changes; a side still being compiled
    // while the first figures are taken would be charged for it.
    for (const { sides } of list) for (const side of Object.values(sides)) for (let call = 0; call < WARMUP; call += 1) await side();
    for (const { sides } of list) for (const shape of SHAPES) await measure({ sides, shape, rounds: WARMUP_ROUNDS, random });
    const measured = [];
    for (const { name, sides, informational = [] } of list) {
      const shapes = {};
      for (const shape of SHAPES) shapes[shape] = await measure({ sides, shape, rounds: ROUNDS, random });
      measured.push({ name, sides: Object.keys(sides), informational, shapes });
    }
    return { placement: server.placement, measured };
  } finally {
    await close();
    await server.stop();
  }
}

/** Runs `measureInThisProcess` in a fresh process of its own and resolves with its figures. */
async function measureInFreshProcess({ index }) {
  const child = fork(new URL(import.meta.url), [], {
    env: { ...process.env, BENCH_PROCESS_INDEX: String(index) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const answer = once(child, 'message');
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`measuring process ${index + 1} exited with ${code}`);
  const [figures] = await answer;
  return figures;
}

const SHAPES = ['sequential', 'in flight'];

/** Figures of every process pooled: per side, the rounds of all processes, kept by process for the intervals. */
function report({ runs }) {
  // Its own source, so the intervals do not depend on anything else the report does.
  const resampling = seededRandom({ seed: 7 });
  const missed = [];
  const { placement } = runs[0];
  for (const [position, { name, sides, informational }] of runs[0].measured.entries()) {
    const lines = [
      `${name}: cleartext HTTP/1.1, ${runs.length} fresh process(es) x ${ROUNDS} rounds (after ${WARMUP_ROUNDS} dropped in each), each ${SEQUENTIAL} sequential calls and ${IN_FLIGHT} in flight per side; ${placement}`,
    ];
    for (const shape of SHAPES) {
      const byProcess = runs.map((run) => run.measured[position].shapes[shape]);
      const count = runs.length * ROUNDS * (shape === 'sequential' ? SEQUENTIAL : IN_FLIGHT);
      const sum = (values) => values.reduce((total, value) => total + value, 0);
      const total = (side, field) => sum(byProcess.map((perRound) => sum(perRound[side][field])));
      const ratio = (side, baseline) => ({
        // Median over every round of every process of the round's wall ratio.
        wall: median(byProcess.flatMap((perRound) => perRound[side].ms.map((ms, round) => ms / perRound[baseline].ms[round]))),
        cpu: total(side, 'cpuUs') / total(baseline, 'cpuUs'),
        // How far the pooled CPU ratio could be off from these rounds alone (the machine's noise):
        // rounds resampled within each process, so every process keeps its weight.
        cpuInterval: bootstrapInterval({
          groups: byProcess.map((perRound) => ({ numerators: perRound[side].cpuUs, denominators: perRound[baseline].cpuUs })),
          random: resampling,
        }),
        cpuByProcess: byProcess.map((perRound) => sum(perRound[side].cpuUs) / sum(perRound[baseline].cpuUs)),
      });
      lines.push(`  ${shape}:`);
      for (const side of sides) {
        const perCall = (field) => total(side, field) / count;
        let line = `    ${side.padEnd(20)} ${perCall('ms').toFixed(3)} ms/call wall, ${(perCall('cpuUs')).toFixed(0).padStart(4)} µs/call CPU`;
        if (side !== 'bare undici') {
          const { wall, cpu, cpuInterval, cpuByProcess } = ratio(side, 'bare undici');
          line += `; to bare undici: wall ${wall.toFixed(3)} (median of rounds), CPU ${cpu.toFixed(3)} (95% ${cpuInterval.low.toFixed(2)}–${cpuInterval.high.toFixed(2)})`;
          if (runs.length > 1) line += `, by process ${cpuByProcess.map((value) => value.toFixed(2)).join(' ')}`;
        }
        lines.push(line);
      }
      for (const baseline of informational) {
        const { wall, cpu } = ratio('letmepost.publish', baseline);
        lines.push(`    (letmepost.publish to ${baseline}: wall ${wall.toFixed(3)}, CPU ${cpu.toFixed(3)}; no target)`);
      }
      const ours = ratio('letmepost.publish', 'bare undici');
      const theirs = ratio('twitter-api-v2', 'bare undici');
      if (ours.wall > TARGET_RATIO || ours.cpu > TARGET_RATIO) missed.push(`${name}, ${shape}: over ${TARGET_RATIO} x bare undici`);
      if (ours.wall >= theirs.wall || ours.cpu >= theirs.cpu) missed.push(`${name}, ${shape}: not ahead of twitter-api-v2`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.stdout.write(
    missed.length === 0
      ? `letmepost.publish within ${TARGET_RATIO} x bare undici (wall and CPU), sequential and in flight, both ways, and ahead of twitter-api-v2\n`
      : `missed: ${missed.join('; ')}\n`,
  );
  if (missed.length > 0) process.exitCode = 1;
}

if (PROCESS_INDEX !== undefined) {
  const figures = await measureInThisProcess({ index: PROCESS_INDEX });
  // The channel to the parent would keep this process alive: closed once the figures are sent.
  process.send(figures, () => process.disconnect());
} else {
  // One process after another: each has the machine to itself, as a host's process would.
  const runs = [];
  for (let index = 0; index < PROCESSES; index += 1) runs.push(await measureInFreshProcess({ index }));
  report({ runs });
}
