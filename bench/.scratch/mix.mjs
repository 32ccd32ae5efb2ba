// alternate batches of 10 sequential calls of the listed sides, in one process
import { Agent } from 'undici';
import { Agent as HttpAgent } from 'node:http';
import { TwitterApi } from 'twitter-api-v2';
import { bareCreatePost } from '../bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost } from '../bench-letmepost.mjs';
import { startLoopbackSandbox } from '../start-loopback.mjs';
const names = process.argv.slice(2);
const R = Number(process.env.R ?? 600);
const server = await startLoopbackSandbox({ separateCores: true });
const endpoints = server.endpoints.twitter;
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
const account = await connectBenchAccount({ letmepost, workspaceId: 'ws' });
let counter = 0;
const client = new TwitterApi(server.accessToken, { httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }) });
client.v2._prefix = `${endpoints.apiBaseUrl}/2/`;
const sides = {
  bare: () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` }),
  letmepost: async () => { const [r] = await letmepost.publish({ workspaceId: 'ws', post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] }); if (r.status !== 'published') throw new Error('x'); },
  lmo1: async () => { const [r] = await letmepost.publish({ post: { text: `letmepost ${(counter += 1)}` }, targets: [{ platform: 'twitter', credentials: server.oauth1Credentials }] }); if (r.status !== 'published') throw new Error('x'); },
  bares: () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, oauth1: { consumerKey: server.oauth1Credentials.consumerKey, consumerSecret: server.oauth1Credentials.consumerSecret, accessToken: server.oauth1Credentials.accessToken, accessTokenSecret: server.oauth1Credentials.accessTokenSecret }, text: `bare ${(counter += 1)}` }),
  tav2: async () => { const a = await client.v2.post('tweets', { text: `t ${(counter += 1)}` }, { forceBodyMode: 'json' }); if (!a.data?.id) throw new Error('x'); },
};
import { PerformanceObserver } from 'node:perf_hooks';
let gcMs = 0, gcN = 0, cur = null; const gcBy = {};
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcMs += e.duration; gcN++; if (cur) gcBy[cur] = (gcBy[cur] ?? 0) + e.duration; } }).observe({ entryTypes: ['gc'] });
const tot = Object.fromEntries(names.map((n) => [n, 0]));
import v8 from 'node:v8';
for (let r = 0; r < R + 100; r++) {
  if (r === 100 && process.env.DEOPT) v8.setFlagsFromString('--trace-deopt');
  if (r === 100 && process.env.TOPT) v8.setFlagsFromString('--trace-opt');
  const flight = process.env.FLIGHT && r % 2 === 1;
  for (const n of names) {
    cur = r >= 100 ? n : null; const c = process.cpuUsage();
    if (flight) await Promise.all(Array.from({ length: 16 }, () => sides[n]())); else for (let i = 0; i < 10; i++) await sides[n]();
    const u = process.cpuUsage(c);
    if (r >= 100) tot[n] += u.user + u.system;
  }
}
console.log('gc', gcN, gcMs.toFixed(0), 'ms', JSON.stringify(Object.fromEntries(Object.entries(gcBy).map(([k,v])=>[k,(v*1000/R/10).toFixed(1)+'µs/call']))));
console.log(names.map((n) => `${n} ${(tot[n] / R / 10).toFixed(1)}µs`).join('  '), ' ratio', (tot[names[1]] / tot[names[0]]).toFixed(3));
await agent.close(); await server.stop();
