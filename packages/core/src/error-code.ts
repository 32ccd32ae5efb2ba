/**
 * Stable error codes. Hosts branch on these, the REST API returns them, and every one has a page
 * at `docs/errors/<code>.md`; renaming one is a breaking change.
 */
export const ERROR_CODES = [
  'validation_failed',
  'preflight_failed',
  'app_credentials_missing',
  'plan_feature_not_available',
  'platform_auth_failed',
  'state_invalid',
  'auth_expired',
  'reauth_required',
  'permission_denied',
  'rate_limited',
  'quota_exceeded',
  'launch_cap_reached',
  'duplicate_content',
  'media_invalid',
  'media_unreachable',
  'platform_rejected',
  'platform_unavailable',
  'publish_outcome_unknown',
  'not_supported',
  'not_found',
  'idempotency_conflict',
  'decryption_failed',
  'encryption_key_invalid',
  'store_conflict',
  'store_unavailable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes whose condition may clear by itself, so repeating the same call later can succeed. */
export const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'rate_limited',
  'platform_unavailable',
  'store_conflict',
  'store_unavailable',
]);

export const ERROR_DOCS_BASE_URL = 'https://github.com/letmepost/letmepost/blob/main/docs/errors';

export function errorDocUrl(code: ErrorCode): string {
  return `${ERROR_DOCS_BASE_URL}/${code}.md`;
}
