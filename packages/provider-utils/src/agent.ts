import type { Agent, Dispatcher } from 'undici';
import { guardedLookup } from './blocked-address.js';
import { loadUndici } from './undici.js';

// One pool per connect timeout (in practice one), and one more for each client that refuses
// private addresses: sockets are kept alive and shared by every client in the process, so a
// publish fan-out reuses TLS sessions instead of re-handshaking.
const sharedAgents = new Map<string, Agent>();

export function getSharedAgent(options: {
  connectTimeoutMs: number;
  /** When set, the pool's connections refuse private addresses (`guardedLookup`), naming this. */
  refusePrivateAddressesFor?: string;
}): Dispatcher {
  const purpose = options.refusePrivateAddressesFor;
  const key = `${options.connectTimeoutMs}|${purpose ?? ''}`;
  let agent = sharedAgents.get(key);
  if (!agent) {
    const { Agent: UndiciAgent } = loadUndici();
    agent = new UndiciAgent({
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connections: 128,
      connect: { timeout: options.connectTimeoutMs, ...(purpose === undefined ? {} : { lookup: guardedLookup({ purpose }) }) },
    });
    sharedAgents.set(key, agent);
  }
  return agent;
}
