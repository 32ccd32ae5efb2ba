import { redactThenShorten } from '@letmepost/core';
import { instagramCodeExchangeAnswerSchema } from './instagram-api.js';

/** Instagram's legacy OAuth error body (`api.instagram.com`), sent instead of RFC 6749's `error`. */
interface LegacyInstagramOAuthError {
  error_type?: unknown;
  code?: unknown;
  error_message?: unknown;
}

/**
 * oauth4webapi `conform` hook for `POST api.instagram.com/oauth/access_token`, declared as a quirk
 * of provider-utils' OAuth client rather than a fork of the flow. The answer is not an RFC 6749
 * token response: it is flat `{ access_token, user_id, permissions }` or wrapped as
 * `{ data: [ … ] }`, has no `token_type` or `expires_in`, and `permissions` is a comma-separated
 * string or an array. It becomes `{ access_token, token_type: 'bearer', scope, user_id }`.
 * Errors come as `{ error_type, code, error_message }` and become `{ error, error_description }`
 * (a refused code is `invalid_grant`, what it is in RFC 6749 terms).
 */
export function conformInstagramTokenAnswer(response: { status: number; body: unknown }): { status: number; body: unknown } {
  const { status, body } = response;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return response;
  const legacy = body as LegacyInstagramOAuthError;
  if (typeof legacy.error_type === 'string' && !('error' in body)) {
    return {
      status: status === 200 ? 400 : status,
      body: {
        error: legacy.error_type === 'OAuthException' ? 'invalid_grant' : 'invalid_request',
        ...(typeof legacy.error_message === 'string' && { error_description: redactThenShorten({ text: legacy.error_message, maxLength: 300 }) }),
      },
    };
  }
  if (status !== 200) return response;
  const parsed = instagramCodeExchangeAnswerSchema().safeParse(body);
  if (!parsed.success) return response;
  const { access_token, user_id, permissions } = parsed.data;
  const scope = Array.isArray(permissions) ? permissions.join(',') : permissions;
  return { status, body: { access_token, token_type: 'bearer', user_id, ...(scope !== undefined && { scope }) } };
}
