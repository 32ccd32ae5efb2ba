import { fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';

/**
 * Forks the loopback sandbox and resolves with its address once it listens. With
 * `separateCores`, the sandbox and this process are kept on different CPUs (see `pinApart`).
 */
export async function startLoopbackSandbox({ separateCores = false } = {}) {
  const child = fork(new URL('./loopback-sandbox.mjs', import.meta.url), { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await once(lines, 'line');
  const info = JSON.parse(line);
  return {
    ...info,
    /** How the client and the loopback platform share the CPUs, for the report. */
    placement: separateCores ? pinApart({ child }) : 'client and loopback platform left to the scheduler',
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

/**
 * The loopback platform stands in for a remote one, whose work never runs on the client's CPU nor
 * evicts the client's caches. On a machine with few cores the scheduler runs it on the client's
 * core between a request and its answer, which charges the client for cache misses the real
 * platform would not cause (the more code a client runs per request, the more). So on Linux
 * with `taskset` and at least two CPUs, the sandbox gets the last CPU and this process (every
 * thread) the others. `BENCH_PIN=0` leaves both to the scheduler.
 */
function pinApart({ child }) {
  if (process.env.BENCH_PIN === '0') return 'client and loopback platform left to the scheduler (BENCH_PIN=0)';
  const cores = availableParallelism();
  if (process.platform !== 'linux' || cores < 2) return 'client and loopback platform left to the scheduler (needs Linux and 2 CPUs)';
  const server = String(cores - 1);
  const client = cores === 2 ? '0' : `0-${cores - 2}`;
  const pin = (list, pid) => spawnSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' }).status === 0;
  if (!pin(server, child.pid) || !pin(client, process.pid)) return 'client and loopback platform left to the scheduler (taskset failed)';
  return `client on CPU ${client}, loopback platform on CPU ${server} (BENCH_PIN=0 to leave them to the scheduler)`;
}
