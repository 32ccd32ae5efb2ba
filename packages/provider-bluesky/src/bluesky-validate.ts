import { postItems, type Media, type Post, type PostItem, type ValidationIssue } from '@letmepost/core';
import { countGraphemes, utf8ByteLength } from '@letmepost/provider-utils';
import type { BlueskyOptions } from './bluesky-options.js';
import { parsePostReference } from './bluesky-post-reference.js';

/** Limits from the `app.bsky.*` lexicons (see docs/providers/bluesky.md for sources). */
export const BLUESKY_LIMITS = {
  textGraphemes: 300,
  textBytes: 3000,
  images: 4,
  videos: 1,
  /** `app.bsky.embed.images#image.maxSize`, raised from 1 MB to 2 MB. */
  imageBytes: 2_000_000,
  /** `app.bsky.embed.external#external.thumb.maxSize`. */
  linkThumbBytes: 1_000_000,
  /** `app.bsky.embed.video.maxSize`, raised from 100 MB to 300 MB in 2026. */
  videoBytes: 300_000_000,
  /** The Bluesky app's cap (the lexicon sets none); longer alt text is cut off in the app. */
  altTextGraphemes: 2000,
} as const;

export const BLUESKY_IMAGE_MIME_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;
export const BLUESKY_VIDEO_MIME_TYPES = ['video/mp4'] as const;

export function isImage(media: Media): boolean {
  return media.mimeType.toLowerCase().startsWith('image/');
}

export function isVideo(media: Media): boolean {
  return media.mimeType.toLowerCase().startsWith('video/');
}

/**
 * The text that is actually posted for an item. A post has one embed, so a link card cannot sit
 * next to images or a video; then the link is appended to the text (where it becomes a link
 * facet) unless the text already contains it.
 */
export function composeItemText(item: PostItem): { text: string; linkInlined: boolean } {
  const hasMedia = (item.media?.length ?? 0) > 0;
  if (!item.link || !hasMedia || item.text.includes(item.link)) return { text: item.text, linkInlined: false };
  const separator = item.text.length === 0 ? '' : /\s$/.test(item.text) ? '' : '\n\n';
  return { text: `${item.text}${separator}${item.link}`, linkInlined: true };
}

/** Size of in-memory or streamed media; URLs are only known once fetched. */
export function knownSize(media: Media): number | undefined {
  if (media.data !== undefined) return media.data.byteLength;
  if (media.stream !== undefined) return media.size;
  return undefined;
}

function validateText(options: { text: string; field: string; issues: ValidationIssue[] }): void {
  const { text, field, issues } = options;
  const graphemes = countGraphemes(text);
  if (graphemes > BLUESKY_LIMITS.textGraphemes) {
    issues.push({
      rule: 'bluesky.text.max_graphemes',
      field,
      message: `Text is ${graphemes} characters (graphemes); Bluesky allows ${BLUESKY_LIMITS.textGraphemes}.`,
    });
  }
  const bytes = utf8ByteLength(text);
  if (bytes > BLUESKY_LIMITS.textBytes) {
    issues.push({
      rule: 'bluesky.text.max_bytes',
      field,
      message: `Text is ${bytes} bytes in UTF-8; Bluesky allows ${BLUESKY_LIMITS.textBytes}.`,
    });
  }
}

function validateItem(options: { item: PostItem; prefix: string; issues: ValidationIssue[] }): void {
  const { item, prefix, issues } = options;
  const media = item.media ?? [];
  const { text } = composeItemText(item);
  validateText({ text, field: `${prefix}text`, issues });
  if (text.trim().length === 0 && media.length === 0 && !item.link) {
    issues.push({
      rule: 'bluesky.text.required',
      field: `${prefix}text`,
      message: 'A Bluesky post needs text, media or a link.',
    });
  }

  const images = media.filter(isImage);
  const videos = media.filter(isVideo);
  if (images.length > 0 && videos.length > 0) {
    issues.push({
      rule: 'bluesky.media.mixed',
      field: `${prefix}media`,
      message: 'A Bluesky post holds either images or one video, not both.',
    });
  }
  if (images.length > BLUESKY_LIMITS.images) {
    issues.push({
      rule: 'bluesky.media.max_images',
      field: `${prefix}media`,
      message: `${images.length} images attached; Bluesky allows ${BLUESKY_LIMITS.images} per post.`,
    });
  }
  if (videos.length > BLUESKY_LIMITS.videos) {
    issues.push({
      rule: 'bluesky.media.max_videos',
      field: `${prefix}media`,
      message: `${videos.length} videos attached; Bluesky allows one per post.`,
    });
  }

  media.forEach((entry, index) => {
    const field = `${prefix}media.${index}`;
    const mimeType = entry.mimeType.toLowerCase();
    const allowed: readonly string[] = isVideo(entry) ? BLUESKY_VIDEO_MIME_TYPES : BLUESKY_IMAGE_MIME_TYPES;
    if (!allowed.includes(mimeType)) {
      issues.push({
        rule: 'bluesky.media.mime_type',
        field: `${field}.mimeType`,
        message: `${entry.mimeType} is not supported on Bluesky; use ${[...BLUESKY_IMAGE_MIME_TYPES, ...BLUESKY_VIDEO_MIME_TYPES].join(', ')}.`,
      });
    }
    const size = knownSize(entry);
    const maxBytes = isVideo(entry) ? BLUESKY_LIMITS.videoBytes : BLUESKY_LIMITS.imageBytes;
    if (size !== undefined && size > maxBytes) {
      issues.push({
        rule: isVideo(entry) ? 'bluesky.media.max_video_bytes' : 'bluesky.media.max_blob_bytes',
        field,
        message: `File is ${size} bytes; Bluesky accepts at most ${maxBytes} bytes for ${isVideo(entry) ? 'a video' : 'an image'}.`,
      });
    }
    if (entry.altText !== undefined && countGraphemes(entry.altText) > BLUESKY_LIMITS.altTextGraphemes) {
      issues.push({
        rule: 'bluesky.media.alt_text_length',
        field: `${field}.altText`,
        message: `Alt text is longer than the ${BLUESKY_LIMITS.altTextGraphemes} characters the Bluesky app shows.`,
      });
    }
  });
}

/** Pure preflight of a post for Bluesky: every issue, with stable rule ids. */
export function validateBlueskyPost(options: { post: Post; options?: BlueskyOptions }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  postItems(post).forEach((item, index) => {
    validateItem({ item, prefix: index === 0 ? '' : `thread.${index - 1}.`, issues });
  });
  if (post.replyTo !== undefined && parsePostReference({ value: post.replyTo }) === undefined) {
    issues.push({
      rule: 'bluesky.reply_to.format',
      field: 'replyTo',
      message: 'replyTo must be a post AT URI (at://did:plc:.../app.bsky.feed.post/<rkey>) or a bsky.app post URL.',
    });
  }
  if (post.firstComment !== undefined) {
    validateText({ text: post.firstComment, field: 'firstComment', issues });
  }
  return issues;
}
