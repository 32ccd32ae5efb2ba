// The publish comparisons of `letmepost-publish-overhead.mjs`, with each side alone in a fresh
// process of its own, as a host runs one HTTP client, not three: no side's code, inline caches
// or garbage share a process with another's. No target (the target is judged in one process,
// where every side runs cold between the others' batches); it tells how much of the overhead
// measured there comes from sharing the process.
//
// Every side runs `REPEATS` times, each time in a new process with its own loopback X on a CPU of
// its own, in an order shuffled per repetition: the machine's slow minutes fall on every side.
// A process warms its side up (`BENCH_WARMUP` calls and 20 batches of each shape), then runs
// `BENCH_ROUNDS` rounds of 10 sequential calls and of 16 in flight. Figures are the ratios of
// totals over every repetition, CPU being this process's user + system time.
import { comparisons, IN_FLIGHT, measureInFreshProcess, SEQUENTIAL, sendFigures, time } from './publish-sides.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';
import { seededRandom, shuffled } from './statistics.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const WARMUP_BATCHES = 20;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const SHAPES = ['sequential', 'in flight'];
// Set in a measuring process: which side of which comparison it runs ("0/bare undici").
const ALONE = process.env.BENCH_ALONE_SIDE;

async function measureAlone({ comparison, name }) {
  const server = await startLoopbackSandbox({ separateCores: true });
  const { list, close } = await comparisons({ server });
  try {
    const side = list[comparison].sides[name];
    for (let call = 0; call < WARMUP; call += 1) await side();
    for (let batch = 0; batch < WARMUP_BATCHES; batch += 1) for (const shape of SHAPES) await time({ side, shape });
    const totals = Object.fromEntries(SHAPES.map((shape) => [shape, { ms: 0, cpuUs: 0 }]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const shape of SHAPES) {
        const { ms, cpuUs } = await time({ side, shape });
        totals[shape].ms += ms;
        totals[shape].cpuUs += cpuUs;
      }
    }
    return { placement: server.placement, totals };
  } finally {
    await close();
    await server.stop();
  }
}

if (ALONE !== undefined) {
  const slash = ALONE.indexOf('/');
  const figures = await measureAlone({ comparison: Number(ALONE.slice(0, slash)), name: ALONE.slice(slash + 1) });
  sendFigures(figures);
} else {
  // The sides and their names, from a process that builds them once (no figures taken).
  const { names, titles } = await listSides();
  const random = seededRandom({ seed: 20261206 });
  const runs = names.map(() => ({}));
  let placement = '';
  for (let repeat = 0; repeat < REPEATS; repeat += 1) {
    const order = shuffled({ values: names.flatMap((sides, comparison) => sides.map((name) => ({ comparison, name }))), random });
    for (const { comparison, name } of order) {
      const figures = await measureInFreshProcess({
        script: new URL(import.meta.url),
        env: { BENCH_ALONE_SIDE: `${comparison}/${name}` },
        what: `the process measuring ${name}`,
      });
      placement = figures.placement;
      (runs[comparison][name] ??= []).push(figures.totals);
    }
  }
  const lines = [];
  for (const [comparison, sides] of names.entries()) {
    lines.push(`${titles[comparison]}: each side alone in a fresh process, ${REPEATS} processes a side x ${ROUNDS} rounds of ${SEQUENTIAL} sequential calls and ${IN_FLIGHT} in flight; ${placement}`);
    for (const shape of SHAPES) {
      lines.push(`  ${shape}:`);
      const count = REPEATS * ROUNDS * (shape === 'sequential' ? SEQUENTIAL : IN_FLIGHT);
      const total = (name, field) => runs[comparison][name].reduce((sum, totals) => sum + totals[shape][field], 0);
      for (const name of sides) {
        let line = `    ${name.padEnd(20)} ${(total(name, 'ms') / count).toFixed(3)} ms/call wall, ${(total(name, 'cpuUs') / count).toFixed(0).padStart(4)} µs/call CPU`;
        if (name !== 'bare undici') {
          const byProcess = runs[comparison][name].map((totals, repeat) => totals[shape].cpuUs / runs[comparison]['bare undici'][repeat][shape].cpuUs);
          line += `; to bare undici: wall ${(total(name, 'ms') / total('bare undici', 'ms')).toFixed(3)}, CPU ${(total(name, 'cpuUs') / total('bare undici', 'cpuUs')).toFixed(3)}, by repetition ${byProcess.map((value) => value.toFixed(2)).join(' ')}`;
        }
        lines.push(line);
      }
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Names of every comparison's sides that set a target (the informational ones are left out). */
async function listSides() {
  const server = await startLoopbackSandbox();
  const { list, close } = await comparisons({ server });
  await close();
  await server.stop();
  return {
    titles: list.map(({ name }) => name),
    names: list.map(({ sides, informational = [] }) => Object.keys(sides).filter((name) => !informational.includes(name))),
  };
}
