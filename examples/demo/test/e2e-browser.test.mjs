// End-to-end in a real browser: headless Debian Chromium driven by playwright-core walks the demo
// page as a user would, against the sandbox, through the real providers, REST handler and store.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../demo.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// A tiny valid PNG (1x1), enough for the upload path.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('demo page in headless Chromium', () => {
  let demo;
  let browser;
  let page;
  let dataDirectory;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs the Debian chromium package`);
    dataDirectory = mkdtempSync(join(tmpdir(), 'letmepost-demo-'));
    demo = await startDemo({ port: 0, useSandbox: true, dataDirectory });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await page.goto(`${demo.url}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
  });

  it('uploads X app credentials, lists them without the secret', async () => {
    await page.selectOption('#credentials-platform', 'twitter');
    await page.click('#save-credentials');
    await page.waitForSelector('#credentials-list tr[data-platform="twitter"]');
    const row = await page.textContent('#credentials-list tr[data-platform="twitter"]');
    expect(row).toContain('sandbox-twitter-client');
    expect(await page.content()).not.toContain('sandbox-twitter-secret-not-rendered');
    const listed = await page.evaluate(async () => (await fetch('/v1/platform-credentials', { headers: { authorization: 'Bearer demo-key' } })).text());
    expect(listed).not.toContain('sandbox-twitter-secret');
  });

  it('ends a denied consent in a clear error on the page', async () => {
    await page.click('#connect-twitter');
    await page.waitForSelector('[data-testid="deny"]');
    await page.click('[data-testid="deny"]');
    await page.waitForSelector('#banner[data-kind="error"]');
    expect(await page.textContent('#banner')).toContain('platform_auth_failed');
    expect(await page.$$('#accounts-list tr')).toHaveLength(0);
  });

  let callbackUrl;
  it('connects X through the consent page', async () => {
    page.on('request', (request) => {
      if (request.url().includes('/v1/accounts/oauth/twitter/callback')) callbackUrl = request.url();
    });
    await page.click('#connect-twitter');
    await page.waitForSelector('[data-testid="approve"]');
    await page.click('[data-testid="approve"]');
    await page.waitForSelector('#accounts-list tr[data-platform="twitter"]');
    expect(await page.textContent('#accounts-list tr[data-platform="twitter"]')).toContain('sandbox_x_user');
    expect(await page.textContent('#banner')).toContain('Account connected');
  });

  it('rejects a replayed callback with a clear error', async () => {
    expect(callbackUrl).toBeDefined();
    await page.goto(callbackUrl);
    await page.waitForSelector('#banner[data-kind="error"]');
    expect(await page.textContent('#banner')).toContain('state_invalid');
    expect(await page.$$('#accounts-list tr[data-platform="twitter"]')).toHaveLength(1);
  });

  it('connects Bluesky with an app password', async () => {
    await page.click('#connect-bluesky');
    await page.waitForSelector('#accounts-list tr[data-platform="bluesky"]');
    expect(await page.textContent('#accounts-list tr[data-platform="bluesky"]')).toContain('alice.sandbox.test');
  });

  it('publishes one post with an image to both and shows the results', async () => {
    await page.fill('#post-text', 'Hello from the letmepost e2e test');
    await page.setInputFiles('#post-image', { name: 'pixel.png', mimeType: 'image/png', buffer: PNG });
    await page.fill('#post-alt', 'a single pixel');
    await page.click('#publish');
    await page.waitForSelector('#results-list tr[data-platform="bluesky"]');
    const statuses = await page.$$eval('#results-list tr', (rows) => rows.map((row) => [row.dataset.platform, row.dataset.status]));
    expect(statuses.sort()).toEqual([['bluesky', 'published'], ['twitter', 'published']]);
    expect(await page.getAttribute('#results-list tr[data-platform="twitter"] a', 'href')).toMatch(/^https:\/\/x\.com\/sandbox_x_user\/status\/\d+$/);
    expect(await page.getAttribute('#results-list tr[data-platform="bluesky"] a', 'href')).toMatch(/^https:\/\/bsky\.app\/profile\/alice\.sandbox\.test\/post\/[a-z2-7]{13}$/);

    // What each network actually received, from the sandbox's own record.
    const received = demo.sandbox.state.posts.map((post) => [post.platform, post.text, post.mediaIds.length]);
    expect(received.sort()).toEqual([
      ['bluesky', 'Hello from the letmepost e2e test', 1],
      ['twitter', 'Hello from the letmepost e2e test', 1],
    ]);
    const twitterMedia = [...demo.sandbox.state.events].filter((event) => event.platform === 'twitter' && event.kind === 'media');
    expect(twitterMedia.length).toBeGreaterThan(0);
  });
});
