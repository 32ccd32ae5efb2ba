import { postItems, type Media, type Post } from '@letmepost/core';
import type { TwitterCreatePostRequest, TwitterReplySettings } from './twitter-api.js';

/** Per-target options for X. */
export interface TwitterPublishOptions {
  /** Who may reply to the first post; everyone when absent. */
  replySettings?: TwitterReplySettings;
  /** Discloses AI-generated media (X's "Made with AI" label). */
  madeWithAi?: boolean;
  /** Discloses a paid partnership. */
  paidPartnership?: boolean;
}

export type TwitterItemRole = 'root' | 'thread' | 'first-comment';

/** One post to create, in publish order. */
export interface TwitterPlannedItem {
  /** Index in `PublishResult.items`: 0 root, then thread replies, then the first comment. */
  index: number;
  role: TwitterItemRole;
  /** Text as sent, with the item's `link` appended. */
  text: string;
  media: Media[];
  /** Where this item sits in the `Post`, for field paths: `''`, `thread.0.`, `firstComment`. */
  fieldPrefix: string;
}

export interface TwitterPostPlan {
  items: TwitterPlannedItem[];
  /** The post id the root replies to, from `post.replyTo`. */
  replyToPostId?: string;
}

/**
 * Lays a `Post` out as the X posts it becomes: the root, each `thread` item as a reply to the
 * one before (X has no thread object, a thread is a reply chain on the author's own posts), and
 * `firstComment` as a reply to the root once the thread is out.
 */
export function convertToTwitterPost(options: { post: Post }): TwitterPostPlan {
  const { post } = options;
  const items: TwitterPlannedItem[] = postItems(post).map((item, index) => ({
    index,
    role: index === 0 ? 'root' : 'thread',
    text: withLink({ text: item.text, link: item.link }),
    media: item.media ?? [],
    fieldPrefix: index === 0 ? '' : `thread.${index - 1}.`,
  }));
  if (post.firstComment !== undefined) {
    items.push({ index: items.length, role: 'first-comment', text: post.firstComment, media: [], fieldPrefix: 'firstComment' });
  }
  const replyToPostId = post.replyTo === undefined ? undefined : parseTwitterPostId(post.replyTo);
  return { items, replyToPostId };
}

/**
 * X has no link attachment: a link is part of the text (and counts 23 weighted characters, as
 * t.co wraps it). It is added on its own paragraph unless the text already contains it.
 */
function withLink(options: { text: string; link: string | undefined }): string {
  const { text, link } = options;
  if (link === undefined || text.includes(link)) return text;
  return text.trim() === '' ? link : `${text}\n\n${link}`;
}

const STATUS_URL = /^https?:\/\/(?:www\.|mobile\.)?(?:x|twitter)\.com\/(?:[A-Za-z0-9_]{1,15}|i\/web|i)\/status(?:es)?\/([0-9]{1,19})(?:[/?#].*)?$/;

/** A post id from an id or a post URL (`https://x.com/<user>/status/<id>`); undefined otherwise. */
export function parseTwitterPostId(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^[0-9]{1,19}$/.test(trimmed)) return trimmed;
  return STATUS_URL.exec(trimmed)?.[1];
}

// X handles are letters, digits and underscores, which need no escaping.
const HANDLE = /^[A-Za-z0-9_]+$/;

/** The public URL of a post; the handle-free form when the handle is unknown. */
export function twitterPostUrl(options: { postId: string; username?: string }): string {
  return options.username === undefined
    ? `https://x.com/i/web/status/${options.postId}`
    : `https://x.com/${HANDLE.test(options.username) ? options.username : encodeURIComponent(options.username)}/status/${options.postId}`;
}

/** The `POST /2/tweets` body of one planned item. */
export function toCreatePostRequest(options: {
  text: string;
  mediaIds: readonly string[];
  inReplyToPostId?: string;
  publishOptions?: TwitterPublishOptions;
}): TwitterCreatePostRequest {
  const { publishOptions } = options;
  const body: TwitterCreatePostRequest = { text: options.text };
  if (options.mediaIds.length > 0) body.media = { media_ids: [...options.mediaIds] };
  if (options.inReplyToPostId !== undefined) body.reply = { in_reply_to_tweet_id: options.inReplyToPostId };
  if (publishOptions?.replySettings !== undefined) body.reply_settings = publishOptions.replySettings;
  if (publishOptions?.madeWithAi !== undefined) body.made_with_ai = publishOptions.madeWithAi;
  if (publishOptions?.paidPartnership !== undefined) body.paid_partnership = publishOptions.paidPartnership;
  return body;
}
