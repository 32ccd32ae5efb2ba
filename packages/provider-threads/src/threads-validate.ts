import { postItems, type Post, type PostItem, type ValidationIssue } from '@letmepost/core';
import { graphemeSegmenter, utf8ByteLength } from '@letmepost/core/internal';
import { THREADS_ALT_TEXT_MAX_LENGTH, THREADS_MAX_LINKS, THREADS_TEXT_MAX_LENGTH, type ThreadsOptions } from './threads-options.js';

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/**
 * Text length as Threads counts it: one per character, except that an emoji counts as its UTF-8
 * byte length (a 4-byte emoji uses 4 of the 500). Counted per grapheme, so a flag or a skin-tone
 * sequence counts all its bytes once.
 */
export function threadsTextLength(options: { text: string }): number {
  let length = 0;
  for (const { segment } of graphemeSegmenter().segment(options.text)) {
    length += EMOJI.test(segment) ? utf8ByteLength(segment) : 1;
  }
  return length;
}

/**
 * The text an item is posted with: a text-only item carries its link as `link_attachment` (a
 * preview card), an item with media cannot, so its link is appended to the text.
 */
export function renderThreadsText(options: { item: PostItem }): string {
  const { item } = options;
  const hasMedia = (item.media?.length ?? 0) > 0;
  if (item.link === undefined || !hasMedia || item.text.includes(item.link)) return item.text;
  return item.text === '' ? item.link : `${item.text}\n\n${item.link}`;
}

const URL_PATTERN = /https?:\/\/[^\s<>"]+/giu;

/** Unique links in a text plus its link attachment (identical ones count once). */
function uniqueLinks(options: { text: string; link: string | undefined }): number {
  const links = new Set((options.text.match(URL_PATTERN) ?? []).map((link) => link.replace(/[.,;:!?)]+$/u, '')));
  if (options.link !== undefined) links.add(options.link);
  return links.size;
}

export const THREADS_REPLY_TO_PATTERN = /^\d{1,32}$/;

/**
 * What capabilities cannot say: the text limit counted Threads' way on the text as rendered, the
 * 5-link limit, alt text length, and the form of `replyTo` (a Threads media id). Pure.
 */
export function validateThreadsPost(options: { post: Post; options: ThreadsOptions }): ValidationIssue[] {
  const { post } = options;
  const issues: ValidationIssue[] = [];
  const checkText = (fields: { text: string; link: string | undefined; field: string }): void => {
    const length = threadsTextLength({ text: fields.text });
    if (length > THREADS_TEXT_MAX_LENGTH) {
      issues.push({
        rule: 'threads.text.max_length',
        field: fields.field,
        message: `Threads allows ${THREADS_TEXT_MAX_LENGTH} characters (an emoji counts as its UTF-8 bytes); this text counts ${length}.`,
      });
    }
    if (uniqueLinks({ text: fields.text, link: fields.link }) > THREADS_MAX_LINKS) {
      issues.push({ rule: 'threads.text.max_links', field: fields.field, message: `A Threads post may carry at most ${THREADS_MAX_LINKS} different links.` });
    }
  };
  for (const [index, item] of postItems(post).entries()) {
    const prefix = index === 0 ? '' : `thread.${index - 1}.`;
    const hasMedia = (item.media?.length ?? 0) > 0;
    checkText({ text: renderThreadsText({ item }), link: hasMedia ? undefined : item.link, field: `${prefix}text` });
    for (const [mediaIndex, media] of (item.media ?? []).entries()) {
      if (media.altText !== undefined && media.altText.length > THREADS_ALT_TEXT_MAX_LENGTH) {
        issues.push({
          rule: 'threads.media.alt_text_length',
          field: `${prefix}media.${mediaIndex}.altText`,
          message: `Threads alt text is at most ${THREADS_ALT_TEXT_MAX_LENGTH} characters.`,
        });
      }
    }
  }
  if (post.firstComment !== undefined) checkText({ text: post.firstComment, link: undefined, field: 'firstComment' });
  if (post.replyTo !== undefined && !THREADS_REPLY_TO_PATTERN.test(post.replyTo)) {
    issues.push({ rule: 'threads.reply_to.format', field: 'replyTo', message: 'replyTo must be the numeric id of a Threads post (what publish returned as postId).' });
  }
  return issues;
}
