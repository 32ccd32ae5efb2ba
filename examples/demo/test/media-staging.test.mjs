// The demo's stager serves staged bytes from the demo origin until letmepost releases them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../demo.mjs';
import { createDemoMediaStaging } from '../media-staging.mjs';

describe('demo media staging', () => {
  let demo;
  let dataDirectory;

  beforeAll(async () => {
    dataDirectory = mkdtempSync(join(tmpdir(), 'letmepost-demo-staging-'));
    demo = await startDemo({ port: 0, useSandbox: true, dataDirectory });
  });

  afterAll(async () => {
    await demo?.close();
    if (dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('stages bytes and streams to an unguessable URL and forgets them on release', async () => {
    const staging = createDemoMediaStaging({ baseUrl: 'https://demo.example' });
    const first = await staging.mediaStaging.stage({ platform: 'instagram', media: { data: new Uint8Array([1, 2, 3]), size: 3, mimeType: 'image/png' } });
    async function* pieces() {
      yield new Uint8Array([4]);
      yield new Uint8Array([5, 6]);
    }
    const second = await staging.mediaStaging.stage({ platform: 'instagram', media: { stream: pieces(), size: 3, mimeType: 'video/mp4' } });
    expect(first.url).toMatch(/^https:\/\/demo\.example\/media\/staged\/[A-Za-z0-9_-]{24}$/);
    expect(second.url).not.toBe(first.url);

    const served = (url) => {
      const response = { status: 0, headers: {}, body: undefined };
      response.writeHead = (status, headers = {}) => Object.assign(response, { status, headers }) && response;
      response.end = (body) => void (response.body = body);
      const handled = staging.serve({ method: 'GET', url: new URL(url).pathname }, response);
      return { handled, ...response };
    };
    expect(served(first.url)).toMatchObject({ handled: true, status: 200, headers: { 'content-type': 'image/png' } });
    expect([...served(second.url).body]).toEqual([4, 5, 6]);
    await staging.mediaStaging.release({ url: first.url });
    expect(served(first.url).status).toBe(404);
    expect(served('https://demo.example/v1/accounts').handled).toBe(false);
  });

  it('is wired into the demo host: a staged file is served from the demo origin, then gone once released', async () => {
    const { url } = await demo.mediaStaging.stage({ platform: 'instagram', media: { data: new Uint8Array([9, 8, 7]), size: 3, mimeType: 'image/jpeg' } });
    expect(new URL(url).origin).toBe(new URL(demo.url).origin);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([9, 8, 7]);
    await demo.mediaStaging.release({ url });
    expect((await fetch(url)).status).toBe(404);
  });
});
