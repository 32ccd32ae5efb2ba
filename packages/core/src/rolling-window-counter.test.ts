import { describe, expect, it } from 'vitest';
import { memoryTokenStore } from './memory-token-store.js';
import { RollingWindowCounter } from './rolling-window-counter.js';
import { manualClock } from './test-support/test-provider.js';

/** The definition the counter must match: every event `t` with `t > now - windowMs`. */
class ReferenceCounter {
  private events: number[] = [];
  expire({ now, windowMs }: { now: number; windowMs: number }) {
    this.events = this.events.filter((at) => at > now - windowMs);
  }
  add({ now, amount }: { now: number; amount: number }) {
    for (let index = 0; index < amount; index += 1) this.events.push(now);
    this.events.sort((left, right) => left - right);
  }
  removeNewest({ amount }: { amount: number }) {
    this.events.splice(Math.max(0, this.events.length - amount));
  }
  get count() {
    return this.events.length;
  }
}

describe('RollingWindowCounter', () => {
  it('matches the exact rolling-window definition over a random walk, clock steps back included', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const counter = new RollingWindowCounter();
    const reference = new ReferenceCounter();
    let now = 1_000_000;
    for (let step = 0; step < 20_000; step += 1) {
      // Mostly forward, sometimes the same millisecond, rarely backwards.
      const roll = random();
      now += roll < 0.02 ? -Math.floor(random() * 50) : roll < 0.3 ? 0 : Math.floor(random() * 40);
      const windowMs = random() < 0.9 ? 1000 : 1 + Math.floor(random() * 2000);
      counter.expire({ now, windowMs });
      reference.expire({ now, windowMs });
      const action = random();
      if (action < 0.1) {
        const amount = Math.floor(random() * 4);
        counter.removeNewest({ amount });
        reference.removeNewest({ amount });
      } else {
        const amount = Math.floor(random() * 3);
        counter.add({ now, amount });
        reference.add({ now, amount });
      }
      expect(counter.count, `step ${step}`).toBe(reference.count);
    }
  });

  it('an event counts while it is newer than now - windowMs, and leaves exactly then', () => {
    const counter = new RollingWindowCounter();
    counter.add({ now: 100, amount: 2 });
    counter.add({ now: 150, amount: 1 });
    counter.expire({ now: 199, windowMs: 100 });
    expect(counter.count).toBe(3);
    counter.expire({ now: 200, windowMs: 100 });
    expect(counter.count).toBe(1);
    counter.expire({ now: 250, windowMs: 100 });
    expect(counter.count).toBe(0);
  });

  it('an increment at 200,000 posts in the window costs what it costs at 1,000', async () => {
    // Before, each increment re-filtered every post in the window: 200,000 launches in one
    // window took minutes; now the per-increment cost is flat (measured as a ratio, not a time).
    const perIncrement = async (posts: number): Promise<number> => {
      const clock = manualClock();
      const store = memoryTokenStore({ clock });
      const options = { windowMs: 24 * 60 * 60 * 1000 };
      for (let index = 0; index < posts; index += 1) {
        clock.advance(1);
        await store.increment('counters/launch/twitter/acc', options);
      }
      const probes = 2000;
      const started = process.hrtime.bigint();
      for (let index = 0; index < probes; index += 1) {
        clock.advance(1);
        await store.increment('counters/launch/twitter/acc', options);
      }
      const elapsed = Number(process.hrtime.bigint() - started) / probes;
      expect((await store.increment('counters/launch/twitter/acc', { ...options, amount: 0 })).count).toBe(posts + probes);
      return elapsed;
    };
    await perIncrement(1000); // warm-up
    const small = Math.min(await perIncrement(1000), await perIncrement(1000));
    const large = Math.min(await perIncrement(200_000), await perIncrement(200_000));
    // A filter over 200,000 events is ~200× the 1,000 case; a constant-time increment stays near 1×.
    expect(large / small).toBeLessThan(5);
  });
});
