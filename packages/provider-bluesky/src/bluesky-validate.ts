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


function validateBytes(options: { text: string; field: string; issues: ValidationIssue[] }): void {
  const bytes = utf8ByteLength(options.text);
  if (bytes > BLUESKY_LIMITS.textBytes) {
    options.issues.push({
      rule: 'bluesky.text.max_bytes',
      field: options.field,
      message: `Text is ${bytes} bytes in UTF-8; Bluesky allows ${BLUESKY_LIMITS.textBytes}.`,
    });
  }
}

function validateItem(options: { item: PostItem; prefix: string; issues: ValidationIssue[] }): void {
  const { item, prefix, issues } = options;
  const { text, linkInlined } = composeItemText(item);
  // The capability check counts the text as given; a link joining it is counted here.
  const graphemes = linkInlined ? countGraphemes(text) : 0;
  if (graphemes > BLUESKY_LIMITS.textGraphemes) {
    issues.push({
      rule: 'bluesky.text.max_length',
      field: `${prefix}text`,
      message: `Text with the link appended is ${graphemes} characters (graphemes); Bluesky allows ${BLUESKY_LIMITS.textGraphemes}.`,
    });
  }
  validateBytes({ text, field: `${prefix}text`, issues });

  (item.media ?? []).forEach((entry, index) => {
    if (entry.altText !== undefined && countGraphemes(entry.altText) > BLUESKY_LIMITS.altTextGraphemes) {
      issues.push({
        rule: 'bluesky.media.alt_text',
        field: `${prefix}media.${index}.altText`,
        message: `Alt text is longer than the ${BLUESKY_LIMITS.altTextGraphemes} characters the Bluesky app shows.`,
      });
    }
  });
}

/**
 * Bluesky's own rules, beyond what its declared capabilities say (core checks those): the
 * grapheme limit once a link joins the text, the 3,000-byte limit, alt text length, the reply
 * target's form. Pure, with stable rule ids.
 */
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
    validateBytes({ text: post.firstComment, field: 'firstComment', issues });
  }
  return issues;
}
