import type { ProviderCapabilities } from '@letmepost/core';
import { z } from 'zod';

/** Per-target options. */
export const facebookOptionsSchema = z
  .object({
    /** How a single video goes out: a Page video (default) or a Reel (3–90 s, 9:16). */
    videoFormat: z.enum(['video', 'reel']).optional(),
  })
  .strict();

export type FacebookOptions = z.infer<typeof facebookOptionsSchema>;

/** `message`: the long-standing limit (fact sheet § Limits). */
export const FACEBOOK_TEXT_MAX_LENGTH = 63_206;
/** Photos uploaded as bytes must stay under 4 MB (subcode 1366046); URLs are fetched by Meta. */
export const FACEBOOK_MAX_IMAGE_BYTES = 4 * 1024 * 1024;
/** A non-resumable Page video upload takes up to 1 GB. */
export const FACEBOOK_MAX_VIDEO_BYTES = 1024 * 1024 * 1024;
/** Photos in one multi-photo post (commonly cited; Meta documents no number). */
export const FACEBOOK_MAX_PHOTOS = 10;
/** Reels: 3–90 seconds (Reels Publishing API). */
export const FACEBOOK_REEL_MIN_SECONDS = 3;
export const FACEBOOK_REEL_MAX_SECONDS = 90;

export const facebookCapabilities: ProviderCapabilities = {
  text: { maxLength: FACEBOOK_TEXT_MAX_LENGTH, unit: 'characters', required: false },
  media: {
    maxItems: FACEBOOK_MAX_PHOTOS,
    maxImages: FACEBOOK_MAX_PHOTOS,
    maxVideos: 1,
    imageMimeTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/bmp', 'image/tiff'],
    videoMimeTypes: ['video/mp4', 'video/quicktime'],
    maxImageBytes: FACEBOOK_MAX_IMAGE_BYTES,
    maxVideoBytes: FACEBOOK_MAX_VIDEO_BYTES,
    mixedImagesAndVideo: false,
    altText: true,
    // Bytes and streams are uploaded by us; URLs are handed to Meta to fetch.
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: true,
  link: 'card',
  deletePost: true,
  pending: false,
};
