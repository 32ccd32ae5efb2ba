import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEnvelopeCipher, parseEncryptionKey } from './envelope-encryption.js';
import { decodeRecord, openField, sealField } from './store-layout.js';
import { letmepostErrorOf } from './test-support/errors.js';

const recordSchema = z.object({ v: z.literal(2), status: z.string(), data: z.object({ plan: z.string() }) });

const thrown = letmepostErrorOf;

describe('decoded records are shared, so they are frozen', () => {
  it('the same stored text decodes to one frozen value; other text decodes anew', () => {
    const value = JSON.stringify({ v: 2, status: 'active', data: { plan: 'free' } });
    const first = decodeRecord({ entry: { key: 'ws/a/accounts/1', value, version: 1 }, schema: recordSchema });
    const second = decodeRecord({ entry: { key: 'ws/a/accounts/1', value, version: 1 }, schema: recordSchema });
    expect(second).toBe(first);
    expect(() => {
      (first as { status: string }).status = 'revoked';
    }).toThrow(TypeError);
    expect(() => {
      (first.data as { plan: string }).plan = 'paid';
    }).toThrow(TypeError);
    const changed = decodeRecord({
      entry: { key: 'ws/a/accounts/1', value: JSON.stringify({ v: 2, status: 'revoked', data: { plan: 'free' } }), version: 2 },
      schema: recordSchema,
    });
    expect(changed.status).toBe('revoked');
  });

  it('a record that does not decode is refused with its detail every time, not remembered as good', () => {
    const entry = { key: 'ws/a/accounts/2', value: JSON.stringify({ v: 2, status: 'active' }), version: 1 };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = thrown(() => decodeRecord({ entry, schema: recordSchema }));
      expect(error.code).toBe('store_unavailable');
      expect(error.message).toContain('at data');
    }
    expect(thrown(() => decodeRecord({ entry: { ...entry, value: '{not json' }, schema: recordSchema })).message).toContain('not JSON');
  });
});

describe('opened fields', () => {
  const cipher = createEnvelopeCipher({ keyring: parseEncryptionKey(Buffer.alloc(32, 7).toString('base64')) });
  const tokensSchema = z.object({ accessToken: z.string() });

  it('open to one frozen value per envelope, and still only for their own record', () => {
    const ciphertext = sealField({ cipher, key: 'ws/a/grants/1', field: 'tokens', value: { accessToken: 'c4n4ry' }, recordVersion: 1 });
    const open = (key: string) => openField({ cipher, key, field: 'tokens', ciphertext, schema: tokensSchema, recordVersion: 1 });
    const tokens = open('ws/a/grants/1');
    expect(tokens).toEqual({ accessToken: 'c4n4ry' });
    expect(open('ws/a/grants/1')).toBe(tokens);
    expect(Object.isFrozen(tokens)).toBe(true);
    expect(thrown(() => open('ws/b/grants/1')).code).toBe('decryption_failed');
  });
});
