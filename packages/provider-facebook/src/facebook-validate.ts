import type { Post, ValidationIssue } from '@letmepost/core';
import { FACEBOOK_REEL_MAX_SECONDS, FACEBOOK_REEL_MIN_SECONDS, type FacebookOptions } from './facebook-options.js';

/**
 * Facebook's own rules beyond its declared capabilities (core checks those under the canonical
 * ids). Pure, no I/O.
 */
export function validateFacebookPost(options: { post: Post; options: FacebookOptions }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  const media = post.media ?? [];
  if (post.text.trim() === '' && post.link === undefined && media.length === 0) {
    issues.push({ rule: 'facebook.post.empty', field: 'text', message: 'A Facebook post needs text, a link or media.' });
  }
  if (options.options.videoFormat === 'reel') {
    const videos = media.filter((item) => item.mimeType.startsWith('video/'));
    if (videos.length !== 1 || media.length !== 1) {
      issues.push({ rule: 'facebook.reel.single_video', field: 'media', message: 'A Reel is exactly one video and nothing else.' });
    }
    media.forEach((item, index) => {
      const seconds = item.durationSeconds;
      if (seconds !== undefined && (seconds < FACEBOOK_REEL_MIN_SECONDS || seconds > FACEBOOK_REEL_MAX_SECONDS)) {
        issues.push({
          rule: 'facebook.reel.duration',
          field: `media.${index}.durationSeconds`,
          message: `A Reel lasts ${FACEBOOK_REEL_MIN_SECONDS}–${FACEBOOK_REEL_MAX_SECONDS} seconds; this video lasts ${seconds}.`,
        });
      }
      // Reels are vertical (9:16); a landscape or square video is refused by Meta after upload.
      if (item.width !== undefined && item.height !== undefined && item.width >= item.height) {
        issues.push({ rule: 'facebook.reel.aspect_ratio', field: `media.${index}`, message: 'A Reel is vertical (9:16); this video is not.' });
      }
    });
  }
  return issues;
}
