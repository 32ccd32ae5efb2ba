import type { ProviderCapabilities } from '@letmepost/core';
import { z } from 'zod';

/** Per-target options: what a publish target's `options` may carry for this platform. */
export const templateOptionsSchema = z
  .object({
    visibility: z.enum(['public', 'unlisted', 'private']).optional(),
  })
  .strict();

export type TemplateOptions = z.infer<typeof templateOptionsSchema>;

export const TEMPLATE_TEXT_MAX_LENGTH = 500;

/**
 * What the platform accepts. Core checks every post against it (text length in `unit`, media
 * counts, types and sizes, threads, replies, first comments) before `publish`; `validate` adds
 * only what these fields cannot say.
 */
export const templateCapabilities: ProviderCapabilities = {
  text: { maxLength: TEMPLATE_TEXT_MAX_LENGTH, unit: 'characters', required: false },
  media: {
    maxItems: 0,
    maxImages: 0,
    maxVideos: 0,
    imageMimeTypes: [],
    videoMimeTypes: [],
    mixedImagesAndVideo: false,
    altText: false,
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: false,
  link: 'inline',
  deletePost: true,
  pending: false,
};
