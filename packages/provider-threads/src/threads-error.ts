import type { GraphErrorFields } from '@letmepost/meta-graph';
import type { ErrorMapperRule } from '@letmepost/provider-utils';

/**
 * Threads' own rows, tried before the family's Graph table (`graphErrorRules`), which maps the
 * codes Threads shares with Graph (190, 4/17/613, 10/200-299, 1/2, 100/33).
 */
export const THREADS_ERROR_RULES: ReadonlyArray<ErrorMapperRule<GraphErrorFields>> = [
  {
    // "The requested resource does not exist" at threads_publish: the container is not ready to
    // be published yet (reported when publishing right after creating it). Nothing was published.
    when: { code: 24, subcode: 4_279_009 },
    code: 'platform_unavailable',
    retryable: true,
    rule: 'threads.container.not_ready',
    remediation: 'Publish again in a few seconds; the container is still being processed.',
  },
];
