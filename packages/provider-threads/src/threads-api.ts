import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of every Threads API answer the provider reads (graph.threads.net, v1.0). Loose
 * objects: only the fields used are required. Captured examples are in `src/__fixtures__/`.
 */

/** `GET /{version}/me?fields=id,username,name,threads_profile_picture_url`. */
export const threadsProfileSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    username: z.string().min(1).optional(),
    name: z.string().optional(),
    threads_profile_picture_url: z.string().optional(),
  }),
);

/** `POST /{version}/{user-id}/threads` (a container) and `.../threads_publish` (the published post). */
export const threadsIdSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
  }),
);

/** `GET /{version}/{media-id}?fields=id,permalink`: cosmetic, never fails a publish. */
export const threadsPermalinkSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().optional(),
    permalink: z.string().optional(),
  }),
);

const quotaConfigSchema = lazySchema(() =>
  z.looseObject({
    quota_total: z.number().int().nonnegative(),
    quota_duration: z.number().int().positive().optional(),
  }),
);

/** `GET /{version}/{user-id}/threads_publishing_limit?fields=quota_usage,config,reply_quota_usage,reply_config`. */
export const threadsPublishingLimitSchema = lazySchema(() =>
  z.looseObject({
    data: z.array(
      z.looseObject({
        quota_usage: z.number().int().nonnegative().optional(),
        config: quotaConfigSchema().optional(),
        reply_quota_usage: z.number().int().nonnegative().optional(),
        reply_config: quotaConfigSchema().optional(),
      }),
    ),
  }),
);

/** `DELETE /{version}/{media-id}` → `{ success: true, deleted_id }`. */
export const threadsDeleteSchema = lazySchema(() =>
  z.looseObject({
    success: z.boolean(),
    deleted_id: z.string().optional(),
  }),
);
