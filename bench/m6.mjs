import { readFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { once } from 'node:events';
const st = () => { const s = readFileSync('/proc/self/status','utf8'); const g = (k) => (Number(s.match(new RegExp(k+':\\s+(\\d+)'))[1])/1024).toFixed(1); return `anon ${g('RssAnon')} file ${g('RssFile')} hwm ${g('VmHWM')}`; };
if (process.argv[2] === 'server') {
  const http2 = await import('node:http2');
  const s = http2.createSecureServer({ key: readFileSync('/tmp/k.pem'), cert: readFileSync('/tmp/c.pem'), allowHTTP1: true }, (q, r) => { q.resume(); q.on('end', () => { r.setHeader('content-type','application/json'); r.end('{"data":{"id":"1"}}'); }); }).listen(0, '127.0.0.1', () => process.send(s.address().port));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['server']);
  const [port] = await once(child, 'message');
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connect: { ca: readFileSync('/tmp/c.pem') } });
  console.log('loaded', st());
  const big = new Uint8Array(4 << 20);
  const N = Number(process.env.N ?? 40);
  for (let i = 1; i <= N; i++) {
    const r = await request(`https://127.0.0.1:${port}/x`, { method: 'POST', body: process.env.BIG ? [big] : 'hello', dispatcher: agent, headers: process.env.BIG ? { 'content-length': String(4<<20) } : {} });
    await r.body.dump();
    if (i <= 6 || i % 10 === 0) console.log(i, st(), r.statusCode, r.headers[':status'] ?? '', i === 1 ? JSON.stringify(r.headers).slice(0,80) : '');
  }
  child.kill();
}
