/**
 * `setTimeout` of `node:timers/promises`, reached on first use: an ES module import of a Node
 * built-in builds its whole namespace, and only a retry or a lock wait ever sleeps.
 */
export function sleep(delayMs: number, options?: { signal?: AbortSignal }): Promise<void> {
  return process.getBuiltinModule('node:timers/promises').setTimeout(delayMs, undefined, options);
}
