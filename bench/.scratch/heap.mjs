import { Session } from 'node:inspector/promises';
import { Agent } from 'undici';
import { bareCreatePost } from '../bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost } from '../bench-letmepost.mjs';
import { startLoopbackSandbox } from '../start-loopback.mjs';
const N = 3000;
const server = await startLoopbackSandbox({ separateCores: false });
const endpoints = server.endpoints.twitter;
const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
const account = await connectBenchAccount({ letmepost, workspaceId: 'ws' });
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
const mode = process.argv[2] ?? 'connected';
let counter = 0;
const one = mode === 'bare' ? () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` })
  : async () => { const [r] = await letmepost.publish({ workspaceId: 'ws', post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] }); if (r.status !== 'published') throw new Error('x'); };
for (let i = 0; i < 500; i++) await one();
const session = new Session(); session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
for (let i = 0; i < N; i++) await one();
const { profile } = await session.post('HeapProfiler.stopSampling');
const self = new Map(); let total = 0;
const cat = (u) => u.includes('/packages/core/') ? 'core' : u.includes('/packages/provider-utils/') ? 'provider-utils' : u.includes('/packages/provider-twitter/') ? 'twitter' : u.includes('undici') ? 'undici' : u.includes('zod') ? 'zod' : u.startsWith('node:') ? 'node' : u === '' ? 'native' : 'other';
const byCat = new Map();
function walk(node, stackCat) {
  const c = node.callFrame; const k = `${cat(c.url)} ${c.functionName || '(anon)'} ${c.url.split('/').pop()}:${c.lineNumber}`;
  const here = cat(c.url);
  const own = ['core','provider-utils','twitter'].includes(here) ? here : stackCat;
  let s = 0; for (const x of node.selfSize !== undefined ? [node.selfSize] : []) s += x;
  if (s) { self.set(k, (self.get(k) ?? 0) + s); total += s; byCat.set(own ?? here, (byCat.get(own ?? here) ?? 0) + s); }
  for (const ch of node.children) walk(ch, own);
}
walk(profile.head, undefined);
console.log(mode, (total / N / 1024).toFixed(1), 'kB/call', JSON.stringify(Object.fromEntries([...byCat].map(([k, v]) => [k, (v / N / 1024).toFixed(2)]))));
if (process.argv[3]) console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 400).map(([k, v]) => `${(v / N).toFixed(0).padStart(6)} B ${k}`).join('\n'));
await agent.close(); await server.stop(); process.exit(0);
