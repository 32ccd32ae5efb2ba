// What one publish runs and allocates, letmepost against bare undici: no target, it explains the
// publish-overhead figures. Interleaved with other code (as in `letmepost-publish-overhead.mjs`,
// and in a host's process), a function that runs once per publish runs cold, so the number of
// distinct functions matters as much as the number of calls; and garbage collection follows what
// is allocated.
//
// - Calls: V8's precise coverage with call counts (the inspector's `Profiler`), over
//   `CALLS` publishes after a warm-up; every function called at least once per publish, counted
//   per package.
// - Allocation: V8's sampling heap profiler, every 128 bytes, objects later collected included,
//   over `CALLS` publishes; bytes per publish, charged to the letmepost package on the stack
//   nearest the allocation (to the allocating package when none is).
//
// - Held while in flight: `IN_FLIGHT` publishes started together and run up to their requests
//   (the microtask queue drained, no answer read yet), then the heap after a full collection,
//   against the heap before they started: bytes a publish keeps alive while it waits for the
//   platform, which every collection during that wait has to visit.
//
// Sides: a connected account's publish (`letmepost.publish` with `{ accountId }`, the store read
// and the tokens opened every time), per-request OAuth 1.0a credentials, and bare undici's
// bearer request (`request()`, `body.json()`), all to the loopback X.
import { Session } from 'node:inspector/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent } from 'undici';
import { bareCreatePost } from './bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost, expectPublished } from './bench-letmepost.mjs';
import { startLoopbackSandbox } from './start-loopback.mjs';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const IN_FLIGHT = 100;
const WARMUP = 300;
const WORKSPACE_ID = 'ws-bench';
const OWN_PACKAGES = ['core', 'provider-utils', 'provider-twitter'];

const server = await startLoopbackSandbox();
const endpoints = server.endpoints.twitter;
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
const account = await connectBenchAccount({ letmepost, workspaceId: WORKSPACE_ID });
let counter = 0;

const sides = {
  'bare undici': () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` }),
  'letmepost, connected account': async () => {
    const [result] = await letmepost.publish({ workspaceId: WORKSPACE_ID, post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] });
    expectPublished(result);
  },
  'letmepost, OAuth 1.0a': async () => {
    const [result] = await letmepost.publish({ post: { text: `letmepost ${(counter += 1)}` }, targets: [{ platform: 'twitter', credentials: server.oauth1Credentials }] });
    expectPublished(result);
  },
};

/** The package a script URL belongs to: one of ours by its folder, a dependency by its name, node's own, or the bench. */
function packageOf(url) {
  const own = /\/packages\/([^/]+)\/dist\//.exec(url);
  if (own !== null) return own[1];
  const dependency = /node_modules\/\.pnpm\/(@?[^@/]+)/.exec(url) ?? /node_modules\/(@?[^/]+)/.exec(url);
  if (dependency !== null) return dependency[1];
  if (url.startsWith('node:') || !url.includes('/')) return 'node';
  return 'bench';
}

async function calls({ session, side }) {
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await session.post('Profiler.takePreciseCoverage'); // resets the counts
  for (let call = 0; call < CALLS; call += 1) await side();
  const { result } = await session.post('Profiler.takePreciseCoverage');
  await session.post('Profiler.stopPreciseCoverage');
  const byPackage = new Map();
  for (const script of result) {
    const name = packageOf(script.url);
    if (name === 'bench') continue;
    for (const fn of script.functions) {
      const perCall = fn.ranges[0].count / CALLS;
      // A function run once per publish or more; what only some publishes run is left out.
      if (perCall < 0.99) continue;
      const entry = byPackage.get(name) ?? { functions: 0, calls: 0 };
      entry.functions += 1;
      entry.calls += perCall;
      byPackage.set(name, entry);
    }
  }
  return byPackage;
}

async function allocation({ session, side }) {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (let call = 0; call < CALLS; call += 1) await side();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const byPackage = new Map();
  const visit = (node, ownAbove) => {
    const name = packageOf(node.callFrame.url);
    const own = OWN_PACKAGES.includes(name) ? name : ownAbove;
    if (node.selfSize > 0) {
      // A native frame (`then`, a typed array) is charged to the JavaScript that called it.
      const charged = own ?? (node.callFrame.url === '' ? 'node' : name);
      byPackage.set(charged, (byPackage.get(charged) ?? 0) + node.selfSize / CALLS);
    }
    for (const child of node.children) visit(child, own);
  };
  visit(profile.head, undefined);
  byPackage.delete('bench');
  return byPackage;
}

// A full collection on demand, without starting node with --expose-gc.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');

async function heldInFlight({ side }) {
  // The pool opens its connections for this many calls first: they are not what a publish holds.
  for (let batch = 0; batch < 20; batch += 1) await Promise.all(Array.from({ length: IN_FLIGHT }, () => side()));
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  const calls = Array.from({ length: IN_FLIGHT }, () => side());
  // Far more turns than any publish takes to reach its request; no I/O is read meanwhile.
  for (let turn = 0; turn < 50; turn += 1) await Promise.resolve();
  collectGarbage();
  const during = process.memoryUsage().heapUsed;
  await Promise.all(calls);
  return (during - before) / IN_FLIGHT;
}

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('HeapProfiler.enable');
const lines = [`per publish, over ${CALLS} publishes after ${WARMUP} of warm-up, to the loopback X (cleartext HTTP/1.1)`];
try {
  for (const [name, side] of Object.entries(sides)) {
    for (let call = 0; call < WARMUP; call += 1) await side();
    const called = await calls({ session, side });
    const allocated = await allocation({ session, side });
    const held = await heldInFlight({ side });
    const ownFunctions = OWN_PACKAGES.reduce((total, own) => total + (called.get(own)?.functions ?? 0), 0);
    const totalCalls = [...called.values()].reduce((total, { calls: count }) => total + count, 0);
    const totalFunctions = [...called.values()].reduce((total, { functions }) => total + functions, 0);
    const totalBytes = [...allocated.values()].reduce((total, bytes) => total + bytes, 0);
    lines.push(
      `  ${name}: ${totalCalls.toFixed(0)} calls of ${totalFunctions} functions (letmepost's own: ${ownFunctions}), ${(totalBytes / 1024).toFixed(1)} kB allocated, ${(held / 1024).toFixed(1)} kB held while in flight`,
    );
    const packages = [...new Set([...called.keys(), ...allocated.keys()])];
    packages.sort((a, b) => (called.get(b)?.calls ?? 0) - (called.get(a)?.calls ?? 0));
    for (const pack of packages) {
      const { functions, calls: count } = called.get(pack) ?? { functions: 0, calls: 0 };
      lines.push(`    ${pack.padEnd(18)} ${count.toFixed(0).padStart(4)} calls, ${String(functions).padStart(3)} functions, ${((allocated.get(pack) ?? 0) / 1024).toFixed(1).padStart(5)} kB`);
    }
  }
} finally {
  session.disconnect();
  await agent.close();
  await server.stop();
}
process.stdout.write(`${lines.join('\n')}\n`);
