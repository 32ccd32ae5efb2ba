import { readFileSync } from 'node:fs';
const status = () => { const s = readFileSync('/proc/self/status','utf8'); const g = (k) => (Number(s.match(new RegExp(k+':\\s+(\\d+)'))[1])/1024).toFixed(1); return `rss ${g('VmRSS')} anon ${g('RssAnon')} file ${g('RssFile')} hwm ${g('VmHWM')} heapTotal ${(process.memoryUsage().heapTotal/2**20).toFixed(1)} heapUsed ${(process.memoryUsage().heapUsed/2**20).toFixed(1)}`; };
function smaps() { const out = new Map(); let cur; for (const line of readFileSync('/proc/self/smaps','utf8').split('\n')) { const h = line.match(/^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/); if (h) { cur = h[3] || '[anon]'; continue; } const r = line.match(/^Rss:\s+(\d+)/); if (r) out.set(cur, (out.get(cur) ?? 0) + Number(r[1])); } return out; }
globalThis.__probe = { status, smaps };
console.log('start', status());
