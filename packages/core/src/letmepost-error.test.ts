import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, RETRYABLE_BY_DEFAULT } from './error-code.js';
import { LetmepostError } from './letmepost-error.js';

const ACCESS_TOKEN = 'CANARY-ya29.a0AfH6SMBx7-access-token-4f1c';
const REFRESH_TOKEN = 'CANARY-1//0gRefreshTokenValue-9b2d';
const CLIENT_SECRET = 'CANARY-client-secret-77aa1e';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ';
const CANARIES = [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, JWT];

function surfacesOf(error: LetmepostError): string[] {
  return [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    inspect(error),
    inspect(error, { depth: Infinity, showHidden: false }),
    inspect({ wrapped: error }, { depth: 6 }),
    String(error),
  ];
}

describe('LetmepostError', () => {
  it('carries its fields, a docUrl per code, and a retryable default from the code', () => {
    const error = new LetmepostError({
      code: 'rate_limited',
      message: 'Too many posts',
      platform: 'twitter',
      status: 429,
      retryAfterMs: 60_000,
      remediation: 'Wait a minute.',
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('LetmepostError');
    expect(error.code).toBe('rate_limited');
    expect(error.retryable).toBe(true);
    expect(error.docUrl).toBe('https://github.com/letmepost/letmepost/blob/main/docs/errors/rate_limited.md');
    expect(error.toJSON()).toEqual({
      name: 'LetmepostError',
      code: 'rate_limited',
      message: 'Too many posts',
      platform: 'twitter',
      status: 429,
      retryable: true,
      retryAfterMs: 60_000,
      rule: undefined,
      field: undefined,
      remediation: 'Wait a minute.',
      platformResponse: undefined,
      issues: undefined,
      docUrl: 'https://github.com/letmepost/letmepost/blob/main/docs/errors/rate_limited.md',
    });
    for (const code of ERROR_CODES) {
      expect(new LetmepostError({ code, message: 'x' }).retryable).toBe(RETRYABLE_BY_DEFAULT.has(code));
    }
    expect(new LetmepostError({ code: 'platform_rejected', message: 'x', retryable: true }).retryable).toBe(true);
    expect(new LetmepostError({ code: 'rate_limited', message: 'x', retryable: false }).retryable).toBe(false);
  });

  describe('isInstance', () => {
    it('recognises its own instances and nothing else', () => {
      expect(LetmepostError.isInstance(new LetmepostError({ code: 'not_found', message: 'x' }))).toBe(true);
      for (const value of [new Error('x'), { code: 'not_found', message: 'x' }, null, undefined, 'x', 42]) {
        expect(LetmepostError.isInstance(value)).toBe(false);
      }
      expect(LetmepostError.isInstance({ [Symbol.for('letmepost.error')]: false })).toBe(false);
      expect(LetmepostError.isInstance({ [Symbol('letmepost.error')]: true })).toBe(false);
    });

    it('recognises an error made by a separate copy of the package', async () => {
      // A fresh module registry loads a second, independent copy of the class, as a host with
      // two versions of @letmepost/core in node_modules would have.
      vi.resetModules();
      const copy = await import('./letmepost-error.js');
      const foreign = new copy.LetmepostError({ code: 'auth_expired', message: 'from another copy' });
      expect(copy.LetmepostError).not.toBe(LetmepostError);
      expect(foreign instanceof LetmepostError).toBe(false);
      expect(LetmepostError.isInstance(foreign)).toBe(true);
      expect(copy.LetmepostError.isInstance(new LetmepostError({ code: 'auth_expired', message: 'x' }))).toBe(true);
    });

    it('recognises a separately created object carrying the global marker', () => {
      const marked = Object.assign(new Error('duck'), { [Symbol.for('letmepost.error')]: true, code: 'not_found' });
      expect(LetmepostError.isInstance(marked)).toBe(true);
    });
  });

  describe('redaction', () => {
    const makeError = () =>
      new LetmepostError({
        code: 'auth_expired',
        platform: 'linkedin',
        status: 401,
        message: `Token ${ACCESS_TOKEN} was rejected; refresh_token=${REFRESH_TOKEN}; header Authorization: Bearer ${JWT}`,
        knownSecrets: [ACCESS_TOKEN, CLIENT_SECRET],
        platformResponse: {
          serviceErrorCode: 65600,
          message: `Invalid access token ${ACCESS_TOKEN}`,
          request: {
            headers: { authorization: `Bearer ${ACCESS_TOKEN}`, 'x-restli-protocol-version': '2.0.0' },
            body: `grant_type=refresh_token&refresh_token=${REFRESH_TOKEN}&client_secret=${CLIENT_SECRET}`,
          },
          grants: [{ access_token: ACCESS_TOKEN, refresh_token: REFRESH_TOKEN, expires_in: 3600, scope: 'w_member_social' }],
          nested: { deeper: { note: `client secret was ${CLIENT_SECRET}`, id_token: JWT } },
        },
        issues: [{ field: 'credentials.access_token', message: `bad token ${ACCESS_TOKEN}` }],
        cause: new Error(`socket failure while sending ${ACCESS_TOKEN}`),
      });

    it('keeps planted secrets out of message, stack, toJSON, JSON.stringify and inspect', () => {
      const error = makeError();
      for (const surface of surfacesOf(error)) {
        for (const canary of CANARIES) expect(surface).not.toContain(canary);
        expect(surface).not.toContain('CANARY');
      }
      expect(error.message).toBe(
        // The inline pattern takes everything up to a separator, here including the ';'.
        'Token [redacted] was rejected; refresh_token=[redacted] header Authorization: [redacted]',
      );
      expect(error.issues).toEqual([{ field: 'credentials.access_token', message: 'bad token [redacted]' }]);
    });

    it('keeps the non-secret parts of the platform response for debugging', () => {
      expect(makeError().platformResponse).toEqual({
        serviceErrorCode: 65600,
        message: 'Invalid access token [redacted]',
        request: {
          headers: { authorization: '[redacted]', 'x-restli-protocol-version': '2.0.0' },
          body: 'grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]',
        },
        grants: [{ access_token: '[redacted]', refresh_token: '[redacted]', expires_in: 3600, scope: 'w_member_social' }],
        nested: { deeper: { note: 'client secret was [redacted]', id_token: '[redacted]' } },
      });
    });

    it('keeps structured error codes that the secret-name heuristics would otherwise hide', () => {
      const error = new LetmepostError({
        code: 'auth_expired',
        message: 'x',
        platformResponse: {
          error: { code: 190, error_subcode: 463, type: 'OAuthException', fbtrace_id: 'AbC' },
          error_code: 401,
          refresh_token_expires_in: 31_536_000,
          code: 'raw-oauth-authorization-code-value',
          auth_code: 'another-authorization-code',
        },
      });
      expect(error.platformResponse).toEqual({
        error: { code: 190, error_subcode: 463, type: 'OAuthException', fbtrace_id: 'AbC' },
        error_code: 401,
        refresh_token_expires_in: 31_536_000,
        code: '[redacted]',
        auth_code: '[redacted]',
      });
    });

    it('keeps the cause reachable but not enumerable, serialized or inspected', () => {
      const cause = new Error(`socket failure while sending ${ACCESS_TOKEN}`);
      const error = new LetmepostError({ code: 'platform_unavailable', message: 'LinkedIn did not answer', cause });
      expect(error.cause).toBe(cause);
      expect(Object.keys(error)).not.toContain('cause');
      expect(Object.getOwnPropertyDescriptor(error, 'cause')?.enumerable).toBe(false);
      expect(JSON.stringify(error)).not.toContain('socket failure');
      expect(inspect(error)).not.toContain('socket failure');
      expect({ ...error }).not.toHaveProperty('cause');
      expect(new LetmepostError({ code: 'not_found', message: 'x' }).cause).toBeUndefined();
    });

    it('ignores known secrets too short to mask safely', () => {
      const error = new LetmepostError({ code: 'validation_failed', message: 'field abc is wrong', knownSecrets: ['abc'] });
      expect(error.message).toBe('field abc is wrong');
    });
  });
});

describe('inline credential redaction', () => {
  it('masks bearer, basic and OAuth 1.0a header values but leaves prose about OAuth alone', async () => {
    const { redactString } = await import('./redact.js');
    expect(redactString('Authorization: Bearer abcDEF123456.xyz')).toBe('Authorization: [redacted]');
    expect(redactString('sent Basic eC1jbGllbnQ6eC1zZWNyZXQ=')).toBe('sent [redacted]');
    expect(redactString('OAuth oauth_consumer_key="ck", oauth_signature="sig%3D"')).toBe('[redacted]');
    expect(redactString('The OAuth state must be the one sent; Bearer tokens expire.')).toBe('The OAuth state must be the one sent; Bearer tokens expire.');
  });
});
