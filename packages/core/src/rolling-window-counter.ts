/**
 * Events counted in a rolling window, exactly: an event added at `t` counts while `t > now -
 * windowMs`. Events are kept as buckets of (time, count) in time order, with a running total, so
 * an increment touches only the oldest buckets that left the window and the newest one: constant
 * time (amortised: each bucket is added once and dropped once), however many events the window
 * holds. The memory store's launch-cap counter re-filtered every event on each increment before.
 */
export class RollingWindowCounter {
  /** Bucket times, ascending from `head`; `counts[index]` events happened at `times[index]`. */
  private times: number[] = [];
  private counts: number[] = [];
  /** Index of the oldest live bucket; entries before it are dropped and compacted away lazily. */
  private head = 0;
  private total = 0;

  get count(): number {
    return this.total;
  }

  /** Drops the events that are no longer inside `(now - windowMs, now]`. */
  expire({ now, windowMs }: { now: number; windowMs: number }): void {
    const windowStart = now - windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= windowStart) {
      this.total -= this.counts[this.head]!;
      this.head += 1;
    }
    this.compact();
  }

  /** Adds `amount` events at `now`. */
  add({ now, amount }: { now: number; amount: number }): void {
    if (amount <= 0) return;
    this.total += amount;
    const last = this.times.length - 1;
    if (last >= this.head && this.times[last] === now) {
      this.counts[last]! += amount;
      return;
    }
    if (last < this.head || this.times[last]! < now) {
      this.times.push(now);
      this.counts.push(amount);
      return;
    }
    // The clock went backwards: keep time order so expiry stays exact (rare, so linear is fine).
    let index = last;
    while (index > this.head && this.times[index - 1]! > now) index -= 1;
    if (this.times[index - 1] === now && index - 1 >= this.head) {
      this.counts[index - 1]! += amount;
      return;
    }
    this.times.splice(index, 0, now);
    this.counts.splice(index, 0, amount);
  }

  /** Removes up to `amount` of the newest events. */
  removeNewest({ amount }: { amount: number }): void {
    let remaining = Math.min(amount, this.total);
    this.total -= remaining;
    while (remaining > 0) {
      const last = this.times.length - 1;
      const taken = Math.min(this.counts[last]!, remaining);
      remaining -= taken;
      if (taken === this.counts[last]) {
        this.times.pop();
        this.counts.pop();
      } else {
        this.counts[last]! -= taken;
      }
    }
    this.compact();
  }

  /** Frees the dropped prefix once it is at least half the arrays, so each drop costs O(1) amortised. */
  private compact(): void {
    if (this.head === this.times.length) {
      this.times = [];
      this.counts = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.counts = this.counts.slice(this.head);
      this.head = 0;
    }
  }
}
