import type { Media, Post, ProviderAccount, ValidationIssue } from '@letmepost/core';
import { knownMediaSize } from '@letmepost/provider-utils';
import { z } from 'zod';
import { convertToTwitterPost, type TwitterPublishOptions } from './convert-to-twitter-post.js';
import { TWITTER_REPLY_SETTINGS } from './twitter-api.js';
import { parseTwitterText, twitterTextConfigV3 } from './twitter-text.js';

export const twitterOptionsSchema = z
  .object({
    replySettings: z.enum(TWITTER_REPLY_SETTINGS).optional(),
    madeWithAi: z.boolean().optional(),
    paidPartnership: z.boolean().optional(),
  })
  .strict();

export type TwitterMediaKind = 'image' | 'gif' | 'video';

const MIB = 1024 * 1024;

/** What X accepts per post and per file (non-Premium baseline; X enforces the account's own). */
export const TWITTER_LIMITS = {
  maxWeightedLength: 280,
  maxImages: 4,
  maxAltTextLength: 1000,
  imageMimeTypes: ['image/jpeg', 'image/png', 'image/webp'],
  gifMimeTypes: ['image/gif'],
  videoMimeTypes: ['video/mp4', 'video/quicktime'],
  maxImageBytes: 5 * MIB,
  maxGifBytes: 15 * MIB,
  maxVideoBytes: 512 * MIB,
} as const;

/**
 * Image, GIF (always treated as animated: X lets a post carry one GIF and nothing else, and a
 * static GIF cannot be told apart without decoding it) or video; undefined when X takes neither.
 */
export function twitterMediaKind(mimeType: string): TwitterMediaKind | undefined {
  const normalized = mimeType.toLowerCase() === 'image/jpg' ? 'image/jpeg' : mimeType.toLowerCase();
  if ((TWITTER_LIMITS.imageMimeTypes as readonly string[]).includes(normalized)) return 'image';
  if ((TWITTER_LIMITS.gifMimeTypes as readonly string[]).includes(normalized)) return 'gif';
  if ((TWITTER_LIMITS.videoMimeTypes as readonly string[]).includes(normalized)) return 'video';
  return undefined;
}

/** `maxVideoBytes` is the account's video cap: the baseline unless the host knows it is larger (Premium). */
export function maxBytesFor(kind: TwitterMediaKind, maxVideoBytes: number = TWITTER_LIMITS.maxVideoBytes): number {
  return kind === 'image' ? TWITTER_LIMITS.maxImageBytes : kind === 'gif' ? TWITTER_LIMITS.maxGifBytes : maxVideoBytes;
}

/** X Premium and Premium+ accounts post up to 25,000 weighted characters. */
export const TWITTER_PREMIUM_MAX_WEIGHTED_LENGTH = 25_000;
const PREMIUM_SUBSCRIPTIONS: ReadonlySet<string> = new Set(['Premium', 'PremiumPlus']);

/**
 * The weighted length an account may post: X's baseline, or Premium's when the account data
 * read at connect (`subscriptionType`) says so. Per-request credentials get the baseline.
 */
export function twitterMaxWeightedLength(account: ProviderAccount | undefined): number {
  const subscription = account?.data?.subscriptionType;
  return typeof subscription === 'string' && PREMIUM_SUBSCRIPTIONS.has(subscription)
    ? TWITTER_PREMIUM_MAX_WEIGHTED_LENGTH
    : TWITTER_LIMITS.maxWeightedLength;
}

interface TwitterValidateOptions {
  post: Post;
  /** Parsed already: by core, or by the provider's boundary (`defineProvider`) for a direct call. */
  options: TwitterPublishOptions;
  /** The video cap (`maxVideoBytes` setting). Default X's baseline. */
  maxVideoBytes?: number;
  /** The account posted to: its subscription decides the text limit. */
  account?: ProviderAccount;
}

/**
 * X's own rules, beyond what its declared capabilities say (core checks those): the text in X's
 * weighted count as it will be posted (link appended), code points X refuses, one video or GIF
 * per post and never next to images, per-kind file sizes, empty files, alt text length, the
 * reply target's form. No I/O.
 */
export function validateTwitterPost(options: TwitterValidateOptions): ValidationIssue[] {
  const issues: ValidationIssue[] = [];

  const { post } = options;
  const plan = convertToTwitterPost({ post });
  if (post.replyTo !== undefined && plan.replyToPostId === undefined) {
    issues.push({
      rule: 'twitter.reply_to.invalid',
      field: 'replyTo',
      message: 'replyTo must be an X post id or a post URL such as https://x.com/<user>/status/<id>.',
    });
  }

  const maxWeightedLength = twitterMaxWeightedLength(options.account);
  const config = maxWeightedLength === twitterTextConfigV3.maxWeightedLength ? undefined : { ...twitterTextConfigV3, maxWeightedLength };
  for (const item of plan.items) {
    const textField = item.role === 'first-comment' ? 'firstComment' : `${item.fieldPrefix}text`;
    const parsed = parseTwitterText({ text: item.text, ...(config !== undefined && { config }) });
    if (parsed.weightedLength > parsed.maxWeightedLength) {
      issues.push({
        rule: 'twitter.text.max_length',
        field: textField,
        message: `Text is ${parsed.weightedLength} weighted characters; X allows ${parsed.maxWeightedLength} (URLs count 23, emoji and CJK characters 2).`,
      });
    }
    if (parsed.hasInvalidCharacters) {
      issues.push({
        rule: 'twitter.text.invalid_characters',
        field: textField,
        message: 'Text contains U+FFFE, U+FEFF or U+FFFF, which X refuses.',
      });
    }
    if (item.media.length > 0) {
      issues.push(...validateMedia({ media: item.media, fieldPrefix: `${item.fieldPrefix}media`, maxVideoBytes: options.maxVideoBytes }));
    }
  }
  return issues;
}

function validateMedia(options: { media: readonly Media[]; fieldPrefix: string; maxVideoBytes?: number }): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { media, fieldPrefix } = options;
  const kinds = media.map((item) => twitterMediaKind(item.mimeType));
  const images = kinds.filter((kind) => kind === 'image').length;
  const motion = kinds.filter((kind) => kind === 'gif' || kind === 'video').length;

  // A GIF counts as X's one video, which capabilities (where a GIF is an image type) cannot say.
  if (motion > 1) {
    issues.push({ rule: 'twitter.media.max_videos', field: fieldPrefix, message: `X allows one video or GIF per post; got ${motion}.` });
  }
  if (motion > 0 && images > 0) {
    issues.push({ rule: 'twitter.media.mixed', field: fieldPrefix, message: 'X does not mix a video or GIF with images in one post.' });
  }

  for (const [index, item] of media.entries()) {
    const kind = kinds[index];
    const field = `${fieldPrefix}.${index}`;
    if (kind === undefined) continue;
    const size = knownMediaSize(item);
    const maxBytes = maxBytesFor(kind, options.maxVideoBytes);
    if (size !== undefined && size > maxBytes) {
      issues.push({
        rule: 'twitter.media.max_bytes',
        field,
        message: `The ${kind} is ${size} bytes; X accepts up to ${maxBytes} bytes for a ${kind}.`,
      });
    }
    if (size === 0) {
      issues.push({ rule: 'twitter.media.empty', field, message: 'The file is empty.' });
    }
    if (item.altText !== undefined && [...item.altText].length > TWITTER_LIMITS.maxAltTextLength) {
      issues.push({
        rule: 'twitter.media.alt_text',
        field: `${field}.altText`,
        message: `Alt text is ${[...item.altText].length} characters; X allows ${TWITTER_LIMITS.maxAltTextLength}.`,
      });
    }
  }
  return issues;
}
