import { LetmepostError, type MediaProgressEvent, type PostItem, type PublishWarning } from '@letmepost/core';
import type { AspectRatio, Facet, PostEmbed, PostRecord, StrongRef } from './bluesky-api.js';
import { POST_COLLECTION } from './bluesky-api.js';
import type { BlueskyContext } from './bluesky-context.js';
import { resolveFacets } from './bluesky-facets.js';
import { jobOutcome, startVideoJob, uploadImage, uploadLinkThumb } from './bluesky-media-upload.js';
import type { BlueskyOptions } from './bluesky-options.js';
import type { SessionHandle } from './bluesky-session.js';
import { composeItemText, isVideo } from './bluesky-validate.js';

/** A post record minus what is only known when it is written (`createdAt`, `reply`). */
export type DraftRecord = Omit<PostRecord, 'createdAt' | 'reply'>;

/** A thread item ready to write, or waiting for the video service (`videoJobId`). */
export interface PreparedItem {
  record: DraftRecord;
  /** While set, `record.embed` is a video embed whose `video` blob is still missing. */
  videoJobId?: string;
  /** Where the video sits in the post (`media.0`), for errors reported when the job ends. */
  videoField?: string;
  /** The record key fixed once the publish went pending (see `withRecordKeys`). */
  rkey?: string;
}

/** Everything that can be said about a record without I/O; used by `prepareItem` and tests. */
export function buildPostRecord(options: {
  text: string;
  facets?: readonly Facet[];
  embed?: PostEmbed;
  langs?: readonly string[];
  selfLabels?: readonly string[];
  reply?: { root: StrongRef; parent: StrongRef };
  createdAt: string;
}): PostRecord {
  const record: PostRecord = { $type: POST_COLLECTION, text: options.text, createdAt: options.createdAt };
  if (options.facets && options.facets.length > 0) record.facets = [...options.facets];
  if (options.reply) record.reply = options.reply;
  if (options.embed) record.embed = options.embed;
  if (options.langs && options.langs.length > 0) record.langs = [...options.langs];
  if (options.selfLabels && options.selfLabels.length > 0) {
    record.labels = { $type: 'com.atproto.label.defs#selfLabels', values: options.selfLabels.map((val) => ({ val })) };
  }
  return record;
}

export function aspectRatioOf(options: { width?: number; height?: number }): AspectRatio | undefined {
  const { width, height } = options;
  if (width === undefined || height === undefined || width < 1 || height < 1) return undefined;
  return { width: Math.round(width), height: Math.round(height) };
}

/** Resolves a mention handle through the account's PDS; `undefined` when it names no account. */
async function resolveMention(options: {
  context: BlueskyContext;
  session: SessionHandle;
  handle: string;
  signal?: AbortSignal;
}): Promise<string | undefined> {
  try {
    return await options.context.identity.resolveHandle({
      handle: options.handle,
      service: options.session.pdsUrl,
      signal: options.signal,
    });
  } catch (error) {
    if (LetmepostError.isInstance(error) && error.code === 'platform_auth_failed') return undefined;
    throw error;
  }
}

/**
 * Turns one thread item into a draft record: detects facets (resolving mentions), uploads images
 * or the link card image, and hands a video to the video service. Nothing is posted here; blobs
 * are only kept by the PDS once a record references them.
 */
export async function prepareItem(options: {
  context: BlueskyContext;
  session: SessionHandle;
  item: PostItem;
  itemIndex: number;
  /** Field prefix of this item in the post (`''` or `thread.0.`). */
  fieldPrefix: string;
  options: BlueskyOptions;
  warnings: PublishWarning[];
  signal?: AbortSignal;
  onProgress?: (event: MediaProgressEvent) => void;
}): Promise<PreparedItem> {
  const { context, session, item, itemIndex, fieldPrefix, signal, onProgress, warnings } = options;
  const { text, linkInlined } = composeItemText(item);
  if (linkInlined) {
    warnings.push({
      code: 'bluesky.link.inlined',
      message: `A Bluesky post cannot show a link card next to media; the link of ${itemIndex === 0 ? 'the post' : `thread item ${itemIndex}`} was added to its text.`,
    });
  }
  const resolved = await resolveFacets({
    text,
    resolveHandle: ({ handle }) => resolveMention({ context, session, handle, signal }),
  });
  warnings.push(...resolved.warnings);

  const media = item.media ?? [];
  let embed: PostEmbed | undefined;
  let videoJobId: string | undefined;
  let videoField: string | undefined;
  const progress = (mediaIndex: number) => (bytesSent: number, totalBytes: number) =>
    onProgress?.({ itemIndex, mediaIndex, bytesSent, totalBytes });

  const video = media.find(isVideo);
  if (video) {
    const mediaIndex = media.indexOf(video);
    const job = await startVideoJob({
      context,
      session,
      media: video,
      field: `${fieldPrefix}media.${mediaIndex}`,
      signal,
      onProgress: progress(mediaIndex),
    });
    const outcome = jobOutcome({ job, field: `${fieldPrefix}media.${mediaIndex}` });
    if (outcome.state === 'failed') throw outcome.error;
    const aspectRatio = aspectRatioOf(video);
    // Until the job ends the embed has no `video`; it is filled in before the record is written.
    embed = {
      $type: 'app.bsky.embed.video',
      ...(outcome.state === 'done' ? { video: outcome.blob } : {}),
      ...(video.altText ? { alt: video.altText } : {}),
      ...(aspectRatio ? { aspectRatio } : {}),
    } as PostEmbed;
    if (outcome.state === 'processing') {
      videoJobId = outcome.jobId;
      videoField = `${fieldPrefix}media.${mediaIndex}`;
    }
  } else if (media.length > 0) {
    const images = [];
    // One at a time: the PDS rate-limits per IP and the order of `images` is the display order.
    for (const [mediaIndex, image] of media.entries()) {
      const blob = await uploadImage({
        context,
        session,
        media: image,
        field: `${fieldPrefix}media.${mediaIndex}`,
        signal,
        onProgress: progress(mediaIndex),
      });
      const aspectRatio = aspectRatioOf(image);
      images.push({ image: blob, alt: image.altText ?? '', ...(aspectRatio ? { aspectRatio } : {}) });
    }
    embed = { $type: 'app.bsky.embed.images', images };
  } else if (item.link) {
    // The card details are per target; they describe the root post's link.
    const card = itemIndex === 0 ? options.options.linkCard : undefined;
    const thumb = card?.thumbUrl ? await uploadLinkThumb({ context, session, thumbUrl: card.thumbUrl, signal }) : {};
    if (thumb.warning) warnings.push(thumb.warning);
    embed = {
      $type: 'app.bsky.embed.external',
      external: {
        uri: item.link,
        title: card?.title ?? '',
        description: card?.description ?? '',
        ...(thumb.blob ? { thumb: thumb.blob } : {}),
      },
    };
  }

  const { createdAt: _createdAt, ...record } = buildPostRecord({
    text,
    facets: resolved.facets,
    embed,
    langs: options.options.langs,
    selfLabels: options.options.selfLabels,
    createdAt: '',
  });
  return { record, ...(videoJobId ? { videoJobId, videoField } : {}) };
}
