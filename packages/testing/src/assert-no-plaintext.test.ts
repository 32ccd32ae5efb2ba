import { describe, expect, it } from 'vitest';
import { assertNoPlaintext } from './assert-no-plaintext.js';

const canary = 'canary-refresh-token-3e9d1f0a';

describe('assertNoPlaintext', () => {
  it('passes when the canary only exists encrypted', async () => {
    await expect(assertNoPlaintext({ rawDump: () => '{"ciphertext":"q83vEjRWeJq83vEjRWeJ"}', canaries: [canary] })).resolves.toBeUndefined();
  });

  it.each([
    ['plain', (value: string) => `{"refresh":"${value}"}`],
    ['url-encoded', (value: string) => `a=${encodeURIComponent(`${value} x`)}`],
    ['hex', (value: string) => `\\x${Buffer.from(value).toString('hex')}`],
    ['base64 at any byte offset', (value: string) => Buffer.from(`{"k":"${value}"}`).toString('base64')],
    ['base64 shifted by one', (value: string) => Buffer.from(`{"kk":"${value}","x":1}`).toString('base64')],
    ['base64url shifted by two', (value: string) => Buffer.from(`{"kkk":"${value}"}`).toString('base64url')],
  ])('finds a %s canary without printing it', async (_label, encode) => {
    const failure = await assertNoPlaintext({ rawDump: async () => `row1|${encode(canary)}|row2`, canaries: [canary] }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/plaintext secrets found/);
    expect(failure?.message).not.toContain(canary);
  });

  it('refuses canaries too short to search for', async () => {
    await expect(assertNoPlaintext({ rawDump: () => '', canaries: ['abc'] })).rejects.toThrow(/too short/);
  });
});
