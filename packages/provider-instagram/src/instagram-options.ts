import type { ProviderCapabilities } from '@letmepost/core';
import { z } from 'zod';

/**
 * Per-target options. `placement: 'story'` publishes each post as a Story (one image or video,
 * no caption); the default `feed` publishes an image, a carousel (2–10 items) or, for one video,
 * a Reel (Instagram retired the plain `VIDEO` type).
 */
export const instagramOptionsSchema = z
  .object({
    placement: z.enum(['feed', 'story']).optional(),
    /** Reels only: also show the Reel in the profile grid (Instagram's default is true). */
    shareToFeed: z.boolean().optional(),
    /** Reels only: a public JPEG used as the cover. */
    coverUrl: z.url({ protocol: /^https$/ }).optional(),
    /** Reels only: the frame used as the cover, in milliseconds from the start. */
    thumbOffsetMs: z.number().int().nonnegative().optional(),
    /** Usernames invited as collaborators (images and Reels; not carousels). */
    collaborators: z.array(z.string().regex(/^[A-Za-z0-9._]{1,30}$/, 'must be an Instagram username')).max(3).optional(),
    /** A Facebook Page id used as the location. */
    locationId: z.string().regex(/^\d{1,32}$/, 'must be a numeric location (Page) id').optional(),
  })
  .strict();

export type InstagramOptions = z.infer<typeof instagramOptionsSchema>;

export const INSTAGRAM_CAPTION_MAX_LENGTH = 2200;
export const INSTAGRAM_CAROUSEL_MIN_ITEMS = 2;
export const INSTAGRAM_CAROUSEL_MAX_ITEMS = 10;
/** Error subcode 2207004: "less than 8 MiB". */
export const INSTAGRAM_MAX_IMAGE_BYTES = 8 * 1024 * 1024;
export const INSTAGRAM_MAX_REEL_BYTES = 1024 * 1024 * 1024;
export const INSTAGRAM_MAX_STORY_VIDEO_BYTES = 100 * 1024 * 1024;

/**
 * What Instagram accepts through the content publishing API: JPEG images (≤ 8 MiB), MP4/MOV
 * video, up to 10 items mixed in a carousel, alt text on images, a first comment; media is
 * fetched by Instagram from a public URL (`ingest: 'pull'`), so core stages bytes and streams
 * through the host's `mediaStaging`. Captions carry no link preview (`link: 'none'`).
 */
export const instagramCapabilities: ProviderCapabilities = {
  text: { maxLength: INSTAGRAM_CAPTION_MAX_LENGTH, unit: 'characters', required: false },
  media: {
    maxItems: INSTAGRAM_CAROUSEL_MAX_ITEMS,
    maxImages: INSTAGRAM_CAROUSEL_MAX_ITEMS,
    maxVideos: INSTAGRAM_CAROUSEL_MAX_ITEMS,
    imageMimeTypes: ['image/jpeg'],
    videoMimeTypes: ['video/mp4', 'video/quicktime'],
    maxImageBytes: INSTAGRAM_MAX_IMAGE_BYTES,
    maxVideoBytes: INSTAGRAM_MAX_REEL_BYTES,
    mixedImagesAndVideo: true,
    altText: true,
    ingest: 'pull',
  },
  thread: false,
  replyTo: false,
  firstComment: true,
  link: 'none',
  // Instagram Login tokens cannot delete media (the IG-only media node has no DELETE).
  deletePost: false,
  pending: true,
};
