import { isPlainObject, lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * Wire shapes of the X API v2 calls this provider makes, as documented in X's OpenAPI
 * (`api.x.com/2/openapi.json`, v2.167). Responses are parsed leniently (unknown fields are
 * dropped, only what we use is required); request bodies are typed to the spec exactly, and the
 * contract test validates the ones we send against the OpenAPI schemas.
 */

const postIdSchema = lazySchema(() => z.string().regex(/^[0-9]{1,19}$/, 'must be a numeric X post id'));
const mediaIdSchema = lazySchema(() => z.string().regex(/^[0-9]{1,19}$/, 'must be a numeric X media id'));

/** An RFC 7807-style problem, as X returns them alone or inside `errors[]`. */
export const twitterProblemSchema = lazySchema(() =>
  z.object({
    type: z.string().optional(),
    title: z.string().optional(),
    detail: z.string().optional(),
    status: z.number().optional(),
    reason: z.string().optional(),
  }),
);

export type TwitterProblem = z.infer<ReturnType<typeof twitterProblemSchema>>;

export const twitterErrorBodySchema = lazySchema(() =>
  twitterProblemSchema().extend({
    errors: z
      .array(
        z.object({
          type: z.string().optional(),
          title: z.string().optional(),
          detail: z.string().optional(),
          message: z.string().optional(),
          code: z.number().optional(),
        }),
      )
      .optional(),
  }),
);

// ---- users ------------------------------------------------------------------------------------

export const twitterUserSchema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    name: z.string(),
    username: z.string().min(1),
    profile_image_url: z.string().optional(),
    verified: z.boolean().optional(),
    verified_type: z.string().optional(),
    subscription_type: z.string().optional(),
  }),
);

export type TwitterUser = z.infer<ReturnType<typeof twitterUserSchema>>;

/** `GET /2/users/me` */
export const twitterUsersMeResponseSchema = lazySchema(() => z.object({ data: twitterUserSchema() }));

export const TWITTER_USER_FIELDS = 'profile_image_url,verified,verified_type,subscription_type';

// ---- posts ------------------------------------------------------------------------------------

/** `POST /2/tweets` body (`CreatePostsRequest`, additionalProperties: false). */
export interface TwitterCreatePostRequest {
  text: string;
  media?: { media_ids: string[] };
  reply?: { in_reply_to_tweet_id: string };
  reply_settings?: TwitterReplySettings;
  made_with_ai?: boolean;
  paid_partnership?: boolean;
}

export const TWITTER_REPLY_SETTINGS = ['following', 'mentionedUsers', 'subscribers', 'verified'] as const;
export type TwitterReplySettings = (typeof TWITTER_REPLY_SETTINGS)[number];

/** `POST /2/tweets` 201 answer. */
export const twitterCreatePostResponseSchema = lazySchema(() =>
  z.object({
    data: z.object({
      id: postIdSchema(),
      text: z.string(),
      edit_history_post_ids: z.array(z.string()).optional(),
    }),
  }),
);

export type TwitterCreatePostResponse = z.infer<ReturnType<typeof twitterCreatePostResponseSchema>>;

const POST_ID = /^[0-9]{1,19}$/;

/**
 * `twitterCreatePostResponseSchema` for the answer every create gets, without zod's general code
 * (which, run cold as a server that publishes now and then runs it, costs more than the rest of
 * reading the answer): the same stripped copy, or `undefined` for anything else, which the schema
 * then decides. `twitter-api.test.ts` compares both on generated answers.
 */
export function quickTwitterCreatePostResponse(value: unknown): TwitterCreatePostResponse | undefined {
  if (!isPlainObject(value) || !isPlainObject(value.data)) return undefined;
  const { id, text, edit_history_post_ids: history } = value.data;
  if (typeof id !== 'string' || !POST_ID.test(id) || typeof text !== 'string') return undefined;
  if (history === undefined) return Object.hasOwn(value.data, 'edit_history_post_ids') ? undefined : { data: { id, text } };
  if (!Array.isArray(history)) return undefined;
  const ids: string[] = [];
  for (let index = 0; index < history.length; index += 1) {
    const entry: unknown = history[index];
    if (typeof entry !== 'string') return undefined;
    ids.push(entry);
  }
  return { data: { id, text, edit_history_post_ids: ids } };
}

/** `DELETE /2/tweets/{id}` answer. */
export const twitterDeletePostResponseSchema = lazySchema(() =>
  z.object({
    data: z.object({ deleted: z.boolean() }),
  }),
);

// ---- media ------------------------------------------------------------------------------------

export const TWITTER_MEDIA_CATEGORIES = ['tweet_image', 'tweet_gif', 'tweet_video'] as const;
export type TwitterMediaCategory = (typeof TWITTER_MEDIA_CATEGORIES)[number];

/** `POST /2/media/upload/initialize` body (`InitializeMediaUploadRequest`). */
export interface TwitterInitializeUploadRequest {
  media_type: string;
  total_bytes: number;
  media_category: TwitterMediaCategory;
}

/** `POST /2/media/metadata` body (`CreateMediaMetadataRequest`). */
export interface TwitterMediaMetadataRequest {
  id: string;
  metadata: { alt_text: { text: string } };
}

export const twitterProcessingInfoSchema = lazySchema(() =>
  z.object({
    // `pending`, `in_progress`, `succeeded` or `failed`; the spec types it as a plain string, so an
    // unknown future state is read as "not done yet" rather than as a malformed answer.
    state: z.string(),
    check_after_secs: z.number().optional(),
    progress_percent: z.number().optional(),
    // Not in the OpenAPI schema, but sent with `failed` (code, name, message), as in v1.1.
    error: z
      .object({ code: z.number().optional(), name: z.string().optional(), message: z.string().optional() })
      .optional(),
  }),
);

export type TwitterProcessingInfo = z.infer<ReturnType<typeof twitterProcessingInfoSchema>>;

const mediaDataSchema = lazySchema(() =>
  z.object({
    id: mediaIdSchema(),
    media_key: z.string().optional(),
    size: z.number().optional(),
    expires_after_secs: z.number().optional(),
    processing_info: twitterProcessingInfoSchema().optional(),
  }),
);

/** Answer of simple upload, INITIALIZE, FINALIZE and STATUS: `{ data: { id, ... } }`. */
export const twitterMediaResponseSchema = lazySchema(() => z.object({ data: mediaDataSchema() }));

export type TwitterMediaData = z.infer<ReturnType<typeof mediaDataSchema>>;

