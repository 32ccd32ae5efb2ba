// Shared by the benchmarks: every headline is a median over rounds.

/** The median of a list of numbers (the mean of the two middle ones for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A deterministic pseudo-random source in [0, 1) (mulberry32), so a benchmark's orders repeat from run to run. */
export function seededRandom({ seed }) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy of `values` (Fisher–Yates). */
export function shuffled({ values, random }) {
  const copy = [...values];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/**
 * A 95% bootstrap interval for sum(numerators) / sum(denominators) over every group, the rounds
 * resampled with replacement within each group (paired: a round's two figures stay together;
 * each group, one process's rounds, keeps its count). How much a ratio of totals moves with the
 * luck of which rounds the machine slowed down.
 */
export function bootstrapInterval({ groups, random, resamples = 1000 }) {
  const estimates = [];
  for (let resample = 0; resample < resamples; resample += 1) {
    let top = 0;
    let bottom = 0;
    for (const { numerators, denominators } of groups) {
      const count = numerators.length;
      for (let pick = 0; pick < count; pick += 1) {
        const round = Math.floor(random() * count);
        top += numerators[round];
        bottom += denominators[round];
      }
    }
    estimates.push(top / bottom);
  }
  estimates.sort((a, b) => a - b);
  return { low: estimates[Math.floor(resamples * 0.025)], high: estimates[Math.ceil(resamples * 0.975) - 1] };
}
