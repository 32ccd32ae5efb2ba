/**
 * A map that keeps at most `max` entries, dropping the oldest first. For values that are pure
 * functions of their key (a decoded record, an opened envelope), so a hit is exactly what
 * computing it again would give, and a dropped entry only costs computing it once more. Oldest
 * by insertion, not by use: a hit stays a plain map lookup.
 */
export interface BoundedCache<KEY, VALUE> {
  get(key: KEY): VALUE | undefined;
  set(key: KEY, value: VALUE): void;
}

export function createBoundedCache<KEY, VALUE>({ max }: { max: number }): BoundedCache<KEY, VALUE> {
  const entries = new Map<KEY, VALUE>();
  return {
    get: (key) => entries.get(key),
    set(key, value) {
      // Map iterates in insertion order, so the first key is the oldest.
      if (!entries.has(key) && entries.size >= max) entries.delete(entries.keys().next().value as KEY);
      entries.set(key, value);
    },
  };
}

/** Freezes `value` and everything reachable from it: a shared cached value cannot be changed by one of its users. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
