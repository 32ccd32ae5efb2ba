import type { Media, Post, ValidationIssue } from '@letmepost/core';
import { isVideo, planLinkedInPost } from './convert-to-linkedin-post.js';
import {
  LINKEDIN_ALT_TEXT_MAX_LENGTH,
  LINKEDIN_IMAGE_MAX_PIXELS,
  LINKEDIN_IMAGE_MIME_TYPES,
  LINKEDIN_MULTI_IMAGE_MAX,
  LINKEDIN_TEXT_MAX_LENGTH,
  LINKEDIN_VIDEO_MAX_BYTES,
  LINKEDIN_VIDEO_MAX_SECONDS,
  LINKEDIN_VIDEO_MIME_TYPES,
  LINKEDIN_VIDEO_MIN_BYTES,
  LINKEDIN_VIDEO_MIN_SECONDS,
  type LinkedInPublishOptions,
} from './linkedin-options.js';

const imageMimeTypes: readonly string[] = LINKEDIN_IMAGE_MIME_TYPES;
const videoMimeTypes: readonly string[] = LINKEDIN_VIDEO_MIME_TYPES;

function knownSize(media: Media): number | undefined {
  if ('data' in media && media.data !== undefined) return media.data.byteLength;
  if ('stream' in media && media.stream !== undefined) return media.size;
  return undefined;
}

/**
 * Pure preflight of a LinkedIn post: every issue, each with a stable rule id. Runs before any
 * network call, for every target of a publish.
 */
export function validateLinkedInPost(options: { post: Post; options: LinkedInPublishOptions }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  const media = post.media ?? [];

  if (post.thread !== undefined && post.thread.length > 0) {
    issues.push({
      rule: 'linkedin.thread.not_supported',
      message: 'LinkedIn has no threads; publish the follow-ups separately or use firstComment.',
      field: 'thread',
    });
  }
  if (post.replyTo !== undefined) {
    issues.push({
      rule: 'linkedin.reply.not_supported',
      message: 'Replying to a post is not supported on LinkedIn.',
      field: 'replyTo',
    });
  }

  const plan = planLinkedInPost({ post });
  // String length is UTF-16 code units, which is what LinkedIn counts.
  if (plan.commentary.length > LINKEDIN_TEXT_MAX_LENGTH) {
    issues.push({
      rule: 'linkedin.text.max_length',
      message: plan.linkInlined
        ? `Text plus the link (which joins the text when media is attached) is ${plan.commentary.length} characters; LinkedIn allows ${LINKEDIN_TEXT_MAX_LENGTH}.`
        : `Text is ${plan.commentary.length} characters; LinkedIn allows ${LINKEDIN_TEXT_MAX_LENGTH}.`,
      field: 'text',
    });
  }
  if (post.text.trim().length === 0 && media.length === 0 && post.link === undefined) {
    issues.push({
      rule: 'linkedin.text.required',
      message: 'A LinkedIn post needs text, a link or media.',
      field: 'text',
    });
  }
  const videos = media.filter((item) => isVideo(item));
  const images = media.filter((item) => !isVideo(item));
  if (videos.length > 0 && images.length > 0) {
    issues.push({
      rule: 'linkedin.media.mixed',
      message: 'A LinkedIn post carries either images or one video, not both.',
      field: 'media',
    });
  }
  if (videos.length > 1) {
    issues.push({
      rule: 'linkedin.media.max_videos',
      message: `A LinkedIn post carries one video; got ${videos.length}.`,
      field: 'media',
    });
  }
  if (images.length > LINKEDIN_MULTI_IMAGE_MAX) {
    issues.push({
      rule: 'linkedin.media.max_images',
      message: `A LinkedIn post carries up to ${LINKEDIN_MULTI_IMAGE_MAX} images; got ${images.length}.`,
      field: 'media',
    });
  }

  media.forEach((item, index) => {
    const field = `media.${index}`;
    const mimeType = item.mimeType.toLowerCase();
    const video = isVideo(item);
    if (!(video ? videoMimeTypes : imageMimeTypes).includes(mimeType)) {
      issues.push({
        rule: 'linkedin.media.unsupported_type',
        message: `${item.mimeType} is not accepted; LinkedIn takes ${[...imageMimeTypes, ...videoMimeTypes].join(', ')}.`,
        field: `${field}.mimeType`,
      });
    }
    if (item.altText !== undefined && item.altText.length > LINKEDIN_ALT_TEXT_MAX_LENGTH) {
      issues.push({
        rule: 'linkedin.media.alt_text_max_length',
        message: `Alt text is ${item.altText.length} characters; LinkedIn allows ${LINKEDIN_ALT_TEXT_MAX_LENGTH}.`,
        field: `${field}.altText`,
      });
    }
    const size = knownSize(item);
    if (video) {
      if (size !== undefined && (size < LINKEDIN_VIDEO_MIN_BYTES || size > LINKEDIN_VIDEO_MAX_BYTES)) {
        issues.push({
          rule: 'linkedin.media.video_size',
          message: `The video is ${size} bytes; LinkedIn accepts 75 KB to 500 MB.`,
          field: `${field}.size`,
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
