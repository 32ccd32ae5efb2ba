import { LetmepostError, type ErrorCode } from '@letmepost/core';
import type { HttpErrorResponse } from '@letmepost/provider-utils';
import { linkedInErrorSchema, type LinkedInErrorBody } from './linkedin-api.js';

/**
 * LinkedIn's `serviceErrorCode`s for tokens. 65600 INVALID_ACCESS_TOKEN, 65601
 * REVOKED_ACCESS_TOKEN, 65602 EXPIRED_ACCESS_TOKEN; 100 is ACCESS_DENIED (missing scope or role).
 */
const SERVICE_ERROR = {
  invalidAccessToken: 65600,
  revokedAccessToken: 65601,
  expiredAccessToken: 65602,
  accessDenied: 100,
} as const;

/** Where the failing call happened; decides what a generic 400/422 means. */
export type LinkedInErrorContext = 'api' | 'media';

export function parseLinkedInErrorBody(body: unknown): LinkedInErrorBody | undefined {
  const parsed = linkedInErrorSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

function inputErrorCodes(body: LinkedInErrorBody | undefined): string[] {
  return (body?.errorDetails?.inputErrors ?? []).flatMap((item) => (item.code === undefined ? [] : [item.code]));
}

function describe(body: LinkedInErrorBody | undefined, status: number): string {
  const parts = [`LinkedIn answered ${status}`];
  if (body?.code !== undefined) parts.push(body.code);
  if (body?.serviceErrorCode !== undefined) parts.push(`serviceErrorCode ${body.serviceErrorCode}`);
  const codes = inputErrorCodes(body);
  if (codes.length > 0) parts.push(codes.join(', '));
  const head = parts.join(' ');
  return body?.message !== undefined ? `${head}: ${body.message}` : head;
}

/**
 * Turns a LinkedIn error answer into a LetmepostError from its structured fields
 * (`serviceErrorCode`, `code`, `errorDetails.inputErrors[].code`, then the HTTP status), never
 * from the prose of `message`.
 */
export function mapLinkedInError(options: {
  response: HttpErrorResponse;
  context?: LinkedInErrorContext;
}): LetmepostError {
  const { response } = options;
  const context = options.context ?? 'api';
  const body = parseLinkedInErrorBody(response.body);
  const status = response.status;
  const serviceErrorCode = body?.serviceErrorCode;
  const code = body?.code;
  const inputCodes = inputErrorCodes(body);
  const message = describe(body, status);

  const error = (errorCode: ErrorCode, extra: { remediation?: string; retryable?: boolean; retryAfterMs?: number } = {}) =>
    new LetmepostError({
      code: errorCode,
      message,
      platform: 'linkedin',
      status,
      platformResponse: response.body,
      ...extra,
    });

  if (serviceErrorCode === SERVICE_ERROR.revokedAccessToken || code === 'REVOKED_ACCESS_TOKEN') {
    return error('reauth_required', {
      remediation: 'The member revoked this app’s access on LinkedIn; connect the account again.',
    });
  }
  if (
    serviceErrorCode === SERVICE_ERROR.expiredAccessToken ||
    serviceErrorCode === SERVICE_ERROR.invalidAccessToken ||
    code === 'EXPIRED_ACCESS_TOKEN' ||
    code === 'INVALID_ACCESS_TOKEN' ||
    status === 401
  ) {
    return error('auth_expired', {
      remediation:
        'The access token is expired or invalid. LinkedIn tokens last 60 days; refresh it if the app has programmatic refresh tokens, otherwise reconnect the account.',
    });
  }
  // Real answers carry it in errorDetails.inputErrors; some surfaces put it in `code`.
  if (inputCodes.includes('DUPLICATE_POST') || code === 'DUPLICATE_POST') {
    return error('duplicate_content', {
      remediation: 'LinkedIn rejects a post identical to a recent one; change the text.',
    });
  }
  if (status === 426 || code === 'NONEXISTENT_VERSION' || code === 'VERSION_MISSING') {
    return error('platform_unavailable', {
      retryable: false,
      remediation:
        'The pinned LinkedIn-Version is no longer served; set the provider’s apiVersion to a supported YYYYMM release.',
    });
  }
  if (serviceErrorCode === SERVICE_ERROR.accessDenied || code === 'ACCESS_DENIED' || status === 403) {
    return error('permission_denied', {
      remediation:
        'The token lacks the scope (w_member_social / w_organization_social) or the member lacks a posting role on the organization.',
    });
  }
  if (status === 429) {
    return error('rate_limited', {
      ...(response.rateLimit.retryAfterMs !== undefined ? { retryAfterMs: response.rateLimit.retryAfterMs } : {}),
      remediation: 'LinkedIn daily limits reset at midnight UTC; try again later.',
    });
  }
  if (status === 404) return error('not_found');
  if (status === 413 || status === 415) return error('media_invalid');
  if (status >= 500) return error('platform_unavailable');
  if (status === 400 || status === 422) return error(context === 'media' ? 'media_invalid' : 'platform_rejected');
  return error('platform_rejected');
}

/** The `mapError` hook for provider-utils' HTTP client. */
export function linkedInErrorMapper(options: { context?: LinkedInErrorContext } = {}) {
  return (response: HttpErrorResponse): LetmepostError => mapLinkedInError({ response, context: options.context });
}
