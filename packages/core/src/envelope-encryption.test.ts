import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createEnvelopeCipher,
  isCiphertext,
  keyIdOf,
  parseEncryptionKey,
  rotateEncryptionKey,
  type Keyring,
} from './envelope-encryption.js';
import { LetmepostError } from './letmepost-error.js';
import { memoryTokenStore } from './memory-token-store.js';
import { letmepostErrorOf } from './test-support/errors.js';
import type { TokenStore } from './token-store.js';

const KEY_A = Buffer.alloc(32, 0xa1).toString('base64');
const KEY_B = Buffer.alloc(32, 0xb2).toString('base64url');

const errorOf = letmepostErrorOf;

async function asyncErrorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** Everything a leaked key could show up as: base64, base64url, hex. */
function keyRenderings(encoded: string): string[] {
  const bytes = Buffer.from(encoded, 'base64');
  return [encoded, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')].filter(
    (rendering) => rendering.length >= 8,
  );
}

function expectNoLeak(error: LetmepostError, secrets: readonly string[]): void {
  const surfaces = [error.message, JSON.stringify(error), inspect(error), String(error.stack), error.remediation ?? ''];
  for (const surface of surfaces) {
    for (const secret of secrets) {
      // Any 12-character slice of the secret would already be a leak.
      for (let start = 0; start + 12 <= secret.length; start += 6) {
        expect(surface).not.toContain(secret.slice(start, start + 12));
      }
    }
  }
}

describe('parseEncryptionKey', () => {
  it('accepts base64 of 32 bytes in either alphabet, with or without padding', () => {
    const bytes = randomBytes(32);
    const ids = [
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      `${bytes.toString('base64url')}=`,
      `${bytes.toString('base64')}\n`,
    ].map((encoded) => parseEncryptionKey(encoded).current.id);
    expect(new Set(ids).size).toBe(1);
  });

  it('derives a stable, short key id that is not the key', () => {
    const keyring = parseEncryptionKey(KEY_A);
    expect(keyring.current.id).toMatch(/^[0-9a-f]{8}$/);
    expect(parseEncryptionKey(KEY_A).current.id).toBe(keyring.current.id);
    expect(parseEncryptionKey(KEY_B).current.id).not.toBe(keyring.current.id);
    const plainDigest = createHash('sha256').update(Buffer.from(KEY_A, 'base64')).digest('hex');
    expect(plainDigest.startsWith(keyring.current.id)).toBe(false);
    expect(keyring.previous).toEqual([]);
  });

  it('keeps key bytes out of inspect and JSON', () => {
    const canary = randomBytes(32).toString('base64');
    const keyring = parseEncryptionKey({ current: { id: 'k2', key: canary }, previous: [{ id: 'k1', key: KEY_A }] });
    for (const rendering of [inspect(keyring, { depth: 10 }), JSON.stringify(keyring)]) {
      for (const leaked of keyRenderings(canary)) expect(rendering).not.toContain(leaked);
    }
  });

  it('parses a keyring with explicit ids and returns a parsed keyring unchanged', () => {
    const keyring = parseEncryptionKey({ current: { id: '2025-06', key: KEY_B }, previous: [{ id: '2024-01', key: KEY_A }] });
    expect(keyring.current.id).toBe('2025-06');
    expect(keyring.previous.map((entry) => entry.id)).toEqual(['2024-01']);
    expect(parseEncryptionKey(keyring)).toBe(keyring);
  });

  const canaryBytes = Buffer.from('CANARY-KEY-BYTES-0123456789abcdefghijklmnopqrstuvwxyz', 'utf8');
  const invalidInputs: Array<[string, unknown, string]> = [
    ['an empty string', '', 'encryptionKey'],
    ['whitespace', '   ', 'encryptionKey'],
    ['too short (16 bytes)', canaryBytes.subarray(0, 16).toString('base64'), 'encryptionKey'],
    ['too long (33 bytes)', canaryBytes.subarray(0, 33).toString('base64'), 'encryptionKey'],
    ['not base64', `${canaryBytes.subarray(0, 32).toString('base64').slice(0, 40)}!@#$`, 'encryptionKey'],
    ['hex instead of base64', canaryBytes.subarray(0, 32).toString('hex'), 'encryptionKey'],
    ['a missing keyring', undefined, 'encryptionKey'],
    ['a keyring without current', { previous: [] }, 'encryptionKey'],
    ['a keyring entry without key', { current: { id: 'k1' } }, 'encryptionKey.current.key'],
    ['a bad key id', { current: { id: 'has.dot', key: KEY_A } }, 'encryptionKey.current.id'],
    [
      'a short previous key',
      { current: { id: 'k2', key: KEY_A }, previous: [{ id: 'k1', key: canaryBytes.subarray(0, 31).toString('base64') }] },
      'encryptionKey.previous.0.key',
    ],
    ['duplicate ids', { current: { id: 'k1', key: KEY_A }, previous: [{ id: 'k1', key: KEY_B }] }, 'encryptionKey.previous.0.id'],
  ];

  it.each(invalidInputs)('rejects %s with encryption_key_invalid and no key bytes', (_label, input, field) => {
    const error = errorOf(() => parseEncryptionKey(input as string));
    expect(error.code).toBe('encryption_key_invalid');
    expect(error.field).toBe(field);
    expect(error.retryable).toBe(false);
    expect(error.message.length).toBeGreaterThan(20);
    const planted = typeof input === 'string' ? [input.trim()] : [];
    expectNoLeak(error, [...planted, canaryBytes.toString('base64'), canaryBytes.toString('hex'), 'CANARY-KEY-BYTES']);
  });

  it('explains the expected format', () => {
    const error = errorOf(() => parseEncryptionKey(randomBytes(32).toString('hex')));
    expect(error.message).toContain('looks like hex');
    expect(error.remediation).toContain('openssl rand -base64 32');
    const short = errorOf(() => parseEncryptionKey(randomBytes(16).toString('base64')));
    expect(short.message).toBe('encryptionKey must decode to exactly 32 bytes; 24 characters of base64 decode to 16 bytes.');
  });
});

describe('createEnvelopeCipher', () => {
  const keyring = parseEncryptionKey(KEY_A);
  const cipher = createEnvelopeCipher({ keyring });

  it('round-trips text, including empty and non-ASCII text', () => {
    for (const plaintext of ['', 'ya29.a0-access-token', 'émoji 🚀 ünïcode', 'x'.repeat(100_000)]) {
      const ciphertext = cipher.encrypt({ plaintext, associatedData: 'account:1:tokens' });
      expect(cipher.decrypt({ ciphertext, associatedData: 'account:1:tokens' })).toBe(plaintext);
    }
  });

  it('writes a self-describing lmp1 envelope carrying the key id', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'secret-token', associatedData: 'a' });
    const parts = ciphertext.split('.');
    expect(parts).toHaveLength(6);
    expect(parts[0]).toBe('lmp1');
    expect(parts[1]).toBe(keyring.current.id);
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(48);
    expect(Buffer.from(parts[4]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[5]!, 'base64url')).toHaveLength('secret-token'.length + 16);
    expect(ciphertext).not.toContain('secret-token');
    expect(isCiphertext(ciphertext)).toBe(true);
    expect(keyIdOf(ciphertext)).toBe(keyring.current.id);
    expect(cipher.currentKeyId).toBe(keyring.current.id);
  });

  it('uses a fresh data key and IVs for every record', () => {
    const first = cipher.encrypt({ plaintext: 'same', associatedData: 'a' });
    const second = cipher.encrypt({ plaintext: 'same', associatedData: 'a' });
    expect(first).not.toBe(second);
    const [, , wrapIvA, wrappedA, dataIvA, sealedA] = first.split('.');
    const [, , wrapIvB, wrappedB, dataIvB, sealedB] = second.split('.');
    expect([wrapIvA, wrappedA, dataIvA, sealedA]).not.toEqual([wrapIvB, wrappedB, dataIvB, sealedB]);
    expect(wrappedA).not.toBe(wrappedB);
  });

  it('fails with decryption_failed when moved to another record', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'token-of-account-1', associatedData: 'account:1:tokens' });
    const error = errorOf(() => cipher.decrypt({ ciphertext, associatedData: 'account:2:tokens' }));
    expect(error.code).toBe('decryption_failed');
    expect(error.message).not.toContain('token-of-account-1');
  });

  it('fails when the wrapped key is spliced onto another record’s data', () => {
    const one = cipher.encrypt({ plaintext: 'one', associatedData: 'r' }).split('.');
    const two = cipher.encrypt({ plaintext: 'two', associatedData: 'r' }).split('.');
    const spliced = [...one.slice(0, 4), ...two.slice(4)].join('.');
    expect(errorOf(() => cipher.decrypt({ ciphertext: spliced, associatedData: 'r' })).code).toBe('decryption_failed');
  });

  it('follows the documented format exactly, so other implementations can read it', () => {
    const masterKey = Buffer.from(KEY_A, 'base64');
    const dataKey = randomBytes(32);
    const dataIv = randomBytes(12);
    const seal = createCipheriv('aes-256-gcm', dataKey, dataIv);
    seal.setAAD(Buffer.from('lmp1:data:account:9:tokens'));
    const sealedData = Buffer.concat([seal.update('hand-made', 'utf8'), seal.final(), seal.getAuthTag()]);
    const wrapIv = randomBytes(12);
    const wrap = createCipheriv('aes-256-gcm', masterKey, wrapIv);
    wrap.setAAD(
      Buffer.concat([
        Buffer.from(`lmp1:wrap:${keyring.current.id}:`),
        createHash('sha256').update(dataIv).update(sealedData).digest(),
      ]),
    );
    const wrappedKey = Buffer.concat([wrap.update(dataKey), wrap.final(), wrap.getAuthTag()]);
    const envelope = ['lmp1', keyring.current.id, wrapIv, wrappedKey, dataIv, sealedData]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
    expect(cipher.decrypt({ ciphertext: envelope, associatedData: 'account:9:tokens' })).toBe('hand-made');

    // Someone who learned this one data key still cannot pair its wrapped key with data they
    // sealed for another record: the wrap authenticates the digest of the original sealed data.
    const forge = createCipheriv('aes-256-gcm', dataKey, dataIv);
    forge.setAAD(Buffer.from('lmp1:data:account:10:tokens'));
    const forgedData = Buffer.concat([forge.update('forged', 'utf8'), forge.final(), forge.getAuthTag()]);
    const forged = [...envelope.split('.').slice(0, 5), forgedData.toString('base64url')].join('.');
    expect(errorOf(() => cipher.decrypt({ ciphertext: forged, associatedData: 'account:10:tokens' })).code).toBe(
      'decryption_failed',
    );
  });

  it('fails on any altered part', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'tamper me', associatedData: 'r' });
    const parts = ciphertext.split('.');
    for (const index of [2, 3, 4, 5]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[bytes.length - 1]! ^= 0x01;
      const altered = parts.map((part, position) => (position === index ? bytes.toString('base64url') : part)).join('.');
      const error = errorOf(() => cipher.decrypt({ ciphertext: altered, associatedData: 'r' }));
      expect(error.code).toBe('decryption_failed');
    }
  });

  it('fails when the key id label is swapped for another key in the keyring', () => {
    const both = parseEncryptionKey({ current: { id: 'new', key: KEY_B }, previous: [{ id: 'old', key: KEY_A }] });
    const ciphertext = createEnvelopeCipher({ keyring: both }).encrypt({ plaintext: 'x', associatedData: 'r' });
    const relabelled = ciphertext.replace('lmp1.new.', 'lmp1.old.');
    expect(errorOf(() => createEnvelopeCipher({ keyring: both }).decrypt({ ciphertext: relabelled, associatedData: 'r' })).code).toBe(
      'decryption_failed',
    );
  });

  it('fails with the wrong key under the same id, and with an unknown key id', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'x', associatedData: 'r' });
    const impostor = createEnvelopeCipher({
      keyring: parseEncryptionKey({ current: { id: keyring.current.id, key: KEY_B } }),
    });
    expect(errorOf(() => impostor.decrypt({ ciphertext, associatedData: 'r' })).code).toBe('decryption_failed');
    const stranger = createEnvelopeCipher({ keyring: parseEncryptionKey(KEY_B) });
    const unknown = errorOf(() => stranger.decrypt({ ciphertext, associatedData: 'r' }));
    expect(unknown.code).toBe('decryption_failed');
    expect(unknown.message).toContain(`"${keyring.current.id}"`);
    expect(unknown.remediation).toContain('previous');
  });

  it('rejects malformed envelopes and bad arguments', () => {
    for (const ciphertext of ['', 'plain text', 'lmp1.k.a.b.c', 'lmp2.k.a.b.c.d', 'lmp1.k.AAAA.AAAA.AAAA.AAAA']) {
      expect(errorOf(() => cipher.decrypt({ ciphertext, associatedData: 'r' })).code).toBe('decryption_failed');
    }
    expect(errorOf(() => cipher.encrypt({ plaintext: 'x', associatedData: '' }))).toMatchObject({
      code: 'validation_failed',
      field: 'associatedData',
    });
    expect(errorOf(() => cipher.encrypt({ plaintext: 1 as unknown as string, associatedData: 'r' }))).toMatchObject({
      code: 'validation_failed',
      field: 'plaintext',
    });
  });

  it('keeps the plaintext and key material out of every error surface', () => {
    const secretKey = randomBytes(32).toString('base64');
    const canaryCipher = createEnvelopeCipher({ keyring: parseEncryptionKey(secretKey) });
    const plaintext = 'CANARY-refresh-token-9f8e7d6c5b4a';
    const ciphertext = canaryCipher.encrypt({ plaintext, associatedData: 'r' });
    const errors = [
      errorOf(() => canaryCipher.decrypt({ ciphertext, associatedData: 'other' })),
      errorOf(() => createEnvelopeCipher({ keyring: parseEncryptionKey(KEY_B) }).decrypt({ ciphertext, associatedData: 'r' })),
    ];
    for (const error of errors) expectNoLeak(error, [plaintext, ...keyRenderings(secretKey)]);
  });

  it('rewraps only the data key, and the result opens with the same associated data', () => {
    const oldKeyring = parseEncryptionKey({ current: { id: 'old', key: KEY_A } });
    const newKeyring = parseEncryptionKey({ current: { id: 'new', key: KEY_B }, previous: [{ id: 'old', key: KEY_A }] });
    const ciphertext = createEnvelopeCipher({ keyring: oldKeyring }).encrypt({ plaintext: 'payload', associatedData: 'r:1' });
    const rotated = createEnvelopeCipher({ keyring: newKeyring });
    const rewrapped = rotated.rewrap({ ciphertext });
    expect(keyIdOf(rewrapped)).toBe('new');
    expect(rewrapped.split('.').slice(4)).toEqual(ciphertext.split('.').slice(4));
    expect(rotated.rewrap({ ciphertext: rewrapped })).toBe(rewrapped);
    expect(rotated.decrypt({ ciphertext: rewrapped, associatedData: 'r:1' })).toBe('payload');
    expect(errorOf(() => rotated.decrypt({ ciphertext: rewrapped, associatedData: 'r:2' })).code).toBe('decryption_failed');
    // The new key alone opens it: the old key is no longer needed.
    const newOnly = createEnvelopeCipher({ keyring: parseEncryptionKey({ current: { id: 'new', key: KEY_B } }) });
    expect(newOnly.decrypt({ ciphertext: rewrapped, associatedData: 'r:1' })).toBe('payload');
  });
});

describe('version-bound envelopes (lmp2)', () => {
  const keyring = parseEncryptionKey(KEY_A);
  const cipher = createEnvelopeCipher({ keyring });

  it('opens only at the record version it was sealed for', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'refresh-token', associatedData: 'grant:1#tokens', recordVersion: 4 });
    expect(ciphertext.startsWith(`lmp2.${keyring.current.id}.`)).toBe(true);
    expect(isCiphertext(ciphertext)).toBe(true);
    expect(cipher.decrypt({ ciphertext, associatedData: 'grant:1#tokens', recordVersion: 4 })).toBe('refresh-token');
    for (const recordVersion of [3, 5, undefined]) {
      expect(errorOf(() => cipher.decrypt({ ciphertext, associatedData: 'grant:1#tokens', recordVersion })).code).toBe('decryption_failed');
    }
  });

  it('cannot shed its version by being relabelled lmp1', () => {
    const ciphertext = cipher.encrypt({ plaintext: 'refresh-token', associatedData: 'grant:1#tokens', recordVersion: 2 });
    const relabelled = ciphertext.replace(/^lmp2\./, 'lmp1.');
    expect(errorOf(() => cipher.decrypt({ ciphertext: relabelled, associatedData: 'grant:1#tokens' })).code).toBe('decryption_failed');
    expect(errorOf(() => cipher.decrypt({ ciphertext: relabelled, associatedData: 'grant:1#tokens', recordVersion: 2 })).code).toBe(
      'decryption_failed',
    );
  });

  it('is re-bound by rewrap from one version to the next, and rewrap needs both', () => {
    const rotated = createEnvelopeCipher({
      keyring: parseEncryptionKey({ current: { id: 'next', key: KEY_B }, previous: [{ id: keyring.current.id, key: KEY_A }] }),
    });
    const ciphertext = cipher.encrypt({ plaintext: 'payload', associatedData: 'r', recordVersion: 7 });
    expect(errorOf(() => rotated.rewrap({ ciphertext })).code).toBe('validation_failed');
    const rebound = rotated.rewrap({ ciphertext, recordVersion: 7, nextRecordVersion: 8 });
    expect(keyIdOf(rebound)).toBe('next');
    expect(rotated.decrypt({ ciphertext: rebound, associatedData: 'r', recordVersion: 8 })).toBe('payload');
    expect(errorOf(() => rotated.decrypt({ ciphertext: rebound, associatedData: 'r', recordVersion: 7 })).code).toBe('decryption_failed');
    // Rewrapping from a version it was not sealed for fails instead of laundering a replay.
    expect(errorOf(() => rotated.rewrap({ ciphertext, recordVersion: 6, nextRecordVersion: 7 })).code).toBe('decryption_failed');
  });

  it('keeps lmp1 envelopes opening whatever version is given (written before version binding)', () => {
    const legacy = cipher.encrypt({ plaintext: 'old', associatedData: 'r' });
    expect(cipher.decrypt({ ciphertext: legacy, associatedData: 'r', recordVersion: 9 })).toBe('old');
  });
});

describe('isCiphertext and keyIdOf', () => {
  it('recognise envelopes by shape only', () => {
    expect(isCiphertext('lmp1.kid.AAAA.BBBB.CCCC.DDDD')).toBe(true);
    expect(keyIdOf('lmp1.kid.AAAA.BBBB.CCCC.DDDD')).toBe('kid');
    for (const value of ['lmp1.kid.AAAA.BBBB.CCCC', 'lmp1..A.B.C.D', 'xlmp1.k.A.B.C.D', 'lmp1.k.A+.B.C.D', 42, null]) {
      expect(isCiphertext(value)).toBe(false);
    }
    expect(keyIdOf('plain')).toBeUndefined();
  });
});

describe('rotateEncryptionKey', () => {
  const oldKeyring = parseEncryptionKey({ current: { id: 'k-old', key: KEY_A } });
  const newKeyring = parseEncryptionKey({ current: { id: 'k-new', key: KEY_B }, previous: [{ id: 'k-old', key: KEY_A }] });

  const plaintextsOf = (index: number): string[] => [`access-${index}`, `refresh-${index}`];

  function recordValue(index: number): string {
    const oldCipher = createEnvelopeCipher({ keyring: oldKeyring });
    const [access, refresh] = plaintextsOf(index) as [string, string];
    // A large integer that JSON.parse would round; rotation must keep it byte for byte.
    const value = `{"id":"acct-${index}","platformNumericId":12345678901234567891,"tokens":{"access":${JSON.stringify(
      oldCipher.encrypt({ plaintext: access, associatedData: `account:${index}:access` }),
    )},"list":[${JSON.stringify(oldCipher.encrypt({ plaintext: refresh, associatedData: `account:${index}:refresh` }))}]}}`;
    return value;
  }

  function readAll(store: TokenStore, cipher: ReturnType<typeof createEnvelopeCipher>, count: number) {
    return Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const entry = await store.get(`account:${String(index).padStart(5, '0')}`);
        const parsed = JSON.parse(entry!.value) as { tokens: { access: string; list: string[] } };
        return {
          raw: entry!.value,
          access: cipher.decrypt({ ciphertext: parsed.tokens.access, associatedData: `account:${index}:access` }),
          refresh: cipher.decrypt({ ciphertext: parsed.tokens.list[0]!, associatedData: `account:${index}:refresh` }),
          kids: [keyIdOf(parsed.tokens.access), keyIdOf(parsed.tokens.list[0]!)],
        };
      }),
    );
  }

  it('re-wraps 2,000 records, survives an abort midway, and finishes on a re-run', async () => {
    const store = memoryTokenStore();
    const total = 2_000;
    for (let index = 0; index < total; index++) {
      await store.set(`account:${String(index).padStart(5, '0')}`, recordValue(index));
    }
    await store.set('counter:unrelated', 'plain value');
    await store.set('raw:envelope', createEnvelopeCipher({ keyring: oldKeyring }).encrypt({ plaintext: 'raw', associatedData: 'raw' }));

    const controller = new AbortController();
    const progress: number[] = [];
    const aborted = await asyncErrorOf(
      rotateEncryptionKey({
        store,
        keyring: newKeyring,
        batchSize: 100,
        signal: controller.signal,
        onProgress: ({ scanned }) => {
          progress.push(scanned);
          if (scanned >= 900) controller.abort(new Error('operator stopped rotation'));
        },
      }),
    );
    expect((aborted as Error).message).toBe('operator stopped rotation');
    expect(progress).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);

    // Midway: every record is readable with the new keyring, some under each kid.
    const midway = await readAll(store, createEnvelopeCipher({ keyring: newKeyring }), total);
    const midwayKids = midway.flatMap((record) => record.kids);
    expect(midwayKids.filter((kid) => kid === 'k-new')).toHaveLength(900 * 2);
    expect(midwayKids.filter((kid) => kid === 'k-old')).toHaveLength((total - 900) * 2);
    midway.forEach((record, index) => expect([record.access, record.refresh]).toEqual(plaintextsOf(index)));

    const resumed = await rotateEncryptionKey({ store, keyring: newKeyring, batchSize: 100 });
    expect(resumed).toEqual({ scanned: total + 2, rewrapped: total - 900 + 1, alreadyCurrent: 900 });

    // The old key is no longer needed for anything.
    const newOnly = createEnvelopeCipher({ keyring: parseEncryptionKey({ current: { id: 'k-new', key: KEY_B } }) });
    const finished = await readAll(store, newOnly, total);
    finished.forEach((record, index) => {
      expect([record.access, record.refresh]).toEqual(plaintextsOf(index));
      expect(record.kids).toEqual(['k-new', 'k-new']);
      expect(record.raw).toContain('"platformNumericId":12345678901234567891,');
    });
    const raw = await store.get('raw:envelope');
    expect(keyIdOf(raw!.value)).toBe('k-new');
    expect(newOnly.decrypt({ ciphertext: raw!.value, associatedData: 'raw' })).toBe('raw');
    expect((await store.get('counter:unrelated'))?.value).toBe('plain value');

    expect(await rotateEncryptionKey({ store, keyring: newKeyring })).toEqual({
      scanned: total + 2,
      rewrapped: 0,
      alreadyCurrent: total + 1,
    });
  });

  it('writes with compare-and-set and retries a record a concurrent writer changed', async () => {
    const inner = memoryTokenStore();
    const oldCipher = createEnvelopeCipher({ keyring: oldKeyring });
    await inner.set('a', JSON.stringify({ t: oldCipher.encrypt({ plaintext: 'first', associatedData: 'a' }) }));
    let raced = false;
    const racingStore: TokenStore = {
      ...inner,
      get: (key) => inner.get(key),
      list: (prefix, options) => inner.list(prefix, options),
      async set(key, value, options) {
        if (!raced) {
          raced = true;
          // Another process rewrites the record between rotation's read and its write.
          await inner.set(key, JSON.stringify({ t: oldCipher.encrypt({ plaintext: 'second', associatedData: 'a' }) }));
        }
        return inner.set(key, value, options);
      },
    };
    const result = await rotateEncryptionKey({ store: racingStore, keyring: newKeyring });
    expect(result).toEqual({ scanned: 1, rewrapped: 1, alreadyCurrent: 0 });
    const entry = await inner.get('a');
    expect(entry?.version).toBe(3);
    const { t } = JSON.parse(entry!.value) as { t: string };
    expect(keyIdOf(t)).toBe('k-new');
    expect(createEnvelopeCipher({ keyring: newKeyring }).decrypt({ ciphertext: t, associatedData: 'a' })).toBe('second');
  });

  it('keeps the remaining TTL of an entry it rewrites', async () => {
    let now = 1_000_000;
    const clock = { now: () => now };
    const store = memoryTokenStore({ clock });
    const oldCipher = createEnvelopeCipher({ keyring: oldKeyring });
    const written = await store.set('session:1', oldCipher.encrypt({ plaintext: 'verifier', associatedData: 's' }), {
      ttlMs: 600_000,
    });
    now += 100_000;
    await rotateEncryptionKey({ store, keyring: newKeyring, clock, prefix: 'session:' });
    const rewritten = await store.get('session:1');
    expect(keyIdOf(rewritten!.value)).toBe('k-new');
    expect(rewritten!.expiresAt).toBe(written.expiresAt);
  });

  it('fails loudly on an envelope no key in the keyring can open', async () => {
    const store = memoryTokenStore();
    const stranger = createEnvelopeCipher({ keyring: parseEncryptionKey({ current: { id: 'lost', key: randomBytes(32).toString('base64') } }) });
    await store.set('x', stranger.encrypt({ plaintext: 'x', associatedData: 'x' }));
    const error = await asyncErrorOf(rotateEncryptionKey({ store, keyring: newKeyring }));
    expect(LetmepostError.isInstance(error) && error.code).toBe('decryption_failed');
  });

  it('skips JSON strings that merely contain an envelope, and object keys', async () => {
    const store = memoryTokenStore();
    const envelope = createEnvelopeCipher({ keyring: oldKeyring }).encrypt({ plaintext: 'x', associatedData: 'x' });
    const value = JSON.stringify({ note: `see ${envelope}`, [envelope]: 1, quoted: `"${envelope}"` });
    await store.set('k', value);
    expect(await rotateEncryptionKey({ store, keyring: newKeyring })).toEqual({ scanned: 1, rewrapped: 0, alreadyCurrent: 0 });
    expect((await store.get('k'))?.value).toBe(value);
  });

  it('validates batchSize', async () => {
    const error = await asyncErrorOf(rotateEncryptionKey({ store: memoryTokenStore(), keyring: newKeyring as Keyring, batchSize: 0 }));
    expect(error).toMatchObject({ code: 'validation_failed', field: 'batchSize' });
  });
});

describe('opened envelopes are remembered without weakening any check', () => {
  const keyring = parseEncryptionKey(KEY_A);

  it('a value read again opens to the same text; other associated data or another version still fails', () => {
    const cipher = createEnvelopeCipher({ keyring });
    const sealed = cipher.encrypt({ plaintext: 'token-c4n4ry', associatedData: 'ws/a/grants/1#tokens', recordVersion: 3 });
    expect(cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/a/grants/1#tokens', recordVersion: 3 })).toBe('token-c4n4ry');
    expect(cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/a/grants/1#tokens', recordVersion: 3 })).toBe('token-c4n4ry');
    // Moved to another record, or replayed at a later store version: refused, as on a first read.
    expect(errorOf(() => cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/b/grants/1#tokens', recordVersion: 3 })).code).toBe(
      'decryption_failed',
    );
    expect(errorOf(() => cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/a/grants/1#tokens', recordVersion: 4 })).code).toBe(
      'decryption_failed',
    );
    expect(errorOf(() => cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/a/grants/1#tokens' })).code).toBe('decryption_failed');
    // And the value it opened to the first time is still what it opens to.
    expect(cipher.decrypt({ ciphertext: sealed, associatedData: 'ws/a/grants/1#tokens', recordVersion: 3 })).toBe('token-c4n4ry');
  });

  it('a cipher without the key refuses an envelope another cipher has opened', () => {
    const writer = createEnvelopeCipher({ keyring });
    const sealed = writer.encrypt({ plaintext: 'token-c4n4ry', associatedData: 'k#f' });
    expect(writer.decrypt({ ciphertext: sealed, associatedData: 'k#f' })).toBe('token-c4n4ry');
    const other = createEnvelopeCipher({ keyring: parseEncryptionKey(KEY_B) });
    expect(errorOf(() => other.decrypt({ ciphertext: sealed, associatedData: 'k#f' })).code).toBe('decryption_failed');
  });
});
