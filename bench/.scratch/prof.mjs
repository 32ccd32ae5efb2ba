// usage: node --cpu-prof --cpu-prof-dir=DIR prof.mjs letmepost|bare
import { Agent } from 'undici';
import { bareCreatePost } from '../bare-undici.mjs';
import { connectBenchAccount, createBenchLetmepost } from '../bench-letmepost.mjs';
import { startLoopbackSandbox } from '../start-loopback.mjs';
const which = process.argv[2];
const N = Number(process.env.N ?? 20000);
const server = await startLoopbackSandbox({ separateCores: true });
const endpoints = server.endpoints.twitter;
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 128 });
const letmepost = createBenchLetmepost({ endpoints, app: server.twitterApp });
const account = await connectBenchAccount({ letmepost, workspaceId: 'ws' });
let counter = 0;
const sides = {
  bare: () => bareCreatePost({ apiBaseUrl: endpoints.apiBaseUrl, agent, accessToken: server.accessToken, text: `bare ${(counter += 1)}` }),
  letmepost: async () => { const [r] = await letmepost.publish({ workspaceId: 'ws', post: { text: `letmepost ${(counter += 1)}` }, targets: [{ accountId: account.id }] }); if (r.status !== 'published') throw new Error('x'); },
};
const side = sides[which];
for (let i = 0; i < 2000; i++) await side();
const cpu = process.cpuUsage(); const t = performance.now();
for (let i = 0; i < N; i++) await side();
const used = process.cpuUsage(cpu);
console.log(which, ((used.user + used.system) / N).toFixed(1), 'µs CPU/call', ((performance.now() - t) * 1000 / N).toFixed(1), 'µs wall/call');
await agent.close(); await server.stop();
