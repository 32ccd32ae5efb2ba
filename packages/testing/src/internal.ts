import { inspect } from 'node:util';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type Settled<T> = { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

export async function settle<T>(promise: Promise<T> | T): Promise<Settled<T>> {
  try {
    return { status: 'fulfilled', value: await promise };
  } catch (reason) {
    return { status: 'rejected', reason };
  }
}

/** Shows only the first characters of a canary, so a failing assertion does not re-leak it. */
export function maskCanary(canary: string): string {
  return canary.length <= 6 ? '***' : `${canary.slice(0, 4)}…(${canary.length} chars)`;
}

/**
 * Every rendering of a value a host may end up logging: the message, the stack, JSON, and
 * `util.inspect` (which is what console.log and most loggers use for errors).
 */
export function renderings(value: unknown): Array<{ label: string; text: string }> {
  const output: Array<{ label: string; text: string }> = [];
  if (value instanceof Error) {
    output.push({ label: 'error.message', text: value.message });
    output.push({ label: 'error.stack', text: value.stack ?? '' });
    output.push({ label: 'String(error)', text: String(value) });
  }
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch (error) {
    json = `[JSON.stringify threw: ${(error as Error).message}]`;
  }
  output.push({ label: 'JSON.stringify', text: json });
  output.push({ label: 'util.inspect', text: inspect(value, { depth: Infinity, showHidden: false }) });
  return output;
}

/** Throws an assertion error naming where a canary appeared, without printing the canary. */
export function assertCanariesAbsent(options: { value: unknown; canaries: readonly string[]; context: string }): void {
  const found: string[] = [];
  for (const { label, text } of renderings(options.value)) {
    for (const canary of options.canaries) {
      if (canary.length > 0 && text.includes(canary)) found.push(`${maskCanary(canary)} in ${label}`);
    }
  }
  if (found.length > 0) {
    throw new Error(`${options.context}: secret canary leaked: ${found.join('; ')}`);
  }
}
