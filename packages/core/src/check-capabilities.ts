import type { PlatformId } from './platform-id.js';
import { markCheckedByCore } from './publish-context.js';
import { postItems, type Media, type Post } from './post.js';
import type { ProviderAccount } from './account.js';
import type { AnyProvider, ProviderCapabilities, ValidationIssue } from './provider.js';
import { measureText } from './text-measure.js';

/**
 * The one list of rule ids for what declared capabilities express. A provider's issue id is
 * `<platform>.<name>` (`bluesky.text.max_length`); a provider that checks one of these itself
 * (a length in a unit only it can count, a limit on the text as it will be rendered) reports it
 * under the same id, and `validatePost` keeps one issue per id and field.
 */
export const CAPABILITY_RULES = [
  'text.max_length',
  'text.required',
  'media.max_items',
  'media.max_images',
  'media.max_videos',
  'media.mime_type',
  'media.max_bytes',
  'media.mixed',
  'media.alt_text',
  'thread.unsupported',
  'reply.unsupported',
  'first_comment.unsupported',
] as const;

export type CapabilityRule = (typeof CAPABILITY_RULES)[number];

/** `bluesky.media.mime_type` for `{ platform: 'bluesky', rule: 'media.mime_type' }`. */
export function capabilityRuleId(options: { platform: PlatformId; rule: CapabilityRule }): string {
  return `${options.platform}.${options.rule}`;
}

/** Size of in-memory or streamed media; a URL's size is only known once fetched. */
export function knownMediaSize(media: Media): number | undefined {
  if (media.data !== undefined) return media.data.byteLength;
  if (media.stream !== undefined) return media.size;
  return undefined;
}

/** `image/jpg` is a common misspelling every platform treats as JPEG. */
function normalizedMimeType(mimeType: string): string {
  const lower = mimeType.toLowerCase();
  return lower === 'image/jpg' ? 'image/jpeg' : lower;
}

type MediaKind = 'image' | 'video';

function mediaKind(options: { mimeType: string; capabilities: ProviderCapabilities }): MediaKind {
  const { mimeType, capabilities } = options;
  if (capabilities.media.videoMimeTypes.includes(mimeType)) return 'video';
  if (capabilities.media.imageMimeTypes.includes(mimeType)) return 'image';
  return mimeType.startsWith('video/') ? 'video' : 'image';
}

/**
 * Checks `post` against declared capabilities: everything they say, nothing more, with the
 * canonical rule ids of `CAPABILITY_RULES`. Pure and synchronous. Text in a unit core cannot
 * count (`twitter-weighted`) is left to the provider's own `validate`.
 */
export function checkCapabilities(options: {
  platform: PlatformId;
  capabilities: ProviderCapabilities;
  post: Post;
}): ValidationIssue[] {
  const { platform, capabilities, post } = options;
  const issues: ValidationIssue[] = [];
  const rule = (name: CapabilityRule): string => `${platform}.${name}`;

  const hasThread = post.thread !== undefined && post.thread.length > 0;
  if (hasThread && !capabilities.thread) {
    issues.push({ rule: rule('thread.unsupported'), field: 'thread', message: `${platform} has no threads; publish the follow-ups separately.` });
  }
  if (post.replyTo !== undefined && !capabilities.replyTo) {
    issues.push({ rule: rule('reply.unsupported'), field: 'replyTo', message: `Replying to a post is not supported on ${platform}.` });
  }
  if (post.firstComment !== undefined && !capabilities.firstComment) {
    issues.push({ rule: rule('first_comment.unsupported'), field: 'firstComment', message: `A first comment is not supported on ${platform}.` });
  }

  // Without thread support only the root is sent, so only the root is checked further.
  const all = postItems(post);
  const items = capabilities.thread || all.length === 1 ? all : all.slice(0, 1);
  items.forEach((item, index) => {
    const prefix = index === 0 ? '' : `thread.${index - 1}.`;
    const media = item.media ?? [];
    checkText({ platform, capabilities, text: item.text, field: `${prefix}text`, issues });
    const empty = item.text.trim() === '';
    if (capabilities.text.required ? empty : empty && media.length === 0 && item.link === undefined) {
      issues.push({
        rule: rule('text.required'),
        field: `${prefix}text`,
        message: capabilities.text.required ? `A ${platform} post needs text.` : `A ${platform} post needs text, media or a link.`,
      });
    }
    if (media.length > 0) checkMedia({ platform, capabilities, media, fieldPrefix: `${prefix}media`, issues });
  });

  if (post.firstComment !== undefined && capabilities.firstComment) {
    checkText({ platform, capabilities, text: post.firstComment, field: 'firstComment', issues });
  }
  return issues;
}

function checkText(options: {
  platform: PlatformId;
  capabilities: ProviderCapabilities;
  text: string;
  field: string;
  issues: ValidationIssue[];
}): void {
  const { maxLength, unit } = options.capabilities.text;
  const length = measureText({ text: options.text, unit });
  if (length !== undefined && length > maxLength) {
    options.issues.push({
      rule: `${options.platform}.text.max_length`,
      field: options.field,
      message: `Text is ${length} ${unit === 'utf16' ? 'UTF-16 units' : unit}; ${options.platform} allows ${maxLength}.`,
    });
  }
}

function checkMedia(options: {
  platform: PlatformId;
  capabilities: ProviderCapabilities;
  media: readonly Media[];
  fieldPrefix: string;
  issues: ValidationIssue[];
}): void {
  const { platform, capabilities, media, fieldPrefix, issues } = options;
  const limits = capabilities.media;
  const rule = (name: CapabilityRule): string => `${platform}.${name}`;
  const mimeTypes = media.map((item) => normalizedMimeType(item.mimeType));
  const kinds = mimeTypes.map((mimeType) => mediaKind({ mimeType, capabilities }));
  const images = kinds.filter((kind) => kind === 'image').length;
  const videos = kinds.length - images;

  if (media.length > limits.maxItems) {
    issues.push({ rule: rule('media.max_items'), field: fieldPrefix, message: `${media.length} media attached; ${platform} allows ${limits.maxItems} per post.` });
  }
  if (images > limits.maxImages) {
    issues.push({ rule: rule('media.max_images'), field: fieldPrefix, message: `${images} images attached; ${platform} allows ${limits.maxImages} per post.` });
  }
  if (videos > limits.maxVideos) {
    issues.push({ rule: rule('media.max_videos'), field: fieldPrefix, message: `${videos} videos attached; ${platform} allows ${limits.maxVideos} per post.` });
  }
  if (images > 0 && videos > 0 && !limits.mixedImagesAndVideo) {
    issues.push({ rule: rule('media.mixed'), field: fieldPrefix, message: `A ${platform} post carries images or a video, not both.` });
  }

  media.forEach((item, index) => {
    const field = `${fieldPrefix}.${index}`;
    const mimeType = mimeTypes[index] as string;
    const kind = kinds[index] as MediaKind;
    const accepted = kind === 'video' ? limits.videoMimeTypes : limits.imageMimeTypes;
    if (!accepted.includes(mimeType)) {
      issues.push({
        rule: rule('media.mime_type'),
        field: `${field}.mimeType`,
        message: `${item.mimeType} is not accepted; ${platform} takes ${[...limits.imageMimeTypes, ...limits.videoMimeTypes].join(', ')}.`,
      });
    }
    const size = knownMediaSize(item);
    const maxBytes = kind === 'video' ? limits.maxVideoBytes : limits.maxImageBytes;
    if (size !== undefined && maxBytes !== undefined && size > maxBytes) {
      issues.push({
        rule: rule('media.max_bytes'),
        field,
        message: `The ${kind} is ${size} bytes; ${platform} accepts up to ${maxBytes} bytes for ${kind === 'video' ? 'a video' : 'an image'}.`,
      });
    }
    if (item.altText !== undefined && item.altText !== '' && !limits.altText) {
      issues.push({ rule: rule('media.alt_text'), field: `${field}.altText`, message: `${platform} has no alt text for media.` });
    }
  });
}

/**
 * Every issue of `post` for one provider: the declared capabilities (for this account and post,
 * through `capabilitiesFor`) checked by `checkCapabilities`, then the provider's own `validate`.
 * One issue per rule and field: a provider that re-checks a canonical rule on the text as it
 * renders it does not report it twice. What core's publish preflight runs.
 */
export function validatePost(options: { provider: AnyProvider; post: Post; options: unknown; account?: ProviderAccount }): ValidationIssue[] {
  return validateWith({ provider: options.provider, post: options.post, options: options.options, account: options.account, checkedByCore: false });
}

/**
 * `validatePost` for core's own preflight, whose post and options it parsed itself: the call to
 * the provider's `validate` is marked so (`markCheckedByCore`), and the provider's boundary does
 * not parse the options again. Not exported from `@letmepost/core/internal`.
 */
export function validateCheckedPost(options: { provider: AnyProvider; post: Post; options: unknown; account: ProviderAccount | undefined }): ValidationIssue[] {
  return validateWith({ provider: options.provider, post: options.post, options: options.options, account: options.account, checkedByCore: true });
}

function validateWith(options: {
  provider: AnyProvider;
  post: Post;
  options: unknown;
  account: ProviderAccount | undefined;
  checkedByCore: boolean;
}): ValidationIssue[] {
  const { provider, post, account } = options;
  const capabilities = provider.capabilitiesFor?.(account === undefined ? { post } : { account, post }) ?? provider.capabilities;
  const generic = checkCapabilities({ platform: provider.id, capabilities, post });
  const call: { post: Post; options: unknown; account?: ProviderAccount } = { post, options: options.options };
  if (account !== undefined) call.account = account;
  const specific = provider.validate(options.checkedByCore ? markCheckedByCore(call) : call);
  if (specific.length === 0) return generic;
  const seen = new Set(generic.map((issue) => `${issue.rule}\0${issue.field ?? ''}`));
  const issues = [...generic];
  for (const issue of specific) {
    const key = `${issue.rule}\0${issue.field ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}
