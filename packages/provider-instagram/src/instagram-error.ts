import type { GraphErrorFields } from '@letmepost/meta-graph';
import type { ErrorMapperRule } from '@letmepost/provider-utils';

/** The rule of a `media_publish` refused because its container was not ready (9007 / 2207027). */
export const INSTAGRAM_CONTAINER_NOT_READY_RULE = 'instagram.container.not_ready';

/**
 * Instagram's rows in front of the shared Graph table (`@letmepost/meta-graph`), which maps
 * tokens, throttling, permissions, the publishing limit and the 2207xxx media errors:
 * - 9007 "Media ID is not available" (subcode 2207027) is a container still processing, not a
 *   media failure: `publish` answers `pending` on it, nothing was posted.
 */
export const INSTAGRAM_ERROR_RULES: ReadonlyArray<ErrorMapperRule<GraphErrorFields>> = [
  {
    when: [{ code: 9007 }, { subcode: 2_207_027 }],
    code: 'platform_unavailable',
    retryable: true,
    rule: INSTAGRAM_CONTAINER_NOT_READY_RULE,
    remediation: 'The media is still being processed; resume the publish later.',
  },
];
