import type { Media, Post, ValidationIssue } from '@letmepost/core';
import { knownMediaSize } from '@letmepost/core/internal';
import { isBlockedAddress, isIpLiteral } from '@letmepost/provider-utils';
import { instagramCapabilities, INSTAGRAM_MAX_STORY_VIDEO_BYTES, type InstagramOptions } from './instagram-options.js';

/** Aspect ratios Instagram accepts for feed and carousel images (error 36003 / 2207009). */
export const INSTAGRAM_MIN_IMAGE_ASPECT_RATIO = 4 / 5;
export const INSTAGRAM_MAX_IMAGE_ASPECT_RATIO = 1.91;
export const INSTAGRAM_MIN_VIDEO_SECONDS = 3;
export const INSTAGRAM_MAX_REEL_SECONDS = 15 * 60;
export const INSTAGRAM_MAX_STORY_VIDEO_SECONDS = 60;

/** What a publish makes of a post: Instagram decides the container type from it. */
export type InstagramShape = 'image' | 'reel' | 'carousel' | 'story';

export function isInstagramVideo(media: Media): boolean {
  return instagramCapabilities.media.videoMimeTypes.includes(media.mimeType.toLowerCase());
}

export function instagramShapeOf(options: { post: Post; options: InstagramOptions }): InstagramShape {
  const media = options.post.media ?? [];
  if (options.options.placement === 'story') return 'story';
  if (media.length > 1) return 'carousel';
  return media[0] !== undefined && isInstagramVideo(media[0]) ? 'reel' : 'image';
}

/**
 * Host names no crawler on the internet can reach: Instagram fetches media itself ("We cURL
 * media used in publishing attempts"), so such a URL fails late with error 9004 after the
 * container was made. Literal addresses are judged by provider-utils' blocked-address list.
 */
export function isPrivateMediaHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (isIpLiteral(host)) return isBlockedAddress(host);
  return host === 'localhost' || /\.(localhost|local|internal|lan|home\.arpa|test|invalid)$/.test(host) || !host.includes('.');
}

/**
 * The rules Instagram enforces late (after a container was made, or at `media_publish`) that the
 * declared capabilities cannot say. Pure, no I/O (the DNS side of "is this URL public" runs in
 * `publish`, before the first container).
 */
export function validateInstagramPost(options: { post: Post; options: InstagramOptions; allowPrivateMediaUrls: boolean }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  const media = post.media ?? [];
  const shape = instagramShapeOf({ post, options: options.options });

  if (media.length === 0) {
    issues.push({ rule: 'instagram.media.required', field: 'media', message: 'An Instagram post needs an image or a video; text alone cannot be published.' });
  }
  if (post.link !== undefined) {
    issues.push({ rule: 'instagram.link.unsupported', field: 'link', message: 'Instagram captions show no link preview and links in them are not clickable; put the URL in the text if it should appear.' });
  }

  if (shape === 'story') {
    if (media.length > 1) issues.push({ rule: 'instagram.media.max_items', field: 'media', message: `A Story takes one image or video; ${media.length} were attached.` });
    if (post.text.trim() !== '') issues.push({ rule: 'instagram.story.caption', field: 'text', message: 'Stories published through the API carry no caption; leave the text empty.' });
    if (post.firstComment !== undefined) issues.push({ rule: 'instagram.first_comment.unsupported', field: 'firstComment', message: 'Stories take no comments from the API.' });
  }

  const reelOnly = (['coverUrl', 'thumbOffsetMs', 'shareToFeed'] as const).filter((name) => options.options[name] !== undefined);
  if (shape !== 'reel' && reelOnly.length > 0) {
    issues.push({ rule: 'instagram.options.reel_only', field: `options.${reelOnly[0]}`, message: `${reelOnly.join(', ')} apply to Reels only (one video in the feed).` });
  }
  if ((shape === 'carousel' || shape === 'story') && options.options.collaborators !== undefined) {
    issues.push({ rule: 'instagram.options.collaborators', field: 'options.collaborators', message: 'Collaborators can be invited on single images and Reels, not on carousels or Stories.' });
  }

  media.forEach((item, index) => {
    const field = `media.${index}`;
    const video = isInstagramVideo(item);
    if (item.url !== undefined && !options.allowPrivateMediaUrls) {
      const url = new URL(item.url);
      if (url.protocol !== 'https:' || isPrivateMediaHost(url.hostname)) {
        issues.push({
          rule: 'instagram.media.url_not_public',
          field: `${field}.url`,
          message: `Instagram fetches media itself from a public HTTPS URL; ${url.protocol === 'https:' ? `${url.hostname} is not reachable from the internet` : 'this URL is not HTTPS'} (Instagram would fail with error 9004 after the container was made).`,
        });
      }
    }
    if (video && item.altText !== undefined) {
      issues.push({ rule: 'instagram.media.alt_text', field: `${field}.altText`, message: 'Instagram takes alt text on images only.' });
    }
    if (shape === 'story' && item.altText !== undefined && !video) {
      issues.push({ rule: 'instagram.media.alt_text', field: `${field}.altText`, message: 'Stories take no alt text.' });
    }
    if (!video && shape !== 'story' && item.width !== undefined && item.height !== undefined) {
      const ratio = item.width / item.height;
      if (ratio < INSTAGRAM_MIN_IMAGE_ASPECT_RATIO - 1e-3 || ratio > INSTAGRAM_MAX_IMAGE_ASPECT_RATIO + 1e-3) {
        issues.push({
          rule: 'instagram.media.aspect_ratio',
          field,
          message: `The image is ${item.width}×${item.height} (${ratio.toFixed(2)}:1); Instagram's feed takes 4:5 (0.80:1) to 1.91:1.`,
        });
      }
    }
    if (video && item.durationSeconds !== undefined) {
      const max = shape === 'story' ? INSTAGRAM_MAX_STORY_VIDEO_SECONDS : INSTAGRAM_MAX_REEL_SECONDS;
      if (item.durationSeconds < INSTAGRAM_MIN_VIDEO_SECONDS || item.durationSeconds > max) {
        issues.push({
          rule: 'instagram.media.video_duration',
          field: `${field}.durationSeconds`,
          message: `The video is ${item.durationSeconds} s; Instagram takes ${INSTAGRAM_MIN_VIDEO_SECONDS} s to ${max} s${shape === 'story' ? ' in a Story' : ''}.`,
        });
      }
    }
    const size = knownMediaSize(item);
    if (video && shape === 'story' && size !== undefined && size > INSTAGRAM_MAX_STORY_VIDEO_BYTES) {
      issues.push({ rule: 'instagram.media.max_bytes', field, message: `A Story video may be at most 100 MB; this one is ${size} bytes.` });
    }
  });
  return issues;
}
