// One place for what every browser test of the demo starts: a sandbox-mode demo with its own data
// directory, and headless Debian Chromium (driven by playwright-core) with a page on it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDemo } from '../demo.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** @param {{ directoryPrefix: string }} options */
export async function openDemoInBrowser({ directoryPrefix }) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs the Debian chromium package`);
  const dataDirectory = mkdtempSync(join(tmpdir(), directoryPrefix));
  let demo;
  let browser;
  const close = async () => {
    await browser?.close();
    await demo?.close();
    rmSync(dataDirectory, { recursive: true, force: true });
  };
  try {
    demo = await startDemo({ port: 0, useSandbox: true, dataDirectory });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    await page.goto(`${demo.url}/`);
    return { demo, browser, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}
