import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { publishContainerOnce, readContainer, waitForContainer } from './meta-graph-container.js';
import { createGraphHttpClient } from './meta-graph-http.js';

const IG = 'https://graph.instagram.com';
const TOKEN = 'ig-token-c4n4ry-4444';
const noSleep = async (): Promise<void> => {};

function http() {
  return createGraphHttpClient({ platform: 'instagram', baseUrl: IG, apiVersion: 'v26.0', retry: { maxAttempts: 1 } });
}

function statusReply(options: { status: string; detail?: string }) {
  return nock(IG)
    .get('/v26.0/17890')
    .query({ fields: 'status_code,status', access_token: TOKEN })
    .reply(200, { id: '17890', status_code: options.status, ...(options.detail !== undefined && { status: options.detail }) });
}

const read = { containerId: '17890', accessToken: TOKEN, statusField: 'status_code', detailField: 'status' } as const;

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('readContainer', () => {
  it('reads the status field and the reason of an ERROR', async () => {
    statusReply({ status: 'ERROR', detail: 'Error: 2207026' });
    await expect(readContainer({ http: http(), ...read })).resolves.toEqual({ containerId: '17890', status: 'ERROR', detail: 'Error: 2207026' });
  });

  it('Threads: status + error_message', async () => {
    nock('https://graph.threads.net').get('/v1.0/555').query({ fields: 'status,error_message', access_token: TOKEN }).reply(200, { id: '555', status: 'FINISHED' });
    const threads = createGraphHttpClient({ platform: 'threads', baseUrl: 'https://graph.threads.net', apiVersion: 'v1.0' });
    await expect(readContainer({ http: threads, containerId: '555', accessToken: TOKEN, statusField: 'status', detailField: 'error_message' })).resolves.toEqual({ containerId: '555', status: 'FINISHED' });
  });

  it('an unknown status is platform_unavailable, not a guess', async () => {
    statusReply({ status: 'SOMETHING_NEW' });
    await expect(readContainer({ http: http(), ...read })).rejects.toMatchObject({ code: 'platform_unavailable' });
  });
});

describe('waitForContainer', () => {
  it('polls IN_PROGRESS until FINISHED', async () => {
    statusReply({ status: 'IN_PROGRESS' });
    statusReply({ status: 'IN_PROGRESS' });
    statusReply({ status: 'FINISHED' });
    const sleep = vi.fn(noSleep);
    const result = await waitForContainer({ http: http(), ...read, intervalMs: 1000, maxWaitMs: 10_000, sleep });
    expect(result).toMatchObject({ done: true, attempts: 3, state: { status: 'FINISHED' } });
    expect(sleep).toHaveBeenCalledTimes(2);
  });

  it('ends not done after the budget (the caller answers pending)', async () => {
    for (let look = 0; look < 3; look += 1) statusReply({ status: 'IN_PROGRESS' });
    const result = await waitForContainer({ http: http(), ...read, intervalMs: 1000, maxWaitMs: 2000, sleep: noSleep });
    expect(result).toMatchObject({ done: false, attempts: 3, state: { status: 'IN_PROGRESS' } });
  });
});

describe('publishContainerOnce', () => {
  it('a state waitForContainer just read is used without reading again', async () => {
    const publish = vi.fn(async () => 'media-2');
    const knownState = { containerId: read.containerId, status: 'FINISHED' as const };
    await expect(publishContainerOnce({ http: http(), ...read, publish, knownState })).resolves.toEqual({ outcome: 'published', mediaId: 'media-2' });
    await expect(publishContainerOnce({ http: http(), ...read, publish, knownState: { ...knownState, status: 'PUBLISHED' } })).resolves.toEqual({ outcome: 'already_published' });
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('FINISHED: publishes once and keeps the id', async () => {
    statusReply({ status: 'FINISHED' });
    const publish = vi.fn(async () => 'media-1');
    await expect(publishContainerOnce({ http: http(), ...read, publish })).resolves.toEqual({ outcome: 'published', mediaId: 'media-1' });
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('PUBLISHED (killed after the publish answered): never publishes again', async () => {
    statusReply({ status: 'PUBLISHED' });
    const publish = vi.fn(async () => 'media-2');
    await expect(publishContainerOnce({ http: http(), ...read, publish })).resolves.toEqual({ outcome: 'already_published' });
    expect(publish).not.toHaveBeenCalled();
  });

  it('a kept published id: nothing is read or sent', async () => {
    const publish = vi.fn(async () => 'media-3');
    await expect(publishContainerOnce({ http: http(), ...read, publish, publishedId: 'media-0' })).resolves.toEqual({ outcome: 'already_published', mediaId: 'media-0' });
    expect(publish).not.toHaveBeenCalled();
  });

  it('IN_PROGRESS: processing, nothing sent; ERROR and EXPIRED throw media_invalid with their rule', async () => {
    statusReply({ status: 'IN_PROGRESS' });
    const publish = vi.fn(async () => 'never');
    await expect(publishContainerOnce({ http: http(), ...read, publish })).resolves.toMatchObject({ outcome: 'processing' });
    statusReply({ status: 'ERROR', detail: 'Error: 2207052' });
    await expect(publishContainerOnce({ http: http(), ...read, publish })).rejects.toMatchObject({ code: 'media_invalid', rule: 'instagram.container.error' });
    statusReply({ status: 'EXPIRED' });
    await expect(publishContainerOnce({ http: http(), ...read, publish })).rejects.toMatchObject({ code: 'media_invalid', rule: 'instagram.container.expired' });
    expect(publish).not.toHaveBeenCalled();
  });
});
