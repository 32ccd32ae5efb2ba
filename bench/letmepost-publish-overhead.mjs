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
// The run is made of `BENCH_PROCESSES` (3) fresh processes, one after another, each with its own
// loopback X and its own sequence of orders; their rounds are pooled. One process's CPU ratio
// has a 95% interval of about +-0.15 to 0.2 on a 2-core machine (a batch's CPU time has a long
// tail: a garbage collection or a burst of compilation lands in one batch), and processes differ
// from one another (what V8 compiled and inlined, and when); a verdict on one process is a coin
// toss near the target. The headline per side is the median of every round's wall ratio to bare
// undici, and the ratio of client CPU time (user + system of the measuring process) over every
// round of every process, with a 95% bootstrap interval (rounds resampled within each process);
// each process's own CPU ratio is printed beside it. Target: letmepost <= 1.25 x bare undici,
// wall and CPU, both shapes, both ways, and ahead of twitter-api-v2.
import { comparisons, IN_FLIGHT, measureInFreshProcess, SEQUENTIAL, sendFigures, time } from './publish-sides.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';
import { bootstrapInterval, median, seededRandom, shuffled } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 40);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
// Set in the measuring processes this script forks; the parent only reports.
const PROCESS_INDEX = process.env.BENCH_PROCESS_INDEX === undefined ? undefined : Number(process.env.BENCH_PROCESS_INDEX);
const TARGET_RATIO = 1.25;
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
  sendFigures(await measureInThisProcess({ index: PROCESS_INDEX }));
} else {
  // One process after another: each has the machine to itself, as a host's process would.
  const runs = [];
  for (let index = 0; index < PROCESSES; index += 1) runs.push(
      await measureInFreshProcess({ script: new URL(import.meta.url), env: { BENCH_PROCESS_INDEX: String(index) }, what: `measuring process ${index + 1}` }),
    );
  report({ runs });
}
