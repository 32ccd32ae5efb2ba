import { describe, expect, it } from 'vitest';
import type { MediaStaging } from './media-staging.js';
import type { Media } from './post.js';
import type { ProviderCapabilities } from './provider.js';
import { createHarness, createTestProvider, errorOf, testCapabilities } from './test-support/test-provider.js';

// Like an Instagram carousel: pulls media by URL and takes images and videos together (core's
// capability preflight would refuse the mixed posts below otherwise).
const pullCapabilities: ProviderCapabilities = { ...testCapabilities, media: { ...testCapabilities.media, ingest: 'pull', mixedImagesAndVideo: true } };
const credentials = { accessToken: 'tok-staging-1', pageId: 'page-1' };
const png = (bytes: number[]): Media => ({ data: new Uint8Array(bytes), mimeType: 'image/png' });

/** A host stager that records what it was given and what it released. */
function recordingStager(options: { fail?: boolean } = {}) {
  const staged: Array<{ platform: string; workspaceId?: string; bytes: number[]; mimeType: string }> = [];
  const released: string[] = [];
  const stager: MediaStaging = {
    async stage({ platform, workspaceId, media }) {
      if (options.fail) throw new Error('bucket unreachable');
      const bytes = 'data' in media ? [...media.data] : [];
      staged.push({ platform, ...(workspaceId !== undefined && { workspaceId }), bytes, mimeType: media.mimeType });
      return { url: `https://media.host.test/staged/${staged.length}` };
    },
    async release({ url }) {
      released.push(url);
    },
  };
  return { stager, staged, released };
}

describe('media staging for providers that pull media', () => {
  it('refuses bytes in preflight without a stager, naming mediaStaging, and sends nothing', async () => {
    const pull = createTestProvider({ id: 'instagram', capabilities: pullCapabilities });
    const harness = createHarness({ providers: [pull] });
    const failed = await errorOf(
      harness.letmepost.publish({
        post: { text: 'x', media: [{ url: 'https://cdn.test/a.png', mimeType: 'image/png' }], thread: [{ text: 'y', media: [png([1])] }] },
        targets: [{ platform: 'instagram', credentials }],
      }),
    );
    expect(failed.code).toBe('preflight_failed');
    expect(failed.issues).toEqual([
      { field: 'post.thread.0.media.0', rule: 'media.staging_not_configured', message: expect.stringContaining('createLetmepost({ mediaStaging })') },
    ]);
    expect(pull.calls.publish).toHaveLength(0);
  });

  it('leaves push providers alone: no staging, bytes go to the provider as given', async () => {
    const push = createTestProvider();
    const { stager, staged } = recordingStager();
    const harness = createHarness({ providers: [push], mediaStaging: stager });
    await harness.letmepost.publish({ post: { text: 'x', media: [png([1, 2])] }, targets: [{ platform: 'linkedin', credentials }] });
    expect(staged).toEqual([]);
    expect(push.calls.publish[0]?.post.media?.[0]).toMatchObject({ data: new Uint8Array([1, 2]) });
  });

  it('stages bytes and streams to URLs before the provider runs and releases them once published', async () => {
    const seen: Media[] = [];
    const { stager, staged, released } = recordingStager();
    const pull = createTestProvider({
      id: 'instagram',
      capabilities: pullCapabilities,
      publish: async ({ post }) => {
        seen.push(...(post.media ?? []));
        expect(released).toEqual([]);
        return { status: 'published', postId: 'ig-1', warnings: [] };
      },
    });
    const harness = createHarness({ providers: [pull], mediaStaging: stager });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([7, 7]));
        controller.close();
      },
    });
    const [result] = await harness.letmepost.publish({
      post: {
        text: 'x',
        media: [
          { ...png([1, 2, 3]), altText: 'three bytes' },
          { stream, size: 2, mimeType: 'video/mp4' },
          { url: 'https://cdn.test/already-public.png', mimeType: 'image/png' },
        ],
      },
      targets: [{ platform: 'instagram', credentials }],
    });
    expect(result).toMatchObject({ status: 'published', postId: 'ig-1' });
    expect(seen).toEqual([
      { url: 'https://media.host.test/staged/1', mimeType: 'image/png', altText: 'three bytes' },
      { url: 'https://media.host.test/staged/2', mimeType: 'video/mp4' },
      { url: 'https://cdn.test/already-public.png', mimeType: 'image/png' },
    ]);
    expect(staged.map((entry) => [entry.platform, entry.bytes, entry.mimeType])).toEqual([
      ['instagram', [1, 2, 3], 'image/png'],
      ['instagram', [], 'video/mp4'],
    ]);
    expect(released.sort()).toEqual(['https://media.host.test/staged/1', 'https://media.host.test/staged/2']);
  });

  it('keeps staged media up while pending and releases it when resume finishes the publish', async () => {
    const { stager, released } = recordingStager();
    const pull = createTestProvider({
      id: 'instagram',
      capabilities: pullCapabilities,
      publish: async () => ({ status: 'pending', resume: { container: 'c-1' }, checkAfterMs: 1000, warnings: [] }),
      checkStatus: async () => ({ status: 'ready' }),
      finalize: async () => ({ status: 'published', postId: 'ig-2', warnings: [] }),
    });
    const harness = createHarness({ providers: [pull], mediaStaging: stager });
    const [pending] = await harness.letmepost.publish({
      workspaceId: 'ws-1',
      post: { text: 'x', media: [png([9])] },
      targets: [{ platform: 'instagram', credentials }],
    });
    expect(pending?.status).toBe('pending');
    expect(released).toEqual([]);
    const done = await harness.letmepost.resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    expect(done).toMatchObject({ status: 'published', postId: 'ig-2' });
    expect(released).toEqual(['https://media.host.test/staged/1']);
  });

  it('fails the target without calling the provider when staging fails', async () => {
    const { stager } = recordingStager({ fail: true });
    const pull = createTestProvider({ id: 'instagram', capabilities: pullCapabilities });
    const harness = createHarness({ providers: [pull], mediaStaging: stager });
    const [result] = await harness.letmepost.publish({ post: { text: 'x', media: [png([1])] }, targets: [{ platform: 'instagram', credentials }] });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'media_unreachable', field: 'post.media.0' } });
    expect(pull.calls.publish).toHaveLength(0);
  });

  it('refuses a mediaStaging without stage()', async () => {
    const failed = await errorOf(
      Promise.resolve().then(() => createHarness({ providers: [createTestProvider()], mediaStaging: {} as MediaStaging })),
    );
    expect(failed).toMatchObject({ code: 'validation_failed', field: 'mediaStaging' });
  });
});
