// End-to-end in a real browser: headless Debian Chromium driven by playwright-core walks the demo
// page as a user would, against the sandbox, through the real providers, REST handler and store.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDemoInBrowser } from './browser-session.mjs';

// Screenshots of each state, for a person to look at; overwritten on every run, not committed.
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', '.screenshots');
// A tiny valid PNG (1x1), enough for the upload path.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('demo page in headless Chromium', () => {
  let demo;
  let browser;
  let page;
  let session;

  beforeAll(async () => {
    session = await openDemoInBrowser({ directoryPrefix: 'letmepost-demo-' });
    ({ demo, browser, page } = session);
  });

  afterAll(async () => {
    await session?.close();
  });

  it('shows the fix and the docs link when a connect fails for want of an app', async () => {
    // LinkedIn has neither a workspace app nor an instance app in sandbox mode.
    await page.click('#connect-linkedin');
    await page.waitForSelector('#banner[data-kind="error"] .doc-link');
    expect(await page.textContent('#banner .message')).toContain('app_credentials_missing');
    expect(await page.textContent('#banner .hint')).toMatch(/^How to fix: .+/);
    expect(await page.getAttribute('#banner .doc-link', 'href')).toMatch(/^https:\/\/.+\/app_credentials_missing\.md$/);
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
    expect(await page.textContent('#banner .hint')).toBe('How to fix: The user declined; start a new connect session to try again.');
    expect(await page.getAttribute('#banner .doc-link', 'href')).toMatch(/\/platform_auth_failed\.md$/);
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

  it('links a connect error to http(s) docs only, whatever the query string says', async () => {
    await page.goto(`${demo.url}/?connect_error=platform_auth_failed&message=x&doc_url=${encodeURIComponent('javascript:alert(1)')}`);
    await page.waitForSelector('#banner[data-kind="error"]');
    expect(await page.$$('#banner .doc-link')).toHaveLength(0);
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
    expect(await page.getAttribute('#results-summary', 'data-kind')).toBe('ok');
    expect(await page.textContent('#results-summary')).toBe('Published to 2 target(s)');

    // What each network actually received, from the sandbox's own record.
    const received = demo.sandbox.state.posts.map((post) => [post.platform, post.text, post.mediaIds.length]);
    expect(received.sort()).toEqual([
      ['bluesky', 'Hello from the letmepost e2e test', 1],
      ['twitter', 'Hello from the letmepost e2e test', 1],
    ]);
    const twitterMedia = [...demo.sandbox.state.events].filter((event) => event.platform === 'twitter' && event.kind === 'media');
    expect(twitterMedia.length).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'published.png'), fullPage: true });
  });

  it('resets the progress bar once the publish has finished', async () => {
    expect(await page.$eval('#upload-progress', (progress) => ({ hidden: progress.hidden, value: progress.value }))).toEqual({ hidden: true, value: 0 });
  });

  it("links each post to the sandbox's record of it, not to the real network", async () => {
    for (const platform of ['twitter', 'bluesky']) {
      const href = await page.getAttribute(`#results-list tr[data-platform="${platform}"] a.post-link`, 'href');
      expect(href).toMatch(/^\/sandbox-post\?platform=/);
      const [stored] = demo.sandbox.state.posts.filter((post) => post.platform === platform);
      const tab = await browser.newPage();
      try {
        await tab.goto(`${demo.url}${href}`);
        expect(tab.url()).toBe(demo.sandbox.postUrl({ platform, postId: stored.id }));
        expect(await tab.getAttribute('[data-testid="sandbox-post"]', 'data-post-id')).toBe(stored.id);
        expect(await tab.textContent('[data-testid="sandbox-post"] blockquote')).toBe('Hello from the letmepost e2e test');
      } finally {
        await tab.close();
      }
    }
    const hrefs = await page.$$eval('#results a', (links) => links.map((link) => link.href));
    expect(hrefs.filter((href) => /x\.com|bsky\.app|linkedin\.com/.test(href))).toEqual([]);
  });

  it('says a dry run sent nothing, styled apart from a publish', async () => {
    const before = demo.sandbox.state.posts.length;
    const publishedBackground = await page.$eval('#results-summary', (element) => getComputedStyle(element).backgroundColor);
    await page.fill('#post-text', 'Only checking this one');
    await page.setInputFiles('#post-image', []);
    await page.check('#dry-run');
    await page.click('#publish');
    await page.waitForSelector('#results-summary[data-kind="dry-run"]');
    expect(await page.textContent('#results-summary')).toBe('Dry run: nothing was sent. 2 target(s) would publish.');
    expect(await page.$eval('#results-summary', (element) => getComputedStyle(element).backgroundColor)).not.toBe(publishedBackground);
    const rows = await page.$$eval('#results-list tr', (list) => list.map((row) => [row.dataset.platform, row.dataset.dryRun, row.children[1].textContent, row.children[1].className, row.querySelectorAll('a').length]));
    expect(rows.sort()).toEqual([
      ['bluesky', 'true', 'would publish (dry run)', 'status-dry-run', 0],
      ['twitter', 'true', 'would publish (dry run)', 'status-dry-run', 0],
    ]);
    expect(await page.$$('#results .status-published')).toHaveLength(0);
    expect(demo.sandbox.state.posts.length).toBe(before);
    await page.screenshot({ path: join(SCREENSHOTS, 'dry-run.png'), fullPage: true });
    await page.uncheck('#dry-run');
  });

  it('clears earlier results when a publish fails as a whole, and shows the fix and the docs link', async () => {
    await page.fill('#post-text', 'Results of this one stay on screen');
    await page.click('#publish');
    await page.waitForSelector('#results-summary[data-kind="ok"]');
    expect(await page.$$('#results-list tr')).toHaveLength(2);

    // Longer than both X (280) and Bluesky (300 graphemes) allow: preflight refuses the call.
    await page.fill('#post-text', 'too long '.repeat(40));
    await page.click('#publish');
    await page.waitForSelector('#results-summary[data-kind="error"]');
    expect(await page.$$('#results-list tr')).toHaveLength(0);
    expect(await page.textContent('#results-summary .message')).toMatch(/^preflight_failed: /);
    expect(await page.textContent('#results-summary .hint')).toMatch(/^How to fix: Nothing was sent to any target\./);
    const issues = await page.$$eval('#results-summary .issues li', (items) => items.map((item) => item.textContent));
    expect(issues.some((issue) => issue.includes('bluesky.text'))).toBe(true);
    expect(issues.some((issue) => issue.includes('twitter.text'))).toBe(true);
    expect(await page.getAttribute('#results-summary .doc-link', 'href')).toMatch(/\/preflight_failed\.md$/);
    expect(await page.$eval('#upload-progress', (progress) => progress.hidden)).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'preflight-failed.png'), fullPage: true });
  });

  it('wraps long error text inside the results card', async () => {
    // A platform's error can be one long unbroken token (an id, a URL): rendered through the
    // page's own code and stylesheet, it must not widen the card.
    const unbroken = `upload_${'0123456789abcdef'.repeat(40)}`;
    await page.evaluate((message) => {
      renderResults([{ platform: 'twitter', status: 'failed', error: { code: 'platform_rejected', message, doc_url: 'https://example.org/platform_rejected.md', remediation: message } }]);
      showError(Object.assign(new Error(message), { code: 'platform_rejected', docUrl: 'https://example.org/platform_rejected.md' }), document.querySelector('#results-summary'));
    }, unbroken);
    const sizes = await page.$eval('#results', (card) => ({ scroll: card.scrollWidth, client: card.clientWidth }));
    expect(sizes.scroll).toBeLessThanOrEqual(sizes.client);
    const cell = await page.$eval('#results-list td:last-child', (element) => element.getBoundingClientRect().height);
    expect(cell).toBeGreaterThan(40);
    await page.screenshot({ path: join(SCREENSHOTS, 'long-error.png'), fullPage: true });
  });

  it('asks before removing an account', async () => {
    const prompts = [];
    page.once('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.dismiss();
    });
    await page.click('#accounts-list tr[data-platform="bluesky"] button');
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain('Remove bluesky account alice.sandbox.test?');
    // Declined: still there.
    await page.waitForTimeout(200);
    expect(await page.$$('#accounts-list tr[data-platform="bluesky"]')).toHaveLength(1);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#accounts-list tr[data-platform="bluesky"] button');
    await page.waitForSelector('#accounts-list tr[data-platform="bluesky"]', { state: 'detached' });
    expect(await page.$$('#accounts-list tr[data-platform="twitter"]')).toHaveLength(1);
  });
});
