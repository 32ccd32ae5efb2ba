import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { once } from 'node:events';
const st = () => { const s = readFileSync('/proc/self/status','utf8'); const g = (k) => (Number(s.match(new RegExp(k+':\\s+(\\d+)'))[1])/1024).toFixed(1); return `anon ${g('RssAnon')} file ${g('RssFile')} hwm ${g('VmHWM')}`; };
if (process.argv[2] === 'server') {
  const http = await import('node:http');
  const s = http.createServer((q, r) => { q.resume(); q.on('end', () => { r.setHeader('content-type','application/json'); r.end('{"data":{"id":"1"}}'); }); }).listen(0, '127.0.0.1', () => process.send(s.address().port));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server']);
  const [port] = await once(child, 'message');
  const { Agent, request } = await import('undici');
  const agent = new Agent();
  console.log('loaded', st());
  for (let i = 1; i <= 40; i++) {
    const r = await request(`http://127.0.0.1:${port}/x`, { method: 'POST', body: 'hello', dispatcher: agent });
    await r.body.dump();
    if (i <= 10 || i % 10 === 0) console.log(i, st());
    await new Promise((r) => setTimeout(r, 30));
  }
  child.kill();
}
