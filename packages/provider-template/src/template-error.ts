import { createErrorMapper, type ErrorMapper, type ErrorMapperRule, type HttpErrorResponse } from '@letmepost/provider-utils';
import { redactThenShorten, type Clock } from '@letmepost/core';
import { templateErrorBodySchema } from './template-api.js';

/** The structured fields the table matches on; prose (`error`) only goes into messages. */
type TemplateErrorFields = { code: string | undefined };

function templateErrorFields(response: HttpErrorResponse): TemplateErrorFields {
  const parsed = templateErrorBodySchema().safeParse(response.body);
  return { code: parsed.success ? parsed.data.code : undefined };
}

/**
 * The platform's error table: rows tried in order, first match wins; answers no row claims fall
 * back to provider-utils' status mapping (and its "a failed create may have happened" rule).
 */
const TEMPLATE_ERROR_RULES: readonly ErrorMapperRule<TemplateErrorFields>[] = [
  { when: [{ code: 'token_revoked' }], code: 'reauth_required', remediation: 'Connect the account again.' },
  { when: [{ code: 'token_expired' }, { status: 401 }], code: 'auth_expired', remediation: 'Refresh the access token.' },
  { when: [{ code: 'missing_scope' }, { status: 403 }], code: 'permission_denied', remediation: 'Grant the write:statuses scope.' },
  { when: { code: 'duplicate' }, code: 'duplicate_content', rule: 'mastodon.post.duplicate' },
  { when: { status: 429 }, code: 'rate_limited', retryAfter: 'header-or-reset' },
  { when: { status: 404 }, code: 'not_found' },
  { when: { status: [400, 422] }, code: 'platform_rejected' },
  // Only `inspectSuccess` hands over 2xx answers: an error code there is a refusal.
  { when: { status: (status) => status >= 200 && status < 300 }, code: 'platform_rejected' },
];

export function createTemplateErrorMapper(options: { clock: Clock }): ErrorMapper {
  return createErrorMapper({
    platform: 'mastodon',
    clock: options.clock,
    fields: templateErrorFields,
    message: ({ response, fields }) => {
      const parsed = templateErrorBodySchema().safeParse(response.body);
      const detail = parsed.success && parsed.data.error !== undefined ? `: ${redactThenShorten({ text: parsed.data.error, maxLength: 300 })}` : '';
      return `The platform answered ${response.status}${fields.code === undefined ? '' : ` ${fields.code}`} to ${response.request.method} ${response.request.url}${detail}`;
    },
    rules: TEMPLATE_ERROR_RULES,
  });
}

/**
 * For `inspectSuccess`: the platform sometimes refuses with a 2xx and an error `code` in the body;
 * such an answer is mapped like an error (the post was not created), anything else passes.
 */
export function createTemplateSuccessInspector(options: { clock: Clock }): ErrorMapper {
  const mapper = createTemplateErrorMapper(options);
  return (response) => (templateErrorFields(response).code === undefined ? undefined : mapper(response));
}
