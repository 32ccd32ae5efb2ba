import { redactThenShorten, type Clock, type LetmepostError, type PlatformId } from '@letmepost/core';
import { createErrorMapper, type ErrorMapper, type ErrorMapperRule, type HttpErrorResponse } from '@letmepost/provider-utils';
import { graphErrorBodySchema, graphFlatErrorBodySchema } from './meta-graph-api.js';
import { readGraphUsage } from './meta-graph-usage.js';

/**
 * The structured fields of a Graph error the table matches on. Ranges the table needs
 * (200–299, Instagram's 2207xxx media subcodes) are named here, since a row matches values.
 */
export type GraphErrorFields = {
  code: number | undefined;
  subcode: number | undefined;
  transient: boolean | undefined;
  /** `permission` for codes 200–299 (each a missing permission). */
  codeRange: 'permission' | undefined;
  /** `instagram_media` for subcodes 2207000–2207999 (Instagram's publishing errors). */
  subcodeRange: 'instagram_media' | undefined;
};

export function graphErrorFields(response: Pick<HttpErrorResponse, 'body'>): GraphErrorFields {
  const parsed = graphErrorBodySchema().safeParse(response.body);
  if (!parsed.success) return { code: undefined, subcode: undefined, transient: undefined, codeRange: undefined, subcodeRange: undefined };
  const { code, error_subcode: subcode, is_transient: transient } = parsed.data.error;
  return {
    code,
    subcode,
    transient,
    codeRange: code !== undefined && code >= 200 && code <= 299 ? 'permission' : undefined,
    subcodeRange: subcode !== undefined && subcode >= 2_207_000 && subcode <= 2_207_999 ? 'instagram_media' : undefined,
  };
}

const PLATFORM_NAMES: Partial<Record<PlatformId, string>> = { facebook: 'Facebook', instagram: 'Instagram', threads: 'Threads' };

function graphErrorMessage(options: { platform: PlatformId; response: HttpErrorResponse; fields: GraphErrorFields }): string {
  const { platform, response, fields } = options;
  const name = PLATFORM_NAMES[platform] ?? platform;
  const where = `${response.request.method} ${response.request.url}`;
  const codes = fields.code === undefined ? '' : ` (#${fields.code}${fields.subcode === undefined ? '' : `/${fields.subcode}`})`;
  const graph = graphErrorBodySchema().safeParse(response.body);
  const flat = graphFlatErrorBodySchema().safeParse(response.body);
  const prose = graph.success ? (graph.data.error.error_user_msg ?? graph.data.error.message) : flat.success ? flat.data.error_message : undefined;
  return `${name} answered ${response.status}${codes} to ${where}${prose === undefined ? '.' : `: ${redactThenShorten({ text: prose, maxLength: 300 })}`}`;
}

/** Graph's throttling codes: app (4), user (17), Page (32), custom (613), app limit (341), BUC (80001–80014). */
const THROTTLING_CODES = [4, 17, 32, 341, 613, ...Array.from({ length: 14 }, (_, index) => 80_001 + index)];
/** Instagram's 2207xxx subcodes that are the platform's own failure, worth a retry. */
const TRANSIENT_SUBCODES = [1_363_047, 1_609_010, 2_207_001, 2_207_032, 2_207_053];
/** Instagram's policy refusals inside the 2207xxx range (restricted user, blocked as spam). */
const POLICY_MEDIA_SUBCODES = [2_207_050, 2_207_051];

/**
 * The Graph error table shared by Facebook, Instagram and Threads, from the fact sheets (Handling
 * Errors guide, Instagram Error Codes). Rows are tried in order; answers no row claims fall back
 * to provider-utils' status mapping. Rule ids carry the platform (`instagram.publish.limit_reached`).
 */
export function graphErrorRules(options: { platform: PlatformId }): ReadonlyArray<ErrorMapperRule<GraphErrorFields>> {
  const { platform } = options;
  return [
    {
      when: [{ subcode: 2_207_042 }, { code: 9, subcodeRange: 'instagram_media' }],
      code: 'quota_exceeded',
      rule: `${platform}.publish.limit_reached`,
      remediation: 'The account reached its 24-hour publishing limit; publish again once the oldest post of the window is a day old.',
    },
    {
      when: { code: 190, subcode: [458, 459, 460, 464, 467, 492] },
      code: 'reauth_required',
      remediation: 'The user removed the app, changed their password or must act on the platform; connect the account again.',
    },
    { when: [{ code: [190, 102] }], code: 'auth_expired', remediation: 'Refresh the token, or connect the account again when it cannot be refreshed.' },
    {
      when: [{ code: THROTTLING_CODES }, { subcode: 1_390_008 }],
      code: 'rate_limited',
      retryAfter: 'header',
      remediation: 'Wait for the usage window to recover (X-Business-Use-Case-Usage says how long).',
    },
    { when: [{ code: [1, 2] }, { subcode: TRANSIENT_SUBCODES }, { transient: true }], code: 'platform_unavailable', retryable: true },
    { when: [{ code: 506 }, { subcode: 1_366_051 }], code: 'duplicate_content', rule: `${platform}.post.duplicate` },
    {
      when: [{ code: 10 }, { codeRange: 'permission' }, { subcode: [1_404_078, 4_854_002, ...POLICY_MEDIA_SUBCODES] }],
      code: 'permission_denied',
      remediation: 'Check the permissions granted at login and the account’s role; some need App Review (Advanced Access).',
    },
    { when: [{ code: 368 }, { subcode: [1_346_003, 1_404_102] }], code: 'platform_rejected', rule: `${platform}.policy.blocked` },
    {
      when: [
        { code: [9004, 352, 6000, 6001, 36_000, 36_001, 36_003] },
        { subcode: [1_366_046, 2_069_019, 1_609_005, 2_061_006, 1_609_008] },
        { subcodeRange: 'instagram_media' },
      ],
      code: 'media_invalid',
      remediation: 'Check that the media URL is public and the file meets the platform’s format, size and aspect-ratio limits.',
    },
    { when: [{ code: 803 }, { code: 100, subcode: 33 }], code: 'not_found' },
    // Only `inspectSuccess` hands over 2xx answers, and only with an `error` object: a refusal.
    { when: { status: (status) => status >= 200 && status < 300 }, code: 'platform_rejected' },
  ];
}

export interface CreateGraphErrorMapperOptions {
  platform: PlatformId;
  clock?: Clock;
  /** A member's own rows (Threads' publishing limit), tried before the shared table. */
  rules?: ReadonlyArray<ErrorMapperRule<GraphErrorFields>>;
}

/**
 * `mapError` for a Graph host. The wait of a throttled answer comes from the usage headers
 * (`estimated_time_to_regain_access`), which Graph sends instead of `Retry-After`.
 */
export function createGraphErrorMapper(options: CreateGraphErrorMapperOptions): ErrorMapper {
  const { platform } = options;
  const mapper = createErrorMapper<GraphErrorFields>({
    platform,
    ...(options.clock !== undefined && { clock: options.clock }),
    fields: graphErrorFields,
    message: ({ response, fields }) => graphErrorMessage({ platform, response, fields }),
    rules: [...(options.rules ?? []), ...graphErrorRules({ platform })],
  });
  return (response) => {
    const usage = readGraphUsage({ headers: response.headers });
    if (response.rateLimit.retryAfterMs !== undefined || usage.retryAfterMs === undefined) return mapper(response);
    return mapper({ ...response, rateLimit: { ...response.rateLimit, retryAfterMs: usage.retryAfterMs } });
  };
}

/**
 * `inspectSuccess` for a Graph host: a 2xx answer with an `error` object did not take effect and
 * is mapped like an error answer; anything else passes.
 */
export function createGraphSuccessInspector(options: CreateGraphErrorMapperOptions): ErrorMapper {
  const mapper = createGraphErrorMapper(options);
  return (response): LetmepostError | undefined => (graphErrorBodySchema().safeParse(response.body).success ? mapper(response) : undefined);
}
