import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests run against; they fail (never skip) when it is unreachable. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A plain client for checks that bypass the store; fails fast instead of queueing commands. */
export function adminClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 0, connectTimeout: 5_000, enableOfflineQueue: true, retryStrategy: () => null });
}

/**
 * PINGs once with a short timeout and throws a message that says what to start, so a missing
 * server fails the run loudly instead of every test timing out or being skipped.
 */
export async function requireRedis(): Promise<void> {
  const client = adminClient();
  client.on('error', () => {});
  try {
    await client.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${REDIS_URL.replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message}). ` +
        'These tests need a real server: start one or set REDIS_URL.',
    );
  } finally {
    client.disconnect();
  }
}

/** A key prefix no other test run uses, so runs can share one Redis and clean up after. */
export function uniquePrefix(label: string): string {
  return `lmp-test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never KEYS, so a shared server is not blocked). */
export async function deletePrefix(prefix: string): Promise<void> {
  const client = adminClient();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

export async function keysUnder(prefix: string): Promise<string[]> {
  const client = adminClient();
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found.sort();
  } finally {
    client.disconnect();
  }
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2030, 0, 1)): { now(): number; advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
