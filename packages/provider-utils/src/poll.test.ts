import { describe, expect, test } from 'vitest';
import { pollUntil, toJsonValue } from './poll.js';

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async ({ ms }: { ms: number }) => void sleeps.push(ms) };
}

describe('pollUntil', () => {
  test('looks right away, then every interval, and stops at the first finished value', async () => {
    const { sleeps, sleep } = recorder();
    const states = ['processing', 'processing', 'available', 'never-read'];
    const result = await pollUntil({
      check: async ({ attempt }) => states[attempt] as string,
      isDone: (state) => state !== 'processing',
      intervalMs: 3000,
      maxWaitMs: 30_000,
      sleep,
    });
    expect(result).toEqual({ value: 'available', done: true, attempts: 3 });
    expect(sleeps).toEqual([3000, 3000]);
  });

  test('gives up after maxWaitMs / intervalMs waits with the last value, not done', async () => {
    const { sleeps, sleep } = recorder();
    let looks = 0;
    const result = await pollUntil({
      check: async () => `processing-${(looks += 1)}`,
      isDone: () => false,
      intervalMs: 1000,
      maxWaitMs: 3000,
      sleep,
    });
    expect(result).toEqual({ value: 'processing-4', done: false, attempts: 4 });
    expect(sleeps).toEqual([1000, 1000, 1000]);
  });

  test('delayFirstCheck waits one interval before the first look', async () => {
    const { sleeps, sleep } = recorder();
    const result = await pollUntil({
      check: async () => 'running',
      isDone: () => false,
      intervalMs: 2000,
      maxWaitMs: 4000,
      delayFirstCheck: true,
      sleep,
    });
    expect(result).toEqual({ value: 'running', done: false, attempts: 2 });
    expect(sleeps).toEqual([2000, 2000]);
  });

  test('a zero budget looks once (or not at all when the first look is delayed)', async () => {
    const { sleep } = recorder();
    const immediate = await pollUntil({ check: async () => 1, isDone: () => false, intervalMs: 0, maxWaitMs: 0, sleep });
    expect(immediate).toEqual({ value: 1, done: false, attempts: 1 });
    const delayed = await pollUntil({ check: async () => 1, isDone: () => false, intervalMs: 0, maxWaitMs: 0, delayFirstCheck: true, sleep });
    expect(delayed).toEqual({ value: undefined, done: false, attempts: 0 });
  });

  test('an aborted signal stops the wait at once (AbortError), without another look', async () => {
    let looks = 0;
    const controller = new AbortController();
    const polling = pollUntil({
      check: async () => {
        looks += 1;
        return 'processing';
      },
      isDone: () => false,
      intervalMs: 60_000,
      maxWaitMs: 600_000,
      signal: controller.signal,
    });
    controller.abort();
    await expect(polling).rejects.toMatchObject({ name: 'AbortError' });
    expect(looks).toBe(1);
  });

  test('an error from a look ends the polling and propagates', async () => {
    const { sleep } = recorder();
    await expect(
      pollUntil({
        check: async () => {
          throw new Error('status read failed');
        },
        isDone: () => false,
        intervalMs: 10,
        maxWaitMs: 100,
        sleep,
      }),
    ).rejects.toThrow('status read failed');
  });
});

describe('toJsonValue', () => {
  test('round-trips typed state to plain JSON, dropping undefined fields', () => {
    const state: { body: { author: string; text?: string }; items: Array<{ id: string; extra?: number }> } = {
      body: { author: 'urn:li:person:1', text: undefined },
      items: [{ id: 'a' }],
    };
    expect(toJsonValue(state)).toEqual({ body: { author: 'urn:li:person:1' }, items: [{ id: 'a' }] });
    expect(Object.keys((toJsonValue(state) as { body: object }).body)).toEqual(['author']);
  });
});
