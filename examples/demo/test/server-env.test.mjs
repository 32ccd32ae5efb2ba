// The demo server as `npm run demo` runs it: a child process configured only by its environment,
// against the real networks' code paths (LETMEPOST_SANDBOX=0). The "real networks" here are a
// sandbox reached through the same host variables a self-hoster would set.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@letmepost/sandbox';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STACK_LINE = /^\s+at .+[(:]\d+/m;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

const children = [];
const directories = [];

/** Starts server.mjs with exactly `env` (plus PATH), in a scratch working directory. */
function startServer(env) {
  const cwd = mkdtempSync(join(tmpdir(), 'letmepost-demo-env-'));
  directories.push(cwd);
  const child = spawn(process.execPath, [SERVER], { cwd, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async ready() {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('Press Ctrl+C to stop.')) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`demo did not start:\n${stdout}\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

afterAll(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

describe('demo server configuration errors', () => {
  it('prints the missing BETTER_AUTH_URL and KEK_MASTER alone, with what to set, and no stack trace', async () => {
    const server = startServer({ LETMEPOST_SANDBOX: '0' });
    expect(await server.exited).toEqual({ code: 1, signal: null });
    const { stdout, stderr } = server.output();
    expect(stderr).toContain('The demo cannot start against the real networks (LETMEPOST_SANDBOX=0); fix these environment variables:');
    expect(stderr).toContain('  BETTER_AUTH_URL is required: the public http(s) URL of this deployment');
    expect(stderr).toContain('  KEK_MASTER is required: base64 of 32 random bytes (openssl rand -base64 32)');
    expect(stderr).toContain('Set them in examples/demo/.env');
    expect(stderr).not.toMatch(STACK_LINE);
    expect(stderr).not.toContain('LetmepostError');
    expect(stdout).not.toContain('demo running');
  });

  it('names a placeholder client id copied from the README at startup', async () => {
    const server = startServer({
      LETMEPOST_SANDBOX: '0',
      BETTER_AUTH_URL: 'http://127.0.0.1:3999',
      KEK_MASTER: randomBytes(32).toString('base64'),
      TWITTER_CLIENT_ID: '...',
      TWITTER_CLIENT_SECRET: '...',
    });
    expect((await server.exited).code).toBe(1);
    const { stderr } = server.output();
    expect(stderr).toContain('  TWITTER_CLIENT_ID still holds a placeholder');
    expect(stderr).toContain('  TWITTER_CLIENT_SECRET still holds a placeholder');
    expect(stderr).not.toMatch(STACK_LINE);
  });
});

describe('demo server against "real" networks configured by environment', () => {
  let sandbox;
  let browser;
  let server;
  let port;
  const clientId = 'env-twitter-app-7Hq2';

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs the Debian chromium package`);
    port = await freePort();
    sandbox = await startSandbox({
      apps: [
        { platform: 'twitter', clientId, clientSecret: 'env-twitter-secret-9c1d', redirectUris: [`http://127.0.0.1:${port}/v1/accounts/oauth/twitter/callback`] },
      ],
    });
    server = startServer({
      LETMEPOST_SANDBOX: '0',
      PORT: String(port),
      BETTER_AUTH_URL: `http://127.0.0.1:${port}`,
      KEK_MASTER: randomBytes(32).toString('base64'),
      TWITTER_CLIENT_ID: clientId,
      TWITTER_CLIENT_SECRET: 'env-twitter-secret-9c1d',
      TWITTER_API_BASE: sandbox.endpoints.twitter.apiBaseUrl,
      TWITTER_OAUTH_AUTHORIZE_URL: sandbox.endpoints.twitter.oauthAuthorizeUrl,
      TWITTER_LAUNCH_CAP_PER_ACCOUNT: '1',
    });
    await server.ready();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await sandbox?.close();
  });

  it('prints the redirect URI to register for every OAuth provider', () => {
    const { stdout } = server.output();
    expect(stdout).toContain(`letmepost demo running: http://127.0.0.1:${port}/`);
    expect(stdout).toContain("Redirect URIs to register with each platform's app (exactly as shown):");
    expect(stdout).toContain(`  X (Twitter): http://127.0.0.1:${port}/v1/accounts/oauth/twitter/callback`);
    expect(stdout).toMatch(new RegExp(`  LinkedIn: http://127\\.0\\.0\\.1:${port}/v1/accounts/oauth/linkedin/callback`));
    // Bluesky connects with an app password: nothing to register.
    expect(stdout).not.toContain('oauth/bluesky/callback');
  });

  it('connects X with the instance app from TWITTER_CLIENT_ID when the workspace has none', async () => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('#instance-apps:not([hidden])');
    expect(await page.textContent('#instance-apps')).toContain('twitter');
    expect(await page.$$('#credentials-list tr')).toHaveLength(0);
    await page.click('#connect-twitter');
    await page.waitForSelector('[data-testid="approve"]');
    expect(new URL(page.url()).origin).toBe(sandbox.url);
    await page.click('[data-testid="approve"]');
    await page.waitForSelector('#accounts-list tr[data-platform="twitter"]');
    expect(await page.textContent('#banner')).toContain('Account connected');
    // The consent the sandbox granted was for the app from the environment.
    expect([...sandbox.state.accessTokens.values()].map((token) => token.clientId)).toContain(clientId);
    await page.close();
  });

  it('honours TWITTER_LAUNCH_CAP_PER_ACCOUNT', async () => {
    const headers = { authorization: 'Bearer demo-key', 'content-type': 'application/json' };
    const { data: accounts } = await (await fetch(`http://127.0.0.1:${port}/v1/accounts`, { headers })).json();
    const publish = async (text) =>
      (await fetch(`http://127.0.0.1:${port}/v1/posts`, { method: 'POST', headers, body: JSON.stringify({ post: { text }, targets: [{ account_id: accounts[0].id }] }) })).json();
    const first = await publish('first within the cap of one');
    expect(first.data?.[0]?.status).toBe('published');
    const second = await publish('second, past the cap of one');
    expect(JSON.stringify(second)).toContain('launch_cap_reached');
    expect(sandbox.state.posts.map((post) => post.text)).toEqual(['first within the cap of one']);
  });

  it('stops quietly on SIGINT', async () => {
    const before = server.output().stderr;
    server.child.kill('SIGINT');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output().stderr).toBe(before);
  });
});
