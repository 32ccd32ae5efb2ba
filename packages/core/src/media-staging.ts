import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import type { LetmepostContext } from './letmepost-context.js';
import { LetmepostError, type LetmepostErrorIssue } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';
import type { Media, Post, PostItem } from './post.js';
import type { AnyProvider } from './provider.js';

/** The bytes of one piece of media handed to `MediaStaging.stage`. */
export type StagedMediaInput =
  | { data: Uint8Array; size: number; mimeType: string; fileName?: string }
  | { stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; size: number; mimeType: string; fileName?: string };

/**
 * A host hook that turns bytes or a stream into a public URL, for platforms that fetch media
 * themselves (`capabilities.media.ingest === 'pull'`: Instagram, Threads, TikTok pull mode,
 * Pinterest video). Typical implementations upload to object storage and return a presigned GET
 * URL, or serve the bytes from a route on the host's own origin.
 *
 * The URL must be reachable by the platform (public https) until `release` is called: core
 * releases it once the target's publish reached a final state, which for a `pending` publish is
 * when `letmepost.resume()` finishes it.
 */
export interface MediaStaging {
  stage(options: {
    platform: PlatformId;
    workspaceId?: string;
    media: StagedMediaInput;
    signal?: AbortSignal;
  }): Promise<{ url: string; expiresAt?: number }>;
  release?(options: { url: string }): Promise<void>;
}

export const mediaStagingSchema = lazySchema(() =>
  z.custom<MediaStaging>(
    (value) =>
      value !== null &&
      typeof value === 'object' &&
      typeof (value as MediaStaging).stage === 'function' &&
      ((value as MediaStaging).release === undefined || typeof (value as MediaStaging).release === 'function'),
    'must be an object with a stage() method (and optionally release())',
  ),
);

const stagedUrlSchema = lazySchema(() =>
  z.object({
    url: z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }),
    expiresAt: z.number().optional(),
  }),
);

export function pullsMedia(provider: AnyProvider): boolean {
  return provider.capabilities.media.ingest === 'pull';
}

function needsStaging(media: Media): boolean {
  return media.url === undefined;
}

/**
 * Preflight for providers that pull media: bytes and streams need a stager to become URLs.
 * Without one, the refusal names the option to configure.
 */
export function stagingIssues({
  context,
  provider,
  post,
  targetIndex,
}: {
  context: LetmepostContext;
  provider: AnyProvider;
  post: Post;
  targetIndex: number;
}): LetmepostErrorIssue[] {
  if (!pullsMedia(provider) || context.mediaStaging !== undefined) return [];
  const issues: LetmepostErrorIssue[] = [];
  const visit = (item: PostItem, prefix: string): void => {
    (item.media ?? []).forEach((media, mediaIndex) => {
      if (!needsStaging(media)) return;
      issues.push({
        field: `post.${prefix}media.${mediaIndex}`,
        rule: 'media.staging_not_configured',
        message:
          `targets.${targetIndex} (${provider.id}): ${provider.id} fetches media from a public URL; ` +
          'give this media as { url }, or configure createLetmepost({ mediaStaging }) to stage bytes and streams',
      });
    });
  };
  visit(post, '');
  (post.thread ?? []).forEach((item, index) => visit(item, `thread.${index}.`));
  return issues;
}

export interface StagedPost {
  post: Post;
  /** URLs to release once the target reached a final state. */
  staged: string[];
}

/**
 * Replaces every byte or stream media item of the post with a staged URL, for one target whose
 * provider pulls media. On failure, what was already staged is released and the error says
 * nothing was sent to the platform.
 */
export async function stagePostMedia({
  context,
  platform,
  workspaceId,
  post,
  signal,
}: {
  context: LetmepostContext;
  platform: PlatformId;
  workspaceId: string | undefined;
  post: Post;
  signal: AbortSignal | undefined;
}): Promise<StagedPost> {
  const staging = context.mediaStaging;
  const staged: string[] = [];
  if (staging === undefined) return { post, staged };

  const stageOne = async (media: Media, field: string): Promise<Media> => {
    if (!needsStaging(media)) return media;
    const { data, stream, size, url: _url, ...described } = media as Media & { size?: number };
    const input: StagedMediaInput =
      data !== undefined
        ? { data, size: data.byteLength, mimeType: media.mimeType, ...(media.fileName !== undefined && { fileName: media.fileName }) }
        : {
            stream: stream as NonNullable<typeof stream>,
            size: size as number,
            mimeType: media.mimeType,
            ...(media.fileName !== undefined && { fileName: media.fileName }),
          };
    let answer: unknown;
    try {
      answer = await staging.stage({
        platform,
        ...(workspaceId !== undefined && { workspaceId }),
        media: input,
        ...(signal !== undefined && { signal }),
      });
    } catch (error) {
      throw new LetmepostError({
        code: 'media_unreachable',
        platform,
        field,
        retryable: true,
        message: `mediaStaging.stage failed for ${field}; nothing was sent to ${platform}.`,
        remediation: 'Check the host’s media staging (object storage, credentials) and publish again.',
        cause: error,
      });
    }
    const parsed = stagedUrlSchema().safeParse(answer);
    if (!parsed.success) {
      throw new LetmepostError({
        code: 'media_unreachable',
        platform,
        field,
        message: `mediaStaging.stage answered without a usable { url } for ${field}; nothing was sent to ${platform}.`,
        remediation: 'Return { url } with the absolute http(s) URL the platform can fetch.',
      });
    }
    staged.push(parsed.data.url);
    return { ...described, url: parsed.data.url } as Media;
  };

  const stageItem = async (item: PostItem, prefix: string): Promise<PostItem> => {
    if (item.media === undefined) return item;
    const media: Media[] = [];
    // One after the other: a stream is read once, and the host's storage sees one upload at a time per target.
    for (const [index, entry] of item.media.entries()) media.push(await stageOne(entry, `post.${prefix}media.${index}`));
    return { ...item, media };
  };

  try {
    const root = await stageItem(post, '');
    const thread: PostItem[] = [];
    for (const [index, item] of (post.thread ?? []).entries()) thread.push(await stageItem(item, `thread.${index}.`));
    return { post: { ...post, ...root, ...(post.thread !== undefined && { thread }) }, staged };
  } catch (error) {
    await releaseStagedMedia({ context, platform, staged, workspaceId });
    throw error;
  }
}

/** Best effort: a release that fails leaves a URL that expires on its own; it never changes a result. */
export async function releaseStagedMedia({
  context,
  platform,
  staged,
  workspaceId,
}: {
  context: LetmepostContext;
  platform: PlatformId;
  staged: readonly string[];
  workspaceId: string | undefined;
}): Promise<void> {
  const release = context.mediaStaging?.release;
  if (release === undefined || staged.length === 0) return;
  await Promise.all(
    staged.map(async (url) => {
      try {
        await release.call(context.mediaStaging, { url });
      } catch {
        context.log('warn', 'letmepost.media_staging.release_failed', { workspaceId, platform });
      }
    }),
  );
}
