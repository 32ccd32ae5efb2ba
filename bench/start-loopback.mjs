import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** Forks the loopback sandbox and resolves with its address once it listens. */
export async function startLoopbackSandbox() {
  const child = fork(new URL('./loopback-sandbox.mjs', import.meta.url), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  const info = JSON.parse(line);
  return {
    ...info,
    /** Requests the TLS front received since the last call, by HTTP version (`{ '2.0': 258 }`). */
    async tlsProtocols() {
      child.send('protocols');
      const [reply] = await once(child, 'message');
      return reply.protocols;
    },
    async stop() {
      child.send('stop');
      await once(child, 'exit');
    },
  };
}
