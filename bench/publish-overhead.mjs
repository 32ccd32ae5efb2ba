// Library publish overhead: `provider.publish()` of a text post versus a bare undici `request()`
// carrying the same JSON to the same loopback server, interleaved in rounds so both see the same
// machine state. Prints the ratio of means (target: within 10%, i.e. <= 1.10).
import { createTwitter } from '@letmepost/provider-twitter';
import { Agent, request } from 'undici';
import { startLoopbackSandbox } from './start-loopback.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 100);
const WARMUP = 200;

const server = await startLoopbackSandbox();
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });
const provider = createTwitter({ ...server.endpoints.twitter });
const auth = {
  type: 'account',
  account: { platformAccountId: '1500000000000000001', username: 'sandbox_x_user' },
  tokens: { accessToken: server.accessToken },
};
let counter = 0;

async function bare() {
  const response = await request(`${server.endpoints.twitter.apiBaseUrl}/2/tweets`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization: `Bearer ${server.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text: `bare ${(counter += 1)}` }),
  });
  const body = await response.body.json();
  if (response.statusCode !== 201 || !body.data?.id) throw new Error(`bare request failed: ${response.statusCode}`);
}

async function library() {
  const result = await provider.publish({ post: { text: `library ${(counter += 1)}` }, auth, options: {} });
  if (result.status !== 'published') throw new Error(`library publish failed: ${JSON.stringify(result.error)}`);
}

async function time(fn, count) {
  const started = performance.now();
  for (let index = 0; index < count; index += 1) await fn();
  return performance.now() - started;
}

try {
  await time(bare, WARMUP);
  await time(library, WARMUP);
  let bareTotal = 0;
  let libraryTotal = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which goes first so neither always runs on a warmer server.
    if (round % 2 === 0) {
      bareTotal += await time(bare, PER_ROUND);
      libraryTotal += await time(library, PER_ROUND);
    } else {
      libraryTotal += await time(library, PER_ROUND);
      bareTotal += await time(bare, PER_ROUND);
    }
  }
  const count = ROUNDS * PER_ROUND;
  const ratio = libraryTotal / bareTotal;
  process.stdout.write(
    `publish overhead over ${count} requests each: bare undici ${(bareTotal / count).toFixed(3)} ms/req, ` +
      `provider.publish ${(libraryTotal / count).toFixed(3)} ms/req, ratio ${ratio.toFixed(3)} (target <= 1.10)\n`,
  );
} finally {
  await agent.close();
  await server.stop();
}
