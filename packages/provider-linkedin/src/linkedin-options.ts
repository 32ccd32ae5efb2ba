import type { ProviderCapabilities } from '@letmepost/core';
import { z } from 'zod';
import { linkedInOrganizationIdSchema } from './linkedin-credentials.js';

/** Per-target options of a LinkedIn publish. */
export const linkedInPublishOptionsSchema = z
  .object({
    /**
     * Post as this organization (page) instead of the connected member. The member must hold
     * ADMINISTRATOR, CONTENT_ADMIN or DIRECT_SPONSORED_CONTENT_POSTER on it, and the grant needs
     * `w_organization_social`.
     */
    organizationId: linkedInOrganizationIdSchema.optional(),
    /** Default `PUBLIC`. `CONNECTIONS` only means something for a member author. */
    visibility: z.enum(['PUBLIC', 'CONNECTIONS', 'LOGGED_IN']).optional(),
    /** Title of the link card; the Posts API requires one and does not read the page's own. */
    linkTitle: z.string().trim().min(1).max(400).optional(),
    linkDescription: z.string().trim().min(1).max(4086).optional(),
    /** Title shown with a video. */
    videoTitle: z.string().trim().min(1).max(400).optional(),
    /** Stops others from resharing the post. */
    disableReshare: z.boolean().optional(),
  })
  .strict();

export type LinkedInPublishOptions = z.infer<typeof linkedInPublishOptionsSchema>;

export const LINKEDIN_TEXT_MAX_LENGTH = 3000;
export const LINKEDIN_MULTI_IMAGE_MAX = 20;
export const LINKEDIN_ALT_TEXT_MAX_LENGTH = 4086;
export const LINKEDIN_IMAGE_MAX_PIXELS = 36_152_320;
export const LINKEDIN_VIDEO_MIN_BYTES = 75 * 1000;
export const LINKEDIN_VIDEO_MAX_BYTES = 500 * 1000 * 1000;
export const LINKEDIN_VIDEO_MIN_SECONDS = 3;
export const LINKEDIN_VIDEO_MAX_SECONDS = 30 * 60;
export const LINKEDIN_IMAGE_MIME_TYPES = ['image/jpeg', 'image/png', 'image/gif'] as const;
export const LINKEDIN_VIDEO_MIME_TYPES = ['video/mp4'] as const;

export const linkedInCapabilities: ProviderCapabilities = {
  // LinkedIn's backend counts Java string length, i.e. UTF-16 code units, after `little`
  // escapes are removed ("ShareCommentary text length (N characters) exceeded ... 3000").
  text: { maxLength: LINKEDIN_TEXT_MAX_LENGTH, unit: 'utf16', required: false },
  media: {
    maxItems: LINKEDIN_MULTI_IMAGE_MAX,
    maxImages: LINKEDIN_MULTI_IMAGE_MAX,
    maxVideos: 1,
    imageMimeTypes: LINKEDIN_IMAGE_MIME_TYPES,
    videoMimeTypes: LINKEDIN_VIDEO_MIME_TYPES,
    maxVideoBytes: LINKEDIN_VIDEO_MAX_BYTES,
    mixedImagesAndVideo: false,
    altText: true,
    ingest: 'push',
  },
  thread: false,
  replyTo: false,
  firstComment: true,
  link: 'card',
  deletePost: true,
  pending: true,
};
