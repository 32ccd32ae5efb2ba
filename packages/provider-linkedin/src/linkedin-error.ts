import type { LetmepostError } from '@letmepost/core';
import { createErrorMapper, type ErrorMapper, type ErrorMapperRule, type HttpErrorResponse } from '@letmepost/provider-utils';
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
  const parsed = linkedInErrorSchema().safeParse(body);
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

/** The structured facts of a LinkedIn error answer the table matches on. */
type LinkedInErrorFields = {
  serviceErrorCode: number | undefined;
  code: string | undefined;
  /** `errorDetails.inputErrors[].code` */
  inputCodes: readonly string[];
};

function linkedInErrorFields(response: HttpErrorResponse): LinkedInErrorFields {
  const body = parseLinkedInErrorBody(response.body);
  return { serviceErrorCode: body?.serviceErrorCode, code: body?.code, inputCodes: inputErrorCodes(body) };
}

/** The rule id of a refused `LinkedIn-Version`, which hosts fix in settings, not by retrying. */
export const LINKEDIN_VERSION_RULE = 'linkedin.api_version.unsupported';

/**
 * LinkedIn's error table: `serviceErrorCode`, `code` and `errorDetails.inputErrors[].code` first,
 * then the HTTP status; never the prose of `message`. `context` decides what a generic 400/422
 * means (a refused file on an upload call); `apiVersion` is named when LinkedIn refuses it.
 */
function linkedInErrorRules(options: { context: LinkedInErrorContext; apiVersion: string | undefined }): ErrorMapperRule<LinkedInErrorFields>[] {
  const version = options.apiVersion === undefined ? 'the configured LinkedIn-Version' : `LinkedIn-Version ${options.apiVersion}`;
  return [
    {
      when: [{ serviceErrorCode: SERVICE_ERROR.revokedAccessToken }, { code: 'REVOKED_ACCESS_TOKEN' }],
      code: 'reauth_required',
      remediation: 'The member revoked this app’s access on LinkedIn; connect the account again.',
    },
    {
      when: [
        { serviceErrorCode: [SERVICE_ERROR.expiredAccessToken, SERVICE_ERROR.invalidAccessToken] },
        { code: ['EXPIRED_ACCESS_TOKEN', 'INVALID_ACCESS_TOKEN'] },
        { status: 401 },
      ],
      code: 'auth_expired',
      remediation:
        'The access token is expired or invalid. LinkedIn tokens last 60 days; refresh it if the app has programmatic refresh tokens, otherwise reconnect the account.',
    },
    // Real answers carry it in errorDetails.inputErrors; some surfaces put it in `code`.
    {
      when: [{ inputCodes: 'DUPLICATE_POST' }, { code: 'DUPLICATE_POST' }],
      code: 'duplicate_content',
      remediation: 'LinkedIn rejects a post identical to a recent one; change the text.',
    },
    // LinkedIn retires each monthly version after about a year; every call then answers 426.
    {
      when: [{ status: 426 }, { code: ['NONEXISTENT_VERSION', 'VERSION_MISSING'] }],
      code: 'platform_unavailable',
      retryable: false,
      rule: LINKEDIN_VERSION_RULE,
      field: 'settings.apiVersion',
      message: ({ message }) => `${message}. LinkedIn no longer serves ${version}: set the provider's apiVersion setting (LINKEDIN_API_VERSION) to a current YYYYMM release.`,
      remediation: `Set createLinkedIn({ apiVersion }) or LINKEDIN_API_VERSION to a LinkedIn-Version that is still served (a YYYYMM release from the last twelve months); ${version} has been retired.`,
    },
    {
      when: [{ serviceErrorCode: SERVICE_ERROR.accessDenied }, { code: 'ACCESS_DENIED' }, { status: 403 }],
      code: 'permission_denied',
      remediation: 'The token lacks the scope (w_member_social / w_organization_social) or the member lacks a posting role on the organization.',
    },
    {
      when: { status: 429 },
      code: 'rate_limited',
      retryAfter: 'header',
      remediation: 'LinkedIn daily limits reset at midnight UTC; try again later.',
    },
    { when: { status: 404 }, code: 'not_found' },
    { when: { status: [413, 415] }, code: 'media_invalid' },
    { when: { status: '5xx' }, code: 'platform_unavailable' },
    { when: { status: [400, 422] }, code: options.context === 'media' ? 'media_invalid' : 'platform_rejected' },
    { code: 'platform_rejected' },
  ];
}

/** The `mapError` hook of provider-utils' HTTP client for one kind of LinkedIn call. */
export function createLinkedInErrorMapper(options: { context?: LinkedInErrorContext; apiVersion?: string } = {}): ErrorMapper {
  return createErrorMapper({
    platform: 'linkedin',
    fields: linkedInErrorFields,
    message: ({ response }) => describe(parseLinkedInErrorBody(response.body), response.status),
    rules: linkedInErrorRules({ context: options.context ?? 'api', apiVersion: options.apiVersion }),
  });
}

/** Maps one LinkedIn error answer; every answer maps (the table ends with a catch-all row). */
export function mapLinkedInError(options: { response: HttpErrorResponse; context?: LinkedInErrorContext; apiVersion?: string }): LetmepostError {
  return createLinkedInErrorMapper(options)(options.response) as LetmepostError;
}
