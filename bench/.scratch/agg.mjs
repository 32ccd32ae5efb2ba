import { readFileSync } from 'node:fs';
const file = process.argv[2]; const calls = Number(process.argv[3]);
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas; 
for (let i = 0; i < prof.samples.length; i++) { const id = prof.samples[i]; self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)); }
const cat = (u) => u.includes('/packages/core/') ? 'core' : u.includes('/packages/provider-utils/') ? 'provider-utils' : u.includes('/packages/provider-twitter/') ? 'twitter' : u.includes('undici') ? 'undici' : u.includes('zod') ? 'zod' : u.includes('twitter-api-v2') ? 'tav2' : u.startsWith('node:') ? 'node:' + u.slice(5).split('/')[0] : u === '' ? '(native)' : u.includes('/bench/') ? 'bench' : 'other';
const byCat = new Map(); const byFn = new Map();
for (const [id, us] of self) { const n = byId.get(id); const c = n.callFrame; const k = cat(c.url); byCat.set(k, (byCat.get(k) ?? 0) + us);
  const f = `${k} ${c.functionName || '(anon)'} ${c.url.split('/').slice(-1)[0]}:${c.lineNumber}`; byFn.set(f, (byFn.get(f) ?? 0) + us); }
const per = (us) => (us / calls).toFixed(2);
console.log([...byCat].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.padEnd(20)} ${per(v)} µs/call`).join('\n'));
console.log('---');
const filt = process.argv[4];
console.log([...byFn].filter(([k]) => !filt || k.startsWith(filt)).sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 40)).map(([k, v]) => `${per(v).padStart(7)} ${k}`).join('\n'));
