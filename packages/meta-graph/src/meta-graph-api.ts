import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of the Graph answers the family reads, shared by Facebook, Instagram and Threads.
 * Loose objects: Graph adds fields freely, and only the ones named here are relied on. Each is a
 * `lazySchema` (`graphSuccessSchema().parse(answer)`): they are the family's plumbing, not schemas
 * hosts use, and building them at import would cost every host's cold start.
 */

/** The error object Graph sends in non-2xx answers and, for some calls, in 2xx ones. */
export const graphErrorObjectSchema = lazySchema(() =>
  z.looseObject({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.coerce.number().int().optional(),
    error_subcode: z.coerce.number().int().optional(),
    is_transient: z.boolean().optional(),
    error_user_title: z.string().optional(),
    error_user_msg: z.string().optional(),
    fbtrace_id: z.string().optional(),
  }),
);

export const graphErrorBodySchema = lazySchema(() => z.looseObject({ error: graphErrorObjectSchema() }));

/**
 * The OAuth endpoints of Threads (and some of Instagram's) answer errors flat:
 * `{ "error_type": "OAuthException", "code": 400, "error_message": "…" }`.
 */
export const graphFlatErrorBodySchema = lazySchema(() =>
  z.looseObject({
    error_type: z.string(),
    code: z.coerce.number().int().optional(),
    error_message: z.string().optional(),
  }),
);

/** `expires_in` arrives as a number, sometimes as a numeric string, sometimes not at all. */
const secondsSchema = lazySchema(() => z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]));

/** What the long-lived swaps and refreshes answer (`fb_exchange_token`, `ig_refresh_token`, …). */
export const graphTokenAnswerSchema = lazySchema(() =>
  z.looseObject({
    access_token: z.string().min(1),
    token_type: z.string().optional(),
    expires_in: secondsSchema().optional(),
    /** Instagram and Threads name the user the token belongs to. */
    user_id: z.union([z.string(), z.number()]).optional(),
    permissions: z.union([z.string(), z.array(z.string())]).optional(),
  }),
);
export type GraphTokenAnswer = z.output<ReturnType<typeof graphTokenAnswerSchema>>;

export const GRAPH_CONTAINER_STATUSES = ['IN_PROGRESS', 'FINISHED', 'ERROR', 'EXPIRED', 'PUBLISHED'] as const;
export type GraphContainerStatus = (typeof GRAPH_CONTAINER_STATUSES)[number];

/** `{ data: [...], paging: { next } }`: every Graph edge listing. */
export function graphEdgePageSchema<ITEM extends z.ZodType>(item: ITEM) {
  return z.looseObject({
    data: z.array(item),
    paging: z
      .looseObject({
        next: z.string().optional(),
        cursors: z.looseObject({ after: z.string().optional() }).optional(),
      })
      .optional(),
  });
}

/** `{ "success": true }`: deletes and Reels finish. */
export const graphSuccessSchema = lazySchema(() => z.looseObject({ success: z.boolean() }));
