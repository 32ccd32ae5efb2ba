import { createLetmepost, type AnyProvider } from '@letmepost/core';
import { sqliteTokenStore } from '@letmepost/store-sqlite';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNeverTwiceScenario } from '@letmepost/testing';
import { afterEach, describe, expect, it } from 'vitest';

const IG_USER_ID = '17841400000000001';
/** Container ids are this prefix and a counter, one per `POST /{ig-user-id}/media`. */
const CONTAINER_PREFIX = '1788945556005';
const MEDIA_ID = '17918195224117851';
const CAPTION = 'Fresh sourdough, out of the oven at 7';

/**
 * graph.instagram.com as far as one publish goes, on a real socket: the container is `FINISHED`
 * until `media_publish` runs and `PUBLISHED` after, as on Instagram. It tells the test the moment
 * a `media_publish` answer has gone out, so the publishing process can be killed before it
 * records the outcome.
 */
async function startInstagramGraph() {
  let publishes = 0;
  let containers = 0;
  /** Containers stay IN_PROGRESS until the test says processing is over. */
  let processing = false;
  const published = new Set<string>();
  const waiters: Array<() => void> = [];
  const send = (response: ServerResponse, body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://graph');
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const route = `${request.method} ${url.pathname}`;
      const container = /^GET \/v26\.0\/(1788\d+)$/.exec(route)?.[1];
      if (route === `GET /v26.0/${IG_USER_ID}/content_publishing_limit`) return send(response, { data: [{ quota_usage: 1, config: { quota_total: 50, quota_duration: 86400 } }] });
      if (route === `POST /v26.0/${IG_USER_ID}/media`) return send(response, { id: `${CONTAINER_PREFIX}${1000 + (containers += 1)}` });
      if (container !== undefined) return send(response, { id: container, status_code: published.has(container) ? 'PUBLISHED' : processing ? 'IN_PROGRESS' : 'FINISHED' });
      if (route === `GET /v26.0/${MEDIA_ID}`) return send(response, { id: MEDIA_ID, permalink: 'https://www.instagram.com/p/DAbCdEfGhIj/' });
      if (route === `POST /v26.0/${IG_USER_ID}/media_publish`) {
        publishes += 1;
        published.add(form.get('creation_id') ?? '');
        send(response, { id: MEDIA_ID });
        // Released in the same tick the answer is written, so the kill lands before the
        // publishing process can read it and record the outcome.
        for (const waiter of waiters.splice(0)) waiter();
        return;
      }
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${route}`, type: 'GraphMethodException', code: 100 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    publishes: () => publishes,
    setProcessing: (value: boolean) => void (processing = value),
    nextPublishAnswered: () => new Promise<void>((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('Instagram never twice: the publishing process is SIGKILLed right after media_publish answered', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function scenario(options: { retryIdempotencyKey?: string }) {
    const graph = await startInstagramGraph();
    const path = join(tmpdir(), `letmepost-instagram-never-twice-${process.pid}-${Date.now()}.db`);
    cleanups.push(graph.close, () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    });
    const report = await runNeverTwiceScenario({
      store: { storeModule: import.meta.resolve('@letmepost/store-sqlite'), storeFactory: 'sqliteTokenStore', storeOptions: { path, busyTimeoutMs: 10_000 } },
      // The built package, as a host imports it; each process builds its own provider from these settings.
      provider: {
        module: new URL('../dist/index.js', import.meta.url).href,
        export: 'createInstagram',
        settings: { apiBaseUrl: graph.url, allowPrivateNetwork: true, containerWait: { intervalMs: 0, maxWaitMs: 0 } },
      },
      createAnswered: graph.nextPublishAnswered,
      createCount: graph.publishes,
      publish: {
        workspaceId: 'ws-1',
        post: { text: CAPTION, media: [{ url: `${graph.url}/media/sourdough.jpg`, mimeType: 'image/jpeg' }] },
        targets: [{ platform: 'instagram', credentials: { accessToken: 'IGAAnever-twice-token', instagramAccountId: IG_USER_ID } }],
        idempotencyKey: 'bakery-post-7',
      },
      ...(options.retryIdempotencyKey !== undefined && { retryIdempotencyKey: options.retryIdempotencyKey }),
    });
    return { report, graph };
  }

  it('a retry with the same idempotency key makes zero new media_publish calls and answers the stored outcome or unknown', async () => {
    const { report } = await scenario({});
    expect(report.killedBy).toBe('SIGKILL');
    expect(report.createsBeforeKill).toBe(1);
    expect(report.createsDuringRetry).toBe(0);
    const [result] = report.retryResults;
    if (result?.status === 'published') expect(result.postId).toBe(MEDIA_ID);
    else expect(result).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
  });

  it('control: a retry under another key is a second media_publish, and the harness sees it', async () => {
    // Proves the scenario can observe a duplicate, so the zero above means something.
    const { report } = await scenario({ retryIdempotencyKey: 'another-key' });
    expect(report.createsBeforeKill).toBe(1);
    expect(report.createsDuringRetry).toBe(1);
  });
});

describe('Instagram never twice: a resume SIGKILLed right after media_publish answered', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('resuming the same token again makes zero new media_publish calls and answers unknown', async () => {
    const graph = await startInstagramGraph();
    const storePath = join(tmpdir(), `letmepost-instagram-resume-${process.pid}-${Date.now()}.db`);
    cleanups.push(graph.close, () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath}${suffix}`, { force: true });
    });
    const providerUrl = new URL('../dist/index.js', import.meta.url).href;
    const settings = { apiBaseUrl: graph.url, allowPrivateNetwork: true, containerWait: { intervalMs: 0, maxWaitMs: 0 } };
    const credentials = { accessToken: 'IGAAresume-token', instagramAccountId: IG_USER_ID };
    const encryptionKey = randomBytes(32).toString('base64');
    const { createInstagram } = (await import(providerUrl)) as { createInstagram: (settings: object) => AnyProvider };
    const letmepostAt = (offsetMs: number) => {
      const clock = { now: () => Date.now() + offsetMs };
      const store = sqliteTokenStore({ path: storePath, busyTimeoutMs: 10_000, clock });
      cleanups.push(() => store.close());
      return createLetmepost({ providers: [createInstagram(settings)], store, encryptionKey, baseUrl: 'https://app.example', clock });
    };

    // The video is still processing: the publish ends pending with a resume token.
    graph.setProcessing(true);
    const [pending] = await letmepostAt(0).publish({
      workspaceId: 'ws-1',
      post: { text: CAPTION, media: [{ url: `${graph.url}/media/shaping.mp4`, mimeType: 'video/mp4' }] },
      targets: [{ platform: 'instagram', credentials }],
    });
    expect(pending).toMatchObject({ status: 'pending' });
    graph.setProcessing(false);

    // Another process resumes it and is killed the moment media_publish has answered.
    const child = fork(fileURLToPath(new URL('./test-support/instagram-resume-worker.mjs', import.meta.url)), [
      JSON.stringify({ providerUrl, settings, storePath, encryptionKey, workspaceId: 'ws-1', resumeToken: pending?.resumeToken, credentials }),
    ], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    cleanups.push(() => void child.kill('SIGKILL'));
    await Promise.race([graph.nextPublishAnswered(), exited.then(() => Promise.reject(new Error('the resuming process ended before media_publish')))]);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(graph.publishes()).toBe(1);

    // The same token again, once the dead process's lease has lapsed: never a second media_publish.
    const again = await letmepostAt(3 * 60_000).resume({ workspaceId: 'ws-1', resumeToken: pending!.resumeToken!, credentials });
    expect(graph.publishes()).toBe(1);
    if (again.status === 'published') expect(again.postId).toBe(MEDIA_ID);
    else expect(again).toMatchObject({ status: 'unknown', error: { code: 'publish_outcome_unknown' } });
  }, 60_000);
});
