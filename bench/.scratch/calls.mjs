// per-publish call counts of every function, via precise coverage
import { Session } from 'node:inspector/promises';
import { connectBenchAccount, createBenchLetmepost } from '../bench-letmepost.mjs';
import { startLoopbackSandbox } from '../start-loopback.mjs';
const N = 1000;
const server = await startLoopbackSandbox({ separateCores: false });
const endpoints = server.endpoints.twitter;
const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
const account = await connectBenchAccount({ letmepost, workspaceId: 'ws' });
const mode = process.argv[2] ?? 'connected';
const credentials = server.oauth1Credentials;
let counter = 0;
import { Agent } from 'undici';
import { bareCreatePost } from '../bare-undici.mjs';
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
const one = mode === 'bare' ? () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` }) : mode === 'connected'
  ? async () => { const [r] = await letmepost.publish({ workspaceId: 'ws', post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] }); if (r.status !== 'published') throw new Error('x'); }
  : async () => { const [r] = await letmepost.publish({ post: { text: `letmepost ${(counter += 1)}` }, targets: [{ platform: 'twitter', credentials }] }); if (r.status !== 'published') throw new Error(JSON.stringify(r.error)); };
for (let i = 0; i < 50; i++) await one();
const session = new Session(); session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
await session.post('Profiler.takePreciseCoverage');
for (let i = 0; i < N; i++) await one();
const { result } = await session.post('Profiler.takePreciseCoverage');
const rows = [];
for (const script of result) {
  const url = script.url;
  if (!url || url.includes('.scratch')) continue;
  for (const fn of script.functions) {
    const count = fn.ranges[0].count;
    if (count >= N * 0.9) rows.push({ per: count / N, name: fn.functionName || '(anon)', where: url.replace(/.*node_modules\/\.pnpm\/([^/]+)\/.*\/([^/]+)$/, '$1 $2').replace(/.*packages\/([^/]+)\/dist\/(.*)/, '$1/$2') });
  }
}
const cat = (w) => w.startsWith('core/') ? 'core' : w.startsWith('provider-') ? w.split('/')[0] : w.startsWith('undici') ? 'undici' : w.startsWith('zod') ? 'zod' : w.startsWith('node:') ? 'node' : 'other';
const byCat = {};
for (const r of rows) { const c = cat(r.where); byCat[c] ??= { fns: 0, calls: 0 }; byCat[c].fns++; byCat[c].calls += r.per; }
console.log(JSON.stringify(byCat));
if (process.argv[3]) for (const r of rows.filter((r) => cat(r.where) === process.argv[3] || process.argv[3] === 'all').sort((a, b) => a.where.localeCompare(b.where))) console.log(r.per.toFixed(1).padStart(5), r.name, r.where);
await server.stop(); process.exit(0);
