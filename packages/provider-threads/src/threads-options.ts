import type { ProviderCapabilities } from '@letmepost/core';
import { z } from 'zod';

export const THREADS_REPLY_CONTROLS = ['everyone', 'accounts_you_follow', 'mentioned_only', 'parent_post_author_only', 'followers_only'] as const;

/** Per-target options: who may reply, and the post's topic tag. */
export const threadsOptionsSchema = z
  .object({
    /** `reply_control` of every post this publish creates. */
    replyControl: z.enum(THREADS_REPLY_CONTROLS).optional(),
    /** `topic_tag` of the first post: 1 to 50 characters, without `.` or `&`. */
    topicTag: z
      .string()
      .min(1)
      .max(50)
      .regex(/^[^.&]+$/, 'must not contain "." or "&"')
      .optional(),
  })
  .strict();

export type ThreadsOptions = z.infer<typeof threadsOptionsSchema>;

/** Text limit of a post; emojis count as their UTF-8 bytes (see `threadsTextLength`). */
export const THREADS_TEXT_MAX_LENGTH = 500;
/** Carousel size; a post with 2 to 20 media becomes a carousel. */
export const THREADS_CAROUSEL_MIN_ITEMS = 2;
export const THREADS_CAROUSEL_MAX_ITEMS = 20;
export const THREADS_MAX_LINKS = 5;
export const THREADS_ALT_TEXT_MAX_LENGTH = 1000;

/**
 * What Threads accepts. Media is pulled by Threads from a public URL (`ingest: 'pull'`): bytes and
 * streams reach it through the host's `mediaStaging`. Code points are the closest canonical unit
 * (every code point counts at least one); `validate` re-checks with the emoji byte rule.
 */
export const threadsCapabilities: ProviderCapabilities = {
  text: { maxLength: THREADS_TEXT_MAX_LENGTH, unit: 'characters', required: false },
  media: {
    maxItems: THREADS_CAROUSEL_MAX_ITEMS,
    maxImages: THREADS_CAROUSEL_MAX_ITEMS,
    maxVideos: THREADS_CAROUSEL_MAX_ITEMS,
    imageMimeTypes: ['image/jpeg', 'image/png'],
    videoMimeTypes: ['video/mp4', 'video/quicktime'],
    maxImageBytes: 8 * 1024 * 1024,
    maxVideoBytes: 1024 * 1024 * 1024,
    mixedImagesAndVideo: true,
    altText: true,
    ingest: 'pull',
  },
  thread: true,
  replyTo: true,
  firstComment: true,
  link: 'card',
  deletePost: true,
  pending: true,
};
