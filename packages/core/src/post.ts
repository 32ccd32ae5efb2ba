import { z } from 'zod';

/**
 * A piece of media to attach. Exactly one source: a URL the platform or we fetch, bytes in
 * memory, or a stream with its size (platforms need the total length up front for chunked
 * uploads, so a stream without `size` is rejected).
 */
export type MediaSource =
  | { url: string; data?: never; stream?: never }
  | { data: Uint8Array; url?: never; stream?: never }
  | { stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; size: number; url?: never; data?: never };

export type Media = MediaSource & {
  mimeType: string;
  altText?: string;
  /** Original file name, used by platforms that want one in multipart uploads. */
  fileName?: string;
  /** Pixel size, when the host knows it; used for aspect ratios (Bluesky) and preflight. */
  width?: number;
  height?: number;
  /** Seconds, for video preflight. */
  durationSeconds?: number;
};

export interface PostItem {
  text: string;
  link?: string;
  media?: Media[];
}

export interface Post extends PostItem {
  /** Replies chained after the first item, in order. */
  thread?: PostItem[];
  /** Platform post id (or URL/URI where the platform needs one) this post replies to. */
  replyTo?: string;
  /** Posted as a reply/comment on the new post right after it is created. */
  firstComment?: string;
}

const isReadable = (value: unknown): boolean =>
  value != null &&
  typeof value === 'object' &&
  (typeof (value as ReadableStream).getReader === 'function' ||
    typeof (value as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function');

const mediaCommon = {
  mimeType: z
    .string()
    .regex(/^[a-z]+\/[a-z0-9.+-]+$/i, 'must be a MIME type such as image/png'),
  altText: z.string().max(5000).optional(),
  fileName: z.string().max(255).optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  durationSeconds: z.number().positive().optional(),
};

export const mediaSchema = z.union([
  z.object({ url: z.url({ protocol: /^https?$/ }), ...mediaCommon }).strict(),
  z.object({ data: z.instanceof(Uint8Array), ...mediaCommon }).strict(),
  z
    .object({
      stream: z.custom<ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>>(isReadable, {
        message: 'must be a ReadableStream or async iterable of Uint8Array',
      }),
      size: z.number().int().nonnegative(),
      ...mediaCommon,
    })
    .strict(),
]) as unknown as z.ZodType<Media>;

export const postItemSchema = z.object({
  text: z.string(),
  link: z.url({ protocol: /^https?$/ }).optional(),
  media: z.array(mediaSchema).optional(),
});

export const postSchema: z.ZodType<Post> = postItemSchema.extend({
  thread: z.array(postItemSchema).optional(),
  replyTo: z.string().min(1).optional(),
  firstComment: z.string().min(1).optional(),
}) as unknown as z.ZodType<Post>;

/** All items of a post in publish order: the root, then the thread replies. */
export function postItems(post: Post): PostItem[] {
  const root: PostItem = { text: post.text, link: post.link, media: post.media };
  const { thread } = post;
  return thread === undefined || thread.length === 0 ? [root] : [root, ...thread];
}
