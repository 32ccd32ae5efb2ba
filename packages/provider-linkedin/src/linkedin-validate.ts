import type { Post, ValidationIssue } from '@letmepost/core';
import { knownMediaSize } from '@letmepost/provider-utils';
import { isVideo, planLinkedInPost } from './convert-to-linkedin-post.js';
import {
  LINKEDIN_ALT_TEXT_MAX_LENGTH,
  LINKEDIN_IMAGE_MAX_PIXELS,
  LINKEDIN_TEXT_MAX_LENGTH,
  LINKEDIN_VIDEO_MAX_SECONDS,
  LINKEDIN_VIDEO_MIN_BYTES,
  LINKEDIN_VIDEO_MIN_SECONDS,
  type LinkedInPublishOptions,
} from './linkedin-options.js';

/**
 * LinkedIn's own rules, beyond what its declared capabilities say (core checks those: length of
 * the text as given, content required, media counts, types, the video size cap, threads and
 * replies): the text length once a link joins it, alt text length, the video's minimum size and
 * duration, image pixels. Pure, no I/O.
 */
export function validateLinkedInPost(options: { post: Post; options: LinkedInPublishOptions }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  const media = post.media ?? [];

  const plan = planLinkedInPost({ post });
  // String length is UTF-16 code units, which is what LinkedIn counts. Without an inlined link
  // the text is posted as given, which the capability check already measured.
  if (plan.linkInlined && plan.commentary.length > LINKEDIN_TEXT_MAX_LENGTH) {
    issues.push({
      rule: 'linkedin.text.max_length',
      message: `Text plus the link (which joins the text when media is attached) is ${plan.commentary.length} characters; LinkedIn allows ${LINKEDIN_TEXT_MAX_LENGTH}.`,
      field: 'text',
    });
  }

  media.forEach((item, index) => {
    const field = `media.${index}`;
    const video = isVideo(item);
    if (item.altText !== undefined && item.altText.length > LINKEDIN_ALT_TEXT_MAX_LENGTH) {
      issues.push({
        rule: 'linkedin.media.alt_text',
        message: `Alt text is ${item.altText.length} characters; LinkedIn allows ${LINKEDIN_ALT_TEXT_MAX_LENGTH}.`,
        field: `${field}.altText`,
      });
    }
    const size = knownMediaSize(item);
    if (video) {
      if (size !== undefined && size < LINKEDIN_VIDEO_MIN_BYTES) {
        issues.push({
          rule: 'linkedin.media.min_bytes',
          message: `The video is ${size} bytes; LinkedIn accepts 75 KB to 500 MB.`,
          field,
        });
      }
      if (
        item.durationSeconds !== undefined &&
        (item.durationSeconds < LINKEDIN_VIDEO_MIN_SECONDS || item.durationSeconds > LINKEDIN_VIDEO_MAX_SECONDS)
      ) {
        issues.push({
          rule: 'linkedin.media.video_duration',
          message: `The video lasts ${item.durationSeconds} s; LinkedIn accepts 3 s to 30 min.`,
          field: `${field}.durationSeconds`,
        });
      }
    } else if (item.width !== undefined && item.height !== undefined && item.width * item.height >= LINKEDIN_IMAGE_MAX_PIXELS) {
      issues.push({
        rule: 'linkedin.media.image_pixels',
        message: `The image has ${item.width * item.height} pixels; LinkedIn accepts fewer than ${LINKEDIN_IMAGE_MAX_PIXELS}.`,
        field: `${field}.width`,
      });
    }
  });

  return issues;
}
