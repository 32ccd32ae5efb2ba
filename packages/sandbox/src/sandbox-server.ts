import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createBlueskyEmulator } from './sandbox-bluesky.js';
import { SandboxHttpError, escapeHtml, readJson, sendHtml, sendJson, type SandboxRequest } from './sandbox-http.js';
import { createFacebookEmulator } from './sandbox-facebook.js';
import { createInstagramEmulator } from './sandbox-instagram.js';
import { createLinkedInEmulator } from './sandbox-linkedin.js';
import { createMetaGraph, type MetaGraph } from './sandbox-meta-graph.js';
import type { SandboxOAuth1Credentials } from './sandbox-oauth1.js';
import { SandboxState, type SandboxApp, type SandboxFault } from './sandbox-state.js';
import { createThreadsEmulator } from './sandbox-threads.js';
import { createTwitterEmulator, twitterUser } from './sandbox-twitter.js';

export interface SandboxOptions {
  /** 0 picks a free port. */
  port?: number;
  /** Loopback only: the sandbox is never reachable from another machine. */
  host?: '127.0.0.1' | '::1' | 'localhost';
  /** OAuth apps known to the emulated platforms (client id, secret, exact redirect URIs). */
  apps?: SandboxApp[];
  /** X OAuth 1.0a user-context credentials (consumer key/secret + access token/secret) to accept. */
  twitterOAuth1?: SandboxOAuth1Credentials[];
  /** LinkedIn video part size; LinkedIn uses 4 MiB, tests shrink it to get several parts from a few KB. */
  linkedinVideoPartBytes?: number;
  now?: () => number;
  /** Bluesky access JWT lifetime; short values let tests exercise refresh. */
  blueskyAccessLifetimeSeconds?: number;
}

export interface Sandbox {
  url: string;
  state: SandboxState;
  /** Base URLs to hand to each provider's settings. */
  endpoints: {
    twitter: { apiBaseUrl: string; oauthAuthorizeUrl: string };
    linkedin: { apiBaseUrl: string; oauthBaseUrl: string };
    bluesky: { serviceUrl: string; plcDirectoryUrl: string; videoServiceUrl: string; appViewUrl: string };
    facebook: { apiBaseUrl: string; oauthAuthorizeUrl: string };
    threads: { apiBaseUrl: string; oauthAuthorizeUrl: string };
    instagram: { apiBaseUrl: string };
  };
  /** The Meta family's shared Graph state: container faults, publishing usage, token issue. */
  meta: MetaGraph;
  /**
   * The sandbox's own page for a post it stored, to link to instead of the real network's URL
   * (which would point at x.com or linkedin.com for a post that only exists here).
   */
  postUrl(options: { platform: string; postId: string }): string;
  setFault(platform: string, fault: SandboxFault | undefined): void;
  registerApp(app: SandboxApp): void;
  registerTwitterOAuth1(credentials: SandboxOAuth1Credentials): void;
  close(): Promise<void>;
}

const faultSchema = z.object({
  platform: z.enum(['twitter', 'linkedin', 'bluesky', 'facebook', 'instagram', 'threads']),
  fault: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('rate_limit'), resetSeconds: z.number().int().positive().optional(), remaining: z.number().int().positive().optional() }),
      z.object({ kind: z.literal('server_error'), status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(), remaining: z.number().int().positive().optional() }),
      z.object({ kind: z.literal('slow'), delayMs: z.number().int().min(0).max(60_000), remaining: z.number().int().positive().optional() }),
      z.object({ kind: z.literal('drop_after_record'), remaining: z.number().int().positive().optional() }),
    ])
    .nullable(),
});

const appSchema = z.object({
  platform: z.enum(['twitter', 'linkedin', 'bluesky', 'facebook', 'instagram', 'threads']),
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectUris: z.array(z.string().url()).min(1),
  name: z.string().optional(),
});

const oauth1Schema = z.object({
  consumerKey: z.string().min(1),
  consumerSecret: z.string().min(1),
  accessToken: z.string().min(1),
  accessTokenSecret: z.string().min(1),
  userId: z.string().regex(/^\d+$/).optional(),
});

function receivedPage(state: SandboxState): string {
  const platforms = ['twitter', 'linkedin', 'bluesky', 'facebook', 'instagram', 'threads'];
  const sections = platforms
    .map((platform) => {
      const posts = state.posts.filter((post) => post.platform === platform);
      const events = state.events.filter((event) => event.platform === platform).slice(-30);
      return `<section data-platform="${platform}"><h2>${platform}</h2>
<h3>Posts (${posts.length})</h3>
<ol>${posts.map((post) => `<li data-testid="post" data-post-id="${escapeHtml(post.id)}"><a href="${escapeHtml(postPath({ platform, postId: post.id }))}">${post.deleted ? '<s>' : ''}${escapeHtml(post.text)}${post.deleted ? '</s>' : ''}</a> <small>${post.mediaIds.length} media${post.replyTo ? `, reply to ${escapeHtml(post.replyTo)}` : ''} · ${escapeHtml(post.createdAt)}</small></li>`).join('')}</ol>
<h3>Recent requests</h3><ul>${events.map((event) => `<li><code>${escapeHtml(event.kind)}</code> ${escapeHtml(event.summary)}</li>`).join('')}</ul></section>`;
    })
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>letmepost sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd}</style></head>
<body><h1>letmepost sandbox — what each network received</h1>${sections}</body></html>`;
}

/** Path of the page showing one stored post; ids such as LinkedIn URNs and AT URIs are encoded. */
function postPath(options: { platform: string; postId: string }): string {
  return `/posts/${encodeURIComponent(options.platform)}/${encodeURIComponent(options.postId)}`;
}

function postPage(options: { state: SandboxState; platform: string; postId: string }): { status: number; html: string } {
  const post = options.state.posts.find((candidate) => candidate.platform === options.platform && candidate.id === options.postId);
  const head = '<!doctype html><html><head><meta charset="utf-8"><title>letmepost sandbox post</title>'
    + '<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}blockquote{white-space:pre-wrap;overflow-wrap:anywhere;border-left:3px solid #ccc;margin:1rem 0;padding:.5rem 1rem}</style></head><body>';
  if (!post) {
    return {
      status: 404,
      html: `${head}<h1>No such post in the sandbox</h1><p>${escapeHtml(options.platform)} has no post <code>${escapeHtml(options.postId)}</code> here (the sandbox keeps posts in memory, for as long as it runs).</p><p><a href="/">What each network received</a></p></body></html>`,
    };
  }
  const replies = options.state.posts.filter((candidate) => candidate.platform === post.platform && candidate.replyTo === post.id);
  return {
    status: 200,
    html: `${head}<h1>${escapeHtml(post.platform)} post (sandbox)</h1>
<p><small>This post exists only in the local sandbox; the real network never saw it.</small></p>
<article data-testid="sandbox-post" data-platform="${escapeHtml(post.platform)}" data-post-id="${escapeHtml(post.id)}"${post.deleted ? ' data-deleted="true"' : ''}>
<blockquote>${post.deleted ? '<s>' : ''}${escapeHtml(post.text)}${post.deleted ? '</s>' : ''}</blockquote>
<dl><dt>id</dt><dd><code>${escapeHtml(post.id)}</code></dd><dt>author</dt><dd><code>${escapeHtml(post.authorId)}</code></dd><dt>media</dt><dd data-testid="media-count">${post.mediaIds.length}</dd><dt>created</dt><dd>${escapeHtml(post.createdAt)}</dd>${post.replyTo ? `<dt>reply to</dt><dd><a href="${escapeHtml(postPath({ platform: post.platform, postId: post.replyTo }))}">${escapeHtml(post.replyTo)}</a></dd>` : ''}${post.deleted ? '<dt>status</dt><dd>deleted</dd>' : ''}</dl>
${replies.length > 0 ? `<h2>Replies</h2><ol>${replies.map((reply) => `<li><a href="${escapeHtml(postPath({ platform: reply.platform, postId: reply.id }))}">${escapeHtml(reply.text)}</a></li>`).join('')}</ol>` : ''}
</article><p><a href="/">What each network received</a></p></body></html>`,
  };
}

/**
 * Starts the platform emulator on loopback. Each platform lives under its own path prefix
 * (`/twitter`, `/linkedin`, `/bluesky`), so one port serves all of them and providers are pointed
 * here only through their base-URL settings.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState(options.now ? { now: options.now } : {});
  for (const app of options.apps ?? []) state.registerApp(app);
  for (const credentials of options.twitterOAuth1 ?? []) state.registerOAuth1Credentials(credentials);
  let baseUrl = '';
  const meta = createMetaGraph({ state });
  const emulators = [
    createTwitterEmulator({ state }),
    createLinkedInEmulator({ state, baseUrl: () => baseUrl, ...(options.linkedinVideoPartBytes ? { videoPartBytes: options.linkedinVideoPartBytes } : {}) }),
    createBlueskyEmulator({ state, baseUrl: () => baseUrl, ...(options.blueskyAccessLifetimeSeconds ? { accessLifetimeSeconds: options.blueskyAccessLifetimeSeconds } : {}) }),
    createFacebookEmulator({ state, meta, baseUrl: () => baseUrl }),
    createThreadsEmulator({ state, meta, baseUrl: () => baseUrl }),
    createInstagramEmulator({ state, meta, baseUrl: () => baseUrl }),
  ];

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', baseUrl);
    const method = request.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/') {
      sendHtml({ response, html: receivedPage(state) });
      return;
    }
    const postMatch = /^\/posts\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (postMatch && method === 'GET') {
      // A malformed escape is simply a post that does not exist.
      const decode = (value: string) => { try { return decodeURIComponent(value); } catch { return ''; } };
      sendHtml({ response, ...postPage({ state, platform: decode(postMatch[1] ?? ''), postId: decode(postMatch[2] ?? '') }) });
      return;
    }
    if (url.pathname === '/_sandbox/posts' && method === 'GET') {
      sendJson({ response, status: 200, body: { posts: state.posts, events: state.events, refreshCount: state.refreshCount, refreshRejections: state.refreshRejections } });
      return;
    }
    if (url.pathname === '/_sandbox/faults' && method === 'POST') {
      const parsed = faultSchema.parse(await readJson({ request }));
      if (parsed.fault) state.faults.set(parsed.platform, parsed.fault as SandboxFault);
      else state.faults.delete(parsed.platform);
      sendJson({ response, status: 200, body: { ok: true } });
      return;
    }
    if (url.pathname === '/_sandbox/apps' && method === 'POST') {
      state.registerApp(appSchema.parse(await readJson({ request })) as SandboxApp);
      sendJson({ response, status: 201, body: { ok: true } });
      return;
    }
    if (url.pathname === '/_sandbox/twitter/oauth1' && method === 'POST') {
      const parsed = oauth1Schema.parse(await readJson({ request }));
      state.registerOAuth1Credentials({ ...parsed, userId: parsed.userId ?? twitterUser.id });
      sendJson({ response, status: 201, body: { ok: true } });
      return;
    }
    const [, prefix = '', ...rest] = url.pathname.split('/');
    const emulator = emulators.find((candidate) => candidate.prefix === prefix);
    if (emulator) {
      const sandboxRequest: SandboxRequest = { method, url, path: `/${rest.join('/')}`, headers: request.headers, raw: request };
      if (await emulator.handle(sandboxRequest, response)) return;
    }
    sendJson({ response, status: 404, body: { error: 'NotFound', message: `No sandbox route for ${method} ${url.pathname}` } });
  }

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      if (error instanceof SandboxHttpError) {
        sendJson({ response, status: error.status, body: error.body, headers: error.headers });
      } else if (error instanceof z.ZodError) {
        sendJson({ response, status: 400, body: { error: 'InvalidRequest', message: error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') } });
      } else {
        sendJson({ response, status: 500, body: { error: 'InternalServerError', message: 'sandbox failure' } });
      }
      // Drain what the client still sends so it sees the answer instead of a reset.
      request.resume();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url: baseUrl,
    state,
    endpoints: {
      twitter: { apiBaseUrl: `${baseUrl}/twitter`, oauthAuthorizeUrl: `${baseUrl}/twitter/i/oauth2/authorize` },
      linkedin: { apiBaseUrl: `${baseUrl}/linkedin/api`, oauthBaseUrl: `${baseUrl}/linkedin/www` },
      bluesky: { serviceUrl: `${baseUrl}/bluesky/pds`, plcDirectoryUrl: `${baseUrl}/bluesky/plc`, videoServiceUrl: `${baseUrl}/bluesky/video`, appViewUrl: `${baseUrl}/bluesky/pds` },
      facebook: { apiBaseUrl: `${baseUrl}/facebook/graph`, oauthAuthorizeUrl: `${baseUrl}/facebook/www/v26.0/dialog/oauth` },
      threads: { apiBaseUrl: `${baseUrl}/threads`, oauthAuthorizeUrl: `${baseUrl}/threads/oauth/authorize` },
      instagram: { apiBaseUrl: `${baseUrl}/instagram` },
    },
    meta,
    postUrl: (options) => `${baseUrl}${postPath(options)}`,
    setFault: (platform, fault) => {
      if (fault) state.faults.set(platform, fault);
      else state.faults.delete(platform);
    },
    registerApp: (app) => state.registerApp(app),
    registerTwitterOAuth1: (credentials) => state.registerOAuth1Credentials(credentials),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
