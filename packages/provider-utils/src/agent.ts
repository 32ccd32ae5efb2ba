import { Agent, type Dispatcher } from 'undici';

// One pool per connect timeout (in practice one): sockets are kept alive and shared by every
// client in the process, so a publish fan-out reuses TLS sessions instead of re-handshaking.
const sharedAgents = new Map<number, Agent>();

export function getSharedAgent(options: { connectTimeoutMs: number }): Dispatcher {
  let agent = sharedAgents.get(options.connectTimeoutMs);
  if (!agent) {
    agent = new Agent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connections: 128,
      connect: { timeout: options.connectTimeoutMs },
    });
    sharedAgents.set(options.connectTimeoutMs, agent);
  }
  return agent;
}
