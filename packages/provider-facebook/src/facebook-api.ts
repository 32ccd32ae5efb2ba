import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of every Graph answer the Facebook provider reads. Captured examples live in
 * `src/__fixtures__/`.
 */

/** A Page as `/me/accounts` and a business's `owned_pages`/`client_pages` list it. */
export const facebookPageSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    name: z.string().optional(),
    username: z.string().optional(),
    /** The Page token; absent when the user's role on the Page does not grant one. */
    access_token: z.string().min(1).optional(),
    picture: z.looseObject({ data: z.looseObject({ url: z.string().optional() }).optional() }).optional(),
    /** What the user may do on the Page; publishing needs `CREATE_CONTENT`. */
    tasks: z.array(z.string()).optional(),
  }),
);
export type FacebookPage = z.output<ReturnType<typeof facebookPageSchema>>;

export const facebookBusinessSchema = lazySchema(() => z.looseObject({ id: z.string().min(1), name: z.string().optional() }));

export const facebookPermissionSchema = lazySchema(() => z.looseObject({ permission: z.string(), status: z.string() }));

/** `POST /{page-id}/feed` → `{ id: "<page-id>_<post-id>" }` (+ `permalink_url` when asked for). */
export const facebookFeedAnswerSchema = lazySchema(() => z.looseObject({ id: z.string().min(1), permalink_url: z.string().optional() }));

/** `POST /{page-id}/photos` → `{ id: "<photo-id>", post_id?: "<page-id>_<post-id>" }` (no `post_id` when unpublished). */
export const facebookPhotoAnswerSchema = lazySchema(() => z.looseObject({ id: z.string().min(1), post_id: z.string().optional() }));

/** `POST /{page-id}/videos` → `{ id: "<video-id>" }`. */
export const facebookVideoAnswerSchema = lazySchema(() => z.looseObject({ id: z.string().min(1) }));

/** `POST /{page-id}/video_reels upload_phase=start` → the video id and where its bytes go. */
export const facebookReelStartSchema = lazySchema(() => z.looseObject({ video_id: z.string().min(1), upload_url: z.url() }));

/** `POST /{object-id}/comments` → `{ id }`. */
export const facebookCommentAnswerSchema = lazySchema(() => z.looseObject({ id: z.string().min(1) }));
