import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of every answer the Instagram API with Instagram Login sends the provider
 * (`graph.instagram.com` and `api.instagram.com/oauth/access_token`). Captured examples live in
 * `src/__fixtures__/`; the Graph error body and the long-lived token answer are the family
 * package's (`@letmepost/meta-graph`).
 */

/**
 * The code-exchange answer of `POST api.instagram.com/oauth/access_token`. Not an RFC 6749
 * token response: no `token_type`, no `expires_in`; it carries `user_id` and `permissions`.
 * Meta's reference shows it wrapped in `data[]`; production answers are flat. Both are read, and
 * `permissions` may be a comma-separated string or an array.
 */
/**
 * Graph ids are strings; an answer that sends one as a JSON number may have lost digits already
 * (ids exceed 2^53), so it is informational only: the account id comes from `GET /me`.
 */
const graphIdSchema = lazySchema(() => z.union([z.string().min(1), z.number().nonnegative()]).transform(String));

const instagramShortLivedTokenSchema = lazySchema(() =>
  z.looseObject({
    access_token: z.string().min(1),
    user_id: graphIdSchema(),
    permissions: z.union([z.string(), z.array(z.string())]).optional(),
  }),
);

export const instagramCodeExchangeAnswerSchema = lazySchema(() =>
  z.union([
    instagramShortLivedTokenSchema(),
    z.looseObject({ data: z.tuple([instagramShortLivedTokenSchema()]).rest(instagramShortLivedTokenSchema()) }).transform((answer) => answer.data[0]),
  ]),
);

export type InstagramShortLivedToken = z.output<ReturnType<typeof instagramShortLivedTokenSchema>>;

/** `GET /me?fields=user_id,username,name,profile_picture_url,account_type`. */
export const instagramMeSchema = lazySchema(() =>
  z.looseObject({
    /** The app-scoped id; not the one to publish with. */
    id: z.string().min(1),
    /** The Instagram professional account id: `/{ig-user-id}/media` takes this one. */
    user_id: z.string().regex(/^\d{1,32}$/, 'must be a numeric Graph id'),
    username: z.string().min(1),
    name: z.string().optional(),
    profile_picture_url: z.string().optional(),
    account_type: z.string().optional(),
  }),
);

/** `POST /{ig-user-id}/media`, `POST /{ig-user-id}/media_publish`, `POST /{media-id}/comments`. */
export const instagramIdAnswerSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().regex(/^\d{1,32}$/, 'must be a numeric Graph id'),
  }),
);

/** `GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`. */
export const instagramPublishingLimitSchema = lazySchema(() =>
  z.looseObject({
    data: z.array(
      z.looseObject({
        quota_usage: z.number().int().nonnegative(),
        config: z.looseObject({ quota_total: z.number().int().positive(), quota_duration: z.number().int().positive().optional() }).optional(),
      }),
    ),
  }),
);

/** `GET /{media-id}?fields=permalink,shortcode,media_product_type` (cosmetic: never fails a publish). */
export const instagramPermalinkSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().optional(),
    permalink: z.string().optional(),
    shortcode: z.string().optional(),
    media_product_type: z.string().optional(),
  }),
);

/** `GET /{ig-user-id}/media?fields=id,caption,timestamp,permalink`: the account's latest media. */
export const instagramMediaListSchema = lazySchema(() =>
  z.looseObject({
    data: z.array(
      z.looseObject({
        id: z.string().min(1),
        caption: z.string().optional(),
        timestamp: z.string().optional(),
        permalink: z.string().optional(),
      }),
    ),
  }),
);
