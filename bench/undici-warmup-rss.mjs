// Informational, no target: what a process that only loads undici and makes a few tiny requests
// peaks at, per transport, each in a fresh process. It shows the part of the upload benchmark's
// peak that no library code is involved in: over cleartext HTTP/1.1, V8 recompiles undici's
// WebAssembly HTTP parser (llhttp) with its optimizing compiler a few requests in, and the
// compile's working memory lifts the peak by about 20 MiB; HTTP/2 (over TLS) does not use llhttp.
//
// Run as `node undici-warmup-rss.mjs`; it starts the loopback sandbox and re-runs itself as
// the measured child (`--child <url> <requests>`).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

function status() {
  const text = readFileSync('/proc/self/status', 'utf8');
  const read = (name) => Number(text.match(new RegExp(`${name}:\\s+(\\d+)`))[1]) / 1024;
  return { rss: read('VmRSS'), peak: read('VmHWM') };
}

if (process.argv[2] === '--child') {
  const [url, count] = process.argv.slice(3);
  const { Agent, request } = await import('undici');
  const agent = new Agent();
  const loaded = status();
  const peaks = [];
  for (let index = 0; index < Number(count); index += 1) {
    const response = await request(url, { dispatcher: agent });
    await response.body.dump();
    // Give the background compile a moment, so its memory shows in the peak of this request.
    await new Promise((resolve) => setTimeout(resolve, 50));
    peaks.push(Number(status().peak.toFixed(1)));
  }
  await agent.close();
  process.stdout.write(`${JSON.stringify({ loadedRssMiB: loaded.rss, peaksMiB: peaks })}\n`);
} else {
  const { startLoopbackSandbox } = await import('./start-loopback.mjs');
  const server = await startLoopbackSandbox();
  try {
    const requests = 8;
    process.stdout.write(`bare undici, ${requests} tiny GET requests each, peak RSS after each request (MiB):\n`);
    for (const [transport, origin] of [
      ['http (HTTP/1.1)', server.url],
      ['https (HTTP/2)', server.tls.origin],
    ]) {
      const { stdout } = await promisify(execFile)(process.execPath, [new URL(import.meta.url).pathname, '--child', `${origin}/_sandbox/posts`, String(requests)], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: server.tls.caFile },
      });
      const result = JSON.parse(stdout.trim());
      process.stdout.write(`  ${transport.padEnd(16)} after import ${result.loadedRssMiB.toFixed(1)}; ${result.peaksMiB.join(', ')}\n`);
    }
  } finally {
    await server.stop();
  }
}
