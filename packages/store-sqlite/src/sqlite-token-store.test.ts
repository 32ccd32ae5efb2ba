import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { LetmepostError } from '@letmepost/core';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_SCHEMA_VERSION, prefixUpperBound, sqliteTokenStore } from './sqlite-token-store.js';

const files: string[] = [];
function databasePath(name: string): string {
  const path = join(tmpdir(), `letmepost-sqlite-${name}-${process.pid}-${Date.now()}-${files.length}.db`);
  files.push(path);
  return path;
}
afterAll(() => {
  for (const file of files) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
});

const rejection = async (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as LetmepostError,
  );

describe('schema', () => {
  it('creates its tables once, records the migration and runs in WAL mode', async () => {
    const path = databasePath('schema');
    const first = sqliteTokenStore({ path });
    await first.set('k', 'v');
    await first.close();
    // Opening again is a no-op for the schema and keeps the data.
    const second = sqliteTokenStore({ path });
    expect((await second.get('k'))?.value).toBe('v');
    await second.close();

    const raw = new DatabaseSync(path);
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'letmepost%' ORDER BY name").all();
    expect(tables.map((row) => row.name)).toEqual(['letmepost_counter_events', 'letmepost_entries', 'letmepost_locks', 'letmepost_migrations']);
    expect(raw.prepare('SELECT version FROM letmepost_migrations').all().map((row) => row.version)).toEqual([1]);
    expect(SQLITE_SCHEMA_VERSION).toBe(1);
    expect(raw.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    raw.close();
  });

  it('refuses a database migrated by a newer release', () => {
    const path = databasePath('newer');
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE letmepost_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)');
    raw.exec('INSERT INTO letmepost_migrations VALUES (1, 0), (2, 0)');
    raw.close();
    let failure: unknown;
    try {
      sqliteTokenStore({ path });
    } catch (error) {
      failure = error;
    }
    expect(LetmepostError.isInstance(failure)).toBe(true);
    expect((failure as LetmepostError).code).toBe('store_unavailable');
    expect((failure as LetmepostError).message).toMatch(/schema is at version 2/);
  });

  it('shares a file with the host application’s own tables', async () => {
    const path = databasePath('shared');
    const raw = new DatabaseSync(path);
    raw.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); PRAGMA user_version = 42;');
    raw.close();
    const store = sqliteTokenStore({ path });
    await store.set('k', 'v');
    await store.close();
    const check = new DatabaseSync(path);
    expect(check.prepare('PRAGMA user_version').get()?.user_version).toBe(42);
    check.close();
  });
});

describe(':memory:', () => {
  it('is a working store private to its handle', async () => {
    const first = sqliteTokenStore({ path: ':memory:' });
    const second = sqliteTokenStore({ path: ':memory:' });
    await first.set('k', 'v');
    expect((await first.get('k'))?.value).toBe('v');
    expect(await second.get('k')).toBeNull();
    await first.close();
    await second.close();
  });
});

describe('fencing tokens', () => {
  it('keep growing after every handle was closed and the file reopened', async () => {
    const path = databasePath('fencing');
    const first = sqliteTokenStore({ path });
    const before = await first.withLock('refresh:acct_1', async (lease) => lease.token, { ttlMs: 1_000 });
    await first.withLock('refresh:acct_1', async () => undefined, { ttlMs: 1_000 });
    await first.close();
    const second = sqliteTokenStore({ path });
    const after = await second.withLock('refresh:acct_1', async (lease) => lease.token, { ttlMs: 1_000 });
    await second.close();
    expect(after).toBe(before + 2);
  });
});

describe('expired rows', () => {
  it('are invisible at once and removed by sweep()', async () => {
    let now = 1_000_000;
    const store = sqliteTokenStore({ path: databasePath('sweep'), clock: { now: () => now } });
    await store.set('short', 'v', { ttlMs: 10 });
    await store.set('long', 'v', { ttlMs: 10_000 });
    await store.set('forever', 'v');
    now += 11;
    expect(await store.get('short')).toBeNull();
    expect(store.sweep()).toBe(1);
    expect(store.sweep()).toBe(0);
    expect((await store.list('')).map((entry) => entry.key)).toEqual(['forever', 'long']);
    await store.close();
  });
});

describe('failures', () => {
  it('a file locked by another writer past busyTimeoutMs is store_unavailable, not a conflict', async () => {
    const path = databasePath('busy');
    const store = sqliteTokenStore({ path, busyTimeoutMs: 50 });
    await store.set('k', 'v');
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const error = await rejection(store.set('k', 'w'));
    other.exec('ROLLBACK');
    other.close();
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(LetmepostError.isInstance(error)).toBe(true);
    expect(error.code).toBe('store_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/locked by another connection/);
    // Nothing was half-written, and the handle keeps working.
    expect((await store.set('k', 'w', { expectedVersion: 1 })).version).toBe(2);
    await store.close();
  });

  it('a closed handle answers store_unavailable', async () => {
    const store = sqliteTokenStore({ path: databasePath('closed') });
    await store.close();
    await store.close();
    expect((await rejection(store.get('k'))).code).toBe('store_unavailable');
    expect((await rejection(store.set('k', 'v'))).code).toBe('store_unavailable');
  });

  it('bad arguments are validation_failed naming the field, and nothing is written', async () => {
    const path = databasePath('arguments');
    const store = sqliteTokenStore({ path });
    await expect(store.get('')).rejects.toMatchObject({ code: 'validation_failed', field: 'key' });
    // SQLite would store U+FFFD in place of a lone surrogate: a different key than the one given.
    await expect(store.set('lone \ud800', 'x')).rejects.toMatchObject({ code: 'validation_failed', field: 'key' });
    await expect(store.set('k', 'x', { ttlMs: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'ttlMs' });
    await expect(store.set('k', 'x', { expectedVersion: 1.5 })).rejects.toMatchObject({ code: 'validation_failed', field: 'expectedVersion' });
    await expect(store.delete('k', { expectedVersion: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'expectedVersion' });
    await expect(store.list('', { limit: 0 })).rejects.toMatchObject({ code: 'validation_failed', field: 'limit' });
    await expect(store.increment('c', { windowMs: 1_000, amount: 0.5 })).rejects.toMatchObject({ code: 'validation_failed', field: 'amount' });
    await expect(store.withLock('l', async () => 1, { ttlMs: 1_000, waitMs: -1 })).rejects.toMatchObject({
      code: 'validation_failed',
      field: 'waitMs',
    });
    await store.close();
    const raw = new DatabaseSync(path, { readOnly: true });
    for (const table of ['letmepost_entries', 'letmepost_counter_events', 'letmepost_locks']) {
      expect(raw.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.n, table).toBe(0);
    }
    raw.close();
  });

  it('an unopenable path is store_unavailable', () => {
    expect(() => sqliteTokenStore({ path: join(tmpdir(), 'letmepost-no-such-dir', 'x', 'store.db') })).toThrow(
      expect.objectContaining({ code: 'store_unavailable' }),
    );
  });
});

describe('prefixUpperBound', () => {
  it('is the next string after every key with the prefix', () => {
    expect(prefixUpperBound('acct:')).toBe('acct;');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('a\u{10FFFF}')).toBe('b');
    expect(prefixUpperBound('\u{10FFFF}')).toBeUndefined();
    expect(prefixUpperBound('x\uD7FF')).toBe('x\uE000');
    expect(prefixUpperBound('x😀')).toBe('x😁');
  });

  it('bounds list() exactly, with emoji and the highest code point in keys', async () => {
    const store = sqliteTokenStore({ path: databasePath('bounds') });
    for (const key of ['p😀', 'p😀x', 'p😁', 'p\u{10FFFF}', 'p\u{10FFFF}z', 'q', 'p']) await store.set(key, key);
    expect((await store.list('p😀')).map((entry) => entry.key)).toEqual(['p😀', 'p😀x']);
    expect((await store.list('p\u{10FFFF}')).map((entry) => entry.key)).toEqual(['p\u{10FFFF}', 'p\u{10FFFF}z']);
    expect((await store.list('p')).map((entry) => entry.key)).toEqual(['p', 'p😀', 'p😀x', 'p😁', 'p\u{10FFFF}', 'p\u{10FFFF}z']);
    await store.close();
  });
});
