// The demo host: a small backend that embeds letmepost the way a real app would. It serves the
// REST API under /v1, a single page under /, and (in sandbox mode) starts the platform emulator
// and points every provider at it through the same base-URL settings a real host would leave at
// their defaults.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createLetmepost, loadConfigFromEnv } from '@letmepost/core';
import { createBluesky } from '@letmepost/provider-bluesky';
import { createFacebook } from '@letmepost/provider-facebook';
import { createInstagram } from '@letmepost/provider-instagram';
import { createLinkedIn } from '@letmepost/provider-linkedin';
import { createThreads } from '@letmepost/provider-threads';
import { createTwitter } from '@letmepost/provider-twitter';
import { createRestHandler, toNodeListener } from '@letmepost/rest';
import { startSandbox } from '@letmepost/sandbox';
import { sqliteTokenStore } from '@letmepost/store-sqlite';
import { createDemoMediaStaging } from './media-staging.mjs';

const pageHtml = readFileSync(new URL('./public/index.html', import.meta.url), 'utf8');

export const DEMO_API_KEY = 'demo-key';
const WORKSPACE_ID = 'demo-workspace';

/** App credentials the sandbox knows; the page pre-fills them in sandbox mode. */
export const SANDBOX_APPS = {
  twitter: { clientId: 'sandbox-twitter-client', clientSecret: 'sandbox-twitter-secret' },
  linkedin: { clientId: 'sandbox-linkedin-client', clientSecret: 'sandbox-linkedin-secret' },
  facebook: { clientId: 'sandbox-facebook-client', clientSecret: 'sandbox-facebook-secret' },
  instagram: { clientId: 'sandbox-instagram-client', clientSecret: 'sandbox-instagram-secret' },
  threads: { clientId: 'sandbox-threads-client', clientSecret: 'sandbox-threads-secret' },
};

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** Settings read from the environment, without the app: the sandbox knows only its own apps. */
function withoutClient(settings = {}) {
  const { clientId: _clientId, clientSecret: _clientSecret, ...rest } = settings;
  return rest;
}

/**
 * @param {{ port?: number, useSandbox?: boolean, dataDirectory?: string, env?: NodeJS.ProcessEnv }} options
 */
export async function startDemo(options = {}) {
  const env = options.env ?? process.env;
  const useSandbox = options.useSandbox ?? true;
  // Against the real networks the environment is checked before a port is opened, so a missing
  // or placeholder variable is the only thing reported.
  let config = useSandbox ? undefined : loadConfigFromEnv(env);
  const server = createServer();
  const port = await listen(server, options.port ?? 0);
  const baseUrl = config?.baseUrl ?? `http://127.0.0.1:${port}`;

  let sandbox;
  let providers;
  if (useSandbox) {
    sandbox = await startSandbox({
      apps: Object.entries(SANDBOX_APPS).map(([platform, app]) => ({
        platform,
        ...app,
        name: 'letmepost demo',
        redirectUris: [`${baseUrl}/v1/accounts/oauth/${platform}/callback`],
      })),
    });
    // Every variable loadConfigFromEnv reads is honoured here too (launch caps, API versions...);
    // the sandbox decides the hosts, and a fresh key per run suits its in-memory state.
    config = loadConfigFromEnv({ ...env, BETTER_AUTH_URL: baseUrl, KEK_MASTER: randomBytes(32).toString('base64') });
    providers = [
      createTwitter({ ...withoutClient(config.platforms.twitter), ...sandbox.endpoints.twitter, allowPrivateNetwork: true }),
      createLinkedIn({ ...withoutClient(config.platforms.linkedin), ...sandbox.endpoints.linkedin, allowPrivateNetwork: true }),
      createBluesky({ ...withoutClient(config.platforms.bluesky), ...sandbox.endpoints.bluesky, allowPrivateNetwork: true }),
      createFacebook({ ...withoutClient(config.platforms.facebook), ...sandbox.endpoints.facebook, allowPrivateNetwork: true }),
      // Instagram and Threads fetch media from the demo's own staging URLs on 127.0.0.1, which
      // Instagram refuses as a private host unless told this is a local setup.
      createInstagram({ ...withoutClient(config.platforms.instagram), ...sandbox.endpoints.instagram, allowPrivateNetwork: true }),
      createThreads({ ...withoutClient(config.platforms.threads), ...sandbox.endpoints.threads, allowPrivateNetwork: true }),
    ];
  } else {
    // Each platform's settings (instance app, hosts, API version) spread straight in.
    providers = [
      createTwitter(config.platforms.twitter ?? {}),
      createLinkedIn(config.platforms.linkedin ?? {}),
      createBluesky(withoutClient(config.platforms.bluesky)),
      createFacebook(config.platforms.facebook ?? {}),
      createInstagram(config.platforms.instagram ?? {}),
      createThreads(config.platforms.threads ?? {}),
    ];
  }

  const dataDirectory = options.dataDirectory ?? join(process.cwd(), '.data');
  mkdirSync(dataDirectory, { recursive: true });
  const storePath = join(dataDirectory, useSandbox ? `demo-sandbox-${port}.sqlite` : 'demo.sqlite');
  // The sandbox and its encryption key live only as long as this process, so a sandbox store
  // from an earlier run could be neither decrypted nor used: start it empty.
  if (useSandbox) for (const suffix of ['', '-wal', '-shm']) rmSync(`${storePath}${suffix}`, { force: true });
  const store = sqliteTokenStore({ path: storePath });
  const staging = createDemoMediaStaging({ baseUrl });
  const letmepost = createLetmepost({
    providers,
    store,
    encryptionKey: config.encryptionKey,
    baseUrl,
    launchCaps: config.launchCaps,
    mediaStaging: staging.mediaStaging,
  });
  // Platforms whose instance-wide app came from the environment: the page says which app a
  // connect will use, and asks for it (allowQuickstartCreds) when the workspace has none.
  const instanceApps = providers.filter((provider) => provider.defaultClient !== undefined).map((provider) => provider.id);

  const handler = createRestHandler({
    letmepost,
    authenticate: (request) =>
      request.headers.get('authorization') === `Bearer ${DEMO_API_KEY}` ? { workspaceId: WORKSPACE_ID } : null,
  });
  const listener = toNodeListener(handler);

  server.on('request', async (request, response) => {
    if (staging.serve(request, response)) return;
    const url = new URL(request.url ?? '/', baseUrl);
    if (request.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
      const pageConfig = JSON.stringify({ apiKey: DEMO_API_KEY, instanceApps, sandbox: useSandbox ? { url: sandbox.url, apps: SANDBOX_APPS } : null });
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(pageHtml.replace('/*DEMO_CONFIG*/null', () => pageConfig.replaceAll('<', '\\u003c')));
      return;
    }
    // In sandbox mode a post exists only in the sandbox: its link goes to the sandbox's record of
    // it, never to x.com, linkedin.com or a Meta host, where it would not be found.
    if (request.method === 'GET' && url.pathname === '/sandbox-post' && sandbox) {
      const platform = url.searchParams.get('platform') ?? '';
      const postId = url.searchParams.get('post_id') ?? '';
      response.writeHead(302, { location: sandbox.postUrl({ platform, postId }) });
      response.end();
      return;
    }
    // The browser comes back here from the platform's consent page. Turn the JSON answer into a
    // redirect to the page, so the user sees the result (or the error code) where they started.
    if (request.method === 'GET' && /^\/v1\/accounts\/oauth\/[a-z]+\/callback$/.test(url.pathname)) {
      const answer = await handler(new Request(url, { headers: { accept: 'application/json' } }));
      const body = await answer.json().catch(() => ({}));
      const destination = new URL('/', baseUrl);
      if (answer.status === 303) {
        response.writeHead(303, { location: answer.headers.get('location') });
      } else if (answer.ok) {
        destination.searchParams.set('connected', (body.data ?? []).map((account) => account.id).join(','));
        response.writeHead(303, { location: destination.toString() });
      } else {
        destination.searchParams.set('connect_error', body.error?.code ?? 'unknown');
        destination.searchParams.set('message', body.error?.message ?? '');
        if (body.error?.doc_url) destination.searchParams.set('doc_url', body.error.doc_url);
        if (body.error?.remediation) destination.searchParams.set('remediation', body.error.remediation);
        response.writeHead(303, { location: destination.toString() });
      }
      response.end();
      return;
    }
    await listener(request, response);
  });

  return {
    url: baseUrl,
    sandbox,
    letmepost,
    mediaStaging: staging.mediaStaging,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sandbox?.close();
      await store.close?.();
    },
  };
}
