// Facebook Pages, Instagram and Threads walked through the demo page in headless Chromium, against
// the sandbox: workspace apps saved from the pre-filled form, connects through the sandbox consent
// pages, then one post with an image published to every account. Instagram and Threads fetch the
// image from the demo's own staging URL, so this also proves the loopback media host is allowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDemoInBrowser } from './browser-session.mjs';

const META_PLATFORMS = ['facebook', 'instagram', 'threads'];

describe('demo page: Facebook Pages, Instagram and Threads', () => {
  let demo;
  let page;
  let session;

  beforeAll(async () => {
    session = await openDemoInBrowser({ directoryPrefix: 'letmepost-demo-meta-' });
    ({ demo, page } = session);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('saves the pre-filled sandbox app of each', async () => {
    for (const platform of META_PLATFORMS) {
      await page.selectOption('#credentials-platform', platform);
      expect(await page.inputValue('#client-id')).toBe(`sandbox-${platform}-client`);
      await page.click('#save-credentials');
      await page.waitForSelector(`#credentials-list tr[data-platform="${platform}"]`);
    }
  });

  it('connects each through its sandbox consent page', async () => {
    for (const platform of META_PLATFORMS) {
      await page.click(`#connect-${platform}`);
      await page.waitForSelector('[data-testid="approve"]');
      await page.click('[data-testid="approve"]');
      await page.waitForSelector(`#accounts-list tr[data-platform="${platform}"]`);
      expect(await page.textContent('#banner')).toContain('Account connected');
    }
    const connected = await page.$$eval('#accounts-list tr', (rows) => rows.map((row) => row.dataset.platform));
    // One Facebook login brings every Page of its user, each its own account.
    expect(connected.sort()).toEqual(['facebook', 'facebook', 'instagram', 'threads']);
  });

  it('refuses a text-only post for Instagram with the typed preflight error', async () => {
    await page.fill('#post-text', 'No picture this time');
    await page.click('#publish');
    await page.waitForSelector('#results-summary[data-kind="error"]');
    expect(await page.textContent('#results-summary .message')).toMatch(/^preflight_failed: /);
    const issues = await page.$$eval('#results-summary .issues li', (items) => items.map((item) => item.textContent));
    expect(issues.some((issue) => issue.includes('instagram'))).toBe(true);
    expect(demo.sandbox.state.posts).toHaveLength(0);
  });

  it('publishes one post with an image to all three', async () => {
    await page.fill('#post-text', 'Fresh bread from the letmepost demo');
    // Instagram takes JPEG only: the browser encodes a small one, as a phone camera would.
    const jpegBase64 = await page.evaluate(() => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 8, height: 8 });
      const context = canvas.getContext('2d');
      context.fillStyle = '#c08040';
      context.fillRect(0, 0, 8, 8);
      return canvas.toDataURL('image/jpeg').split(',')[1];
    });
    await page.setInputFiles('#post-image', { name: 'bread.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(jpegBase64, 'base64') });
    await page.fill('#post-alt', 'a loaf, in one colour');
    await page.click('#publish');
    // The preflight refusal above left the results empty: rows appear once this publish answers.
    await page.waitForSelector('#results-list tr', { timeout: 20_000 }).catch(async () => {
      throw new Error(`no results; summary: ${await page.textContent('#results-summary')}`);
    });
    const results = await page.$$eval('#results-list tr', (rows) => rows.map((row) => [row.dataset.platform, row.dataset.status, row.children[3].textContent]));
    const targets = await page.$$eval('input.target', (boxes) => boxes.length);
    expect(results).toHaveLength(targets);
    for (const [platform, status, error] of results) expect({ platform, status, error }).toEqual({ platform, status: 'published', error: '' });
    expect(new Set(results.map(([platform]) => platform))).toEqual(new Set(META_PLATFORMS));
    expect(await page.textContent('#results-summary')).toBe(`Published to ${targets} target(s)`);

    // What each network actually stored, from the sandbox's own record.
    const received = demo.sandbox.state.posts.map((post) => [post.platform, post.text, post.mediaIds.length]);
    for (const platform of META_PLATFORMS) {
      expect(received).toContainEqual([platform, 'Fresh bread from the letmepost demo', 1]);
    }
  });
});
