// Fan-out: one `letmepost.publish()` to 16 targets on different accounts versus the same publish
// to one target, against a loopback X that holds every create for a fixed latency (as a real
// platform's answer takes time). Targets on different accounts go out together, so the 16-target
// publish should take about as long as one. Target: median ratio <= 1.20 (the old fixed
// concurrency of 4 made it about 4).
import { createServer } from 'node:http';
import { createBenchLetmepost } from './bench-letmepost.mjs';
import { median } from './statistics.mjs';

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const TARGETS = 16;
const TARGET_RATIO = 1.2;

let inFlight = 0;
let peak = 0;
let created = 0;
const server = createServer((request, response) => {
  request.resume();
  inFlight += 1;
  peak = Math.max(peak, inFlight);
  setTimeout(() => {
    inFlight -= 1;
    created += 1;
    const id = String(1_900_000_000_000_000_000n + BigInt(created));
    response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { id, text: 'fan-out' } }));
  }, LATENCY_MS);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const apiBaseUrl = `http://127.0.0.1:${server.address().port}`;

const letmepost = createBenchLetmepost({ endpoints: { apiBaseUrl } });

const targetsFor = (count, round) =>
  Array.from({ length: count }, (_, index) => ({
    platform: 'twitter',
    credentials: { consumerKey: `ck-${index}`, consumerSecret: `cs-${index}`, accessToken: `${index}-at-${round}`, accessTokenSecret: `ats-${index}` },
  }));

async function timePublish(count, round) {
  const started = performance.now();
  const results = await letmepost.publish({ post: { text: `fan-out ${round} ${count}` }, targets: targetsFor(count, round) });
  const elapsed = performance.now() - started;
  const failed = results.filter((result) => result.status !== 'published');
  if (failed.length > 0) throw new Error(`publish failed: ${JSON.stringify(failed[0])}`);
  return elapsed;
}

// Warm up (module code, the pool's connections) before measuring.
await timePublish(TARGETS, -1);
const ratios = [];
const singles = [];
const fans = [];
for (let round = 0; round < ROUNDS; round += 1) {
  // Alternate the order each round, so both sides see the same machine state.
  const [first, second] = round % 2 === 0 ? [1, TARGETS] : [TARGETS, 1];
  const a = await timePublish(first, round);
  const b = await timePublish(second, round);
  const single = first === 1 ? a : b;
  const fan = first === 1 ? b : a;
  singles.push(single);
  fans.push(fan);
  ratios.push(fan / single);
}
server.close();

const ratio = median(ratios);
console.log(`loopback X, ${LATENCY_MS} ms per create, ${ROUNDS} rounds`);
console.log(`1 target:   median ${median(singles).toFixed(1)} ms`);
console.log(`${TARGETS} targets: median ${median(fans).toFixed(1)} ms (peak ${peak} creates in flight)`);
console.log(`ratio ${ratio.toFixed(2)} (target <= ${TARGET_RATIO.toFixed(2)}): ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`);
process.exit(ratio <= TARGET_RATIO ? 0 : 1);
