import { LetmepostError, type Media, type Post, type PublishWarning } from '@letmepost/core';
import type { LinkedInPostBody, LinkedInPostContent } from './linkedin-api.js';
import type { LinkedInPublishOptions } from './linkedin-options.js';

// `little` reserves these characters; unescaped, LinkedIn either rejects the post or silently
// truncates the commentary at the first one (the post "succeeds" with half its text).
const LITTLE_RESERVED = /[\\|{}@[\]()<>#*_~]/u;
const HASHTAG_BODY = /[\p{L}\p{M}\p{N}]/u;
const WORD_CHARACTER = /[\p{L}\p{M}\p{N}_]/u;

/**
 * Escapes text for LinkedIn's `little` text format (the Posts API `commentary`) so it is shown
 * exactly as written. One exception: a `#` that starts a hashtag (`#launch`, not `C#` or `a#b`)
 * is left as is, so hashtags stay clickable as they are in LinkedIn's own composer.
 */
export function escapeLittleText(text: string): string {
  const characters = Array.from(text);
  let output = '';
  for (let index = 0; index < characters.length; index += 1) {
    const character = characters[index] as string;
    if (!LITTLE_RESERVED.test(character)) {
      output += character;
      continue;
    }
    if (character === '#' && startsHashtag({ previous: characters[index - 1], next: characters[index + 1] })) {
      output += character;
      continue;
    }
    output += `\\${character}`;
  }
  return output;
}

function startsHashtag(options: { previous: string | undefined; next: string | undefined }): boolean {
  const { previous, next } = options;
  if (next === undefined || !HASHTAG_BODY.test(next)) return false;
  return previous === undefined || !(WORD_CHARACTER.test(previous) || previous === '#' || previous === '\\');
}

export type LinkedInPostShape = 'text' | 'article' | 'image' | 'multi-image' | 'video';

export interface LinkedInPostPlan {
  shape: LinkedInPostShape;
  /** The commentary as the reader will see it (before `little` escaping). */
  commentary: string;
  /** Whether `post.link` was appended to the commentary because media took the content slot. */
  linkInlined: boolean;
  warnings: PublishWarning[];
}

const VIDEO_PREFIX = 'video/';

export function isVideo(media: Pick<Media, 'mimeType'>): boolean {
  return media.mimeType.toLowerCase().startsWith(VIDEO_PREFIX);
}

/**
 * Decides what a post becomes on LinkedIn. A post has one `content` slot: an article card, one
 * media, or a multi-image. A link together with media cannot have both, so the link moves into
 * the commentary, where LinkedIn makes it clickable, instead of being dropped.
 */
export function planLinkedInPost(options: { post: Pick<Post, 'text' | 'link' | 'media'> }): LinkedInPostPlan {
  const { post } = options;
  const media = post.media ?? [];
  const warnings: PublishWarning[] = [];
  let commentary = post.text;
  let linkInlined = false;

  if (post.link !== undefined && media.length > 0) {
    if (!commentary.includes(post.link)) {
      commentary = commentary.length > 0 ? `${commentary}\n\n${post.link}` : post.link;
    }
    linkInlined = true;
    warnings.push({
      code: 'linkedin.link.inlined',
      message: 'LinkedIn shows either a link card or media; the link was added to the text instead of a card.',
    });
  }

  let shape: LinkedInPostShape = 'text';
  if (media.length === 1) shape = isVideo(media[0] as Media) ? 'video' : 'image';
  else if (media.length > 1) shape = 'multi-image';
  else if (post.link !== undefined) shape = 'article';

  return { shape, commentary, linkInlined, warnings };
}

/** A plan and its inputs disagree: a bug here, never the caller's input. */
function invariant(message: string): LetmepostError {
  return new LetmepostError({ code: 'platform_rejected', message: `LinkedIn post conversion: ${message}.`, platform: 'linkedin' });
}

/** What uploading the media produced, in post order. */
export type LinkedInUploadedMedia =
  | { kind: 'image'; urn: string; altText?: string }
  | { kind: 'video'; urn: string; title?: string };

/** Builds the `content` object for the plan from the uploaded media URNs. */
export function convertToLinkedInContent(options: {
  plan: LinkedInPostPlan;
  link?: string;
  uploaded: readonly LinkedInUploadedMedia[];
  publishOptions: LinkedInPublishOptions;
}): { content?: LinkedInPostContent; warnings: PublishWarning[] } {
  const { plan, link, uploaded, publishOptions } = options;
  const warnings: PublishWarning[] = [];
  switch (plan.shape) {
    case 'text':
      return { warnings };
    case 'article': {
      if (link === undefined) throw invariant('an article post needs its link');
      let title = publishOptions.linkTitle;
      if (title === undefined) {
        // The Posts API requires a title and does not scrape the page for one.
        title = new URL(link).hostname;
        warnings.push({
          code: 'linkedin.link.title_defaulted',
          message: 'No linkTitle option was given; the link card is titled with the site name.',
        });
      }
      return {
        content: {
          article: {
            source: link,
            title,
            ...(publishOptions.linkDescription !== undefined ? { description: publishOptions.linkDescription } : {}),
          },
        },
        warnings,
      };
    }
    case 'image':
    case 'video': {
      const [item] = uploaded;
      if (item === undefined) throw invariant('a media post needs its uploaded media');
      if (item.kind === 'image') {
        return {
          content: { media: { id: item.urn, ...(item.altText !== undefined ? { altText: item.altText } : {}) } },
          warnings,
        };
      }
      return { content: { media: { id: item.urn, ...(item.title !== undefined ? { title: item.title } : {}) } }, warnings };
    }
    case 'multi-image':
      return {
        content: {
          multiImage: {
            images: uploaded.map((item) => ({
              id: item.urn,
              ...(item.kind === 'image' && item.altText !== undefined ? { altText: item.altText } : {}),
            })),
          },
        },
        warnings,
      };
  }
}

/** The JSON body of `POST /rest/posts`. */
export function convertToLinkedInPost(options: {
  author: string;
  commentary: string;
  content?: LinkedInPostContent;
  publishOptions: LinkedInPublishOptions;
}): LinkedInPostBody {
  const { author, commentary, content, publishOptions } = options;
  return {
    author,
    commentary: escapeLittleText(commentary),
    visibility: publishOptions.visibility ?? 'PUBLIC',
    distribution: {
      feedDistribution: 'MAIN_FEED',
      targetEntities: [],
      thirdPartyDistributionChannels: [],
    },
    lifecycleState: 'PUBLISHED',
    isReshareDisabledByAuthor: publishOptions.disableReshare ?? false,
    ...(content !== undefined ? { content } : {}),
  };
}
