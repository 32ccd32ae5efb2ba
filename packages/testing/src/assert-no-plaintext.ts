import { maskCanary } from './internal.js';

export interface AssertNoPlaintextOptions {
  /** Everything the store persisted, as one string (a table dump, `KEYS *` + values, a file). */
  rawDump: () => Promise<string> | string;
  /** Secrets written through letmepost that must only exist encrypted. */
  canaries: readonly string[];
}

/**
 * Proves secrets are encrypted at rest: none of the canaries appears in the raw store, neither
 * as is nor in the encodings a careless implementation would use (base64, base64url, hex, URL
 * or JSON escaping).
 */
export async function assertNoPlaintext(options: AssertNoPlaintextOptions): Promise<void> {
  const dump = await options.rawDump();
  const found: string[] = [];
  for (const canary of options.canaries) {
    if (canary.length < 6) throw new Error(`canary ${maskCanary(canary)} is too short to search for reliably (min 6 chars)`);
    for (const [encoding, encoded] of encodings(canary)) {
      if (dump.includes(encoded)) {
        found.push(`${maskCanary(canary)} (${encoding})`);
        break;
      }
    }
  }
  if (found.length > 0) throw new Error(`plaintext secrets found in the raw store: ${found.join(', ')}`);
}

function encodings(canary: string): Array<[string, string]> {
  const bytes = Buffer.from(canary, 'utf8');
  const candidates: Array<[string, string]> = [
    ['plain', canary],
    ['json', JSON.stringify(canary).slice(1, -1)],
    ['url', encodeURIComponent(canary)],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ];
  // Inside a larger base64 blob the canary's characters depend on its byte offset modulo 3, and
  // the first and last groups mix in neighbouring bytes; search the stable middle of each
  // alignment.
  for (const offset of [0, 1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]);
    const start = offset === 0 ? 0 : 4;
    const end = 4 * Math.floor(shifted.length / 3);
    for (const alphabet of ['base64', 'base64url'] as const) {
      const stable = shifted.toString(alphabet).slice(start, end);
      if (stable.length >= 8) candidates.push([`${alphabet}@${offset}`, stable]);
    }
  }
  return candidates;
}
