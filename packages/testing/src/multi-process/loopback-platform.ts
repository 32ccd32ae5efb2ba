import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoopbackServer, type LoopbackServer, type RecordedRequest } from '../loopback-server.js';

/** What the loopback platform saw; the scenarios assert on these counts. */
export interface LoopbackPlatformStats {
  /** Refresh requests that reached the token endpoint (answered or not). */
  refreshRequests: number;
  /** Refreshes that rotated the grant. */
  rotations: number;
  /** Refreshes refused with `invalid_grant` because their refresh token was already used. */
  reusedRefreshTokens: number;
  /** Held refresh requests whose client went away before an answer (never processed). */
  abandonedRefreshes: number;
  /** Creates accepted with the current access token. */
  publishesAccepted: number;
  /** Creates refused with 401 because they carried an older or unknown access token. */
  publishesRejected: number;
  /** Epoch ms at which each refresh request arrived, in order. */
  refreshArrivals: number[];
}

export interface LoopbackPlatform {
  /** `http://127.0.0.1:<port>` */
  url: string;
  clientId: string;
  clientSecret: string;
  stats: LoopbackPlatformStats;
  /** The access token the publish endpoint currently accepts. */
  currentAccessToken(): string | undefined;
  /**
   * Holds the next refresh request unanswered and unprocessed: `received` resolves when it has
   * arrived; `release()` then evaluates it against the grant as it is at that moment.
   */
  holdNextRefresh(): { received: Promise<void>; clientGone: Promise<void>; release(): void };
  close(): Promise<void>;
}

export interface LoopbackPlatformOptions {
  /** Lifetime of the access token issued for the authorization code. Default 3600 s. */
  initialExpiresInSeconds?: number;
  /** Pause before answering each refresh, to widen the window in which others pile up. */
  refreshDelayMs?: number;
}

interface Grant {
  accessToken: string;
  refreshToken: string;
}

/**
 * A small OAuth 2.0 authorization server and publish API on 127.0.0.1, strict where real
 * platforms are strict:
 *
 * - `GET /oauth/authorize` redirects back with a single-use code bound to the PKCE challenge and
 *   the redirect URI; `POST /oauth/token` checks client authentication (Basic), the code, the
 *   byte-identical redirect URI and the S256 verifier.
 * - Refresh tokens rotate: each may be used once; using one again answers `invalid_grant`, as
 *   X, TikTok and others do. A process that refreshed with a stale token would lock the account.
 * - `POST /publish` accepts only the newest access token and answers 401 `invalid_token` to any
 *   other, so a publish with an outdated token cannot pass unnoticed.
 */
export async function startLoopbackPlatform(options: LoopbackPlatformOptions = {}): Promise<LoopbackPlatform> {
  const clientId = `loopback-client-${randomBytes(4).toString('hex')}`;
  const clientSecret = `loopback-secret-${randomBytes(12).toString('hex')}`;
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const stats: LoopbackPlatformStats = {
    refreshRequests: 0,
    rotations: 0,
    reusedRefreshTokens: 0,
    abandonedRefreshes: 0,
    publishesAccepted: 0,
    publishesRejected: 0,
    refreshArrivals: [],
  };
  let grant: Grant | undefined;
  let generation = 0;
  let postSequence = 0;
  let pendingHold: { arrived: () => void; gone: () => void; released: Promise<void> } | undefined;

  const issue = (): Grant => {
    const suffix = `${generation}-${randomBytes(8).toString('hex')}`;
    return { accessToken: `access-${suffix}`, refreshToken: `refresh-${suffix}` };
  };
  const json = (response: ServerResponse, status: number, body: unknown): void => {
    response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const tokenAnswer = (response: ServerResponse, issued: Grant, expiresIn: number): void => {
    json(response, 200, {
      access_token: issued.accessToken,
      token_type: 'Bearer',
      expires_in: expiresIn,
      refresh_token: issued.refreshToken,
      scope: 'write',
    });
  };

  const handler = async (request: RecordedRequest, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url, 'http://127.0.0.1');

    if (request.method === 'GET' && url.pathname === '/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri');
      const challenge = url.searchParams.get('code_challenge');
      if (
        url.searchParams.get('client_id') !== clientId ||
        url.searchParams.get('response_type') !== 'code' ||
        url.searchParams.get('code_challenge_method') !== 'S256' ||
        redirectUri === null ||
        challenge === null
      ) {
        json(response, 400, { error: 'invalid_request' });
        return;
      }
      const code = `code-${randomBytes(8).toString('hex')}`;
      codes.set(code, { challenge, redirectUri });
      const location = new URL(redirectUri);
      location.searchParams.set('code', code);
      location.searchParams.set('state', url.searchParams.get('state') ?? '');
      response.writeHead(302, { location: location.href }).end();
      return;
    }

    if (request.method === 'POST' && url.pathname === '/oauth/token') {
      const expectedAuthorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
      if (request.headers.authorization !== expectedAuthorization) {
        json(response, 401, { error: 'invalid_client' });
        return;
      }
      const form = new URLSearchParams(request.text());
      const grantType = form.get('grant_type');

      if (grantType === 'authorization_code') {
        const code = form.get('code') ?? '';
        const issuedFor = codes.get(code);
        codes.delete(code);
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (issuedFor === undefined || issuedFor.redirectUri !== form.get('redirect_uri') || issuedFor.challenge !== challenge) {
          json(response, 400, { error: 'invalid_grant' });
          return;
        }
        grant = issue();
        tokenAnswer(response, grant, options.initialExpiresInSeconds ?? 3600);
        return;
      }

      if (grantType === 'refresh_token') {
        stats.refreshRequests += 1;
        stats.refreshArrivals.push(Date.now());
        const hold = pendingHold;
        pendingHold = undefined;
        if (hold !== undefined) {
          let gone = false;
          response.once('close', () => {
            if (!response.writableFinished) {
              gone = true;
              hold.gone();
            }
          });
          hold.arrived();
          await hold.released;
          // A client that went away while held never had its request processed (as if it
          // died before the platform got to it), so the grant is left as it was.
          if (gone || response.destroyed) {
            stats.abandonedRefreshes += 1;
            return;
          }
        }
        if (options.refreshDelayMs) await sleep(options.refreshDelayMs);
        // Judged when answering, against the grant as it is now.
        if (grant === undefined || form.get('refresh_token') !== grant.refreshToken) {
          stats.reusedRefreshTokens += 1;
          json(response, 400, { error: 'invalid_grant', error_description: 'The refresh token was already used.' });
          return;
        }
        generation += 1;
        grant = issue();
        stats.rotations += 1;
        tokenAnswer(response, grant, 3600);
        return;
      }

      json(response, 400, { error: 'unsupported_grant_type' });
      return;
    }

    if (request.method === 'POST' && url.pathname === '/publish') {
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (grant === undefined || presented !== grant.accessToken) {
        stats.publishesRejected += 1;
        json(response, 401, { error: 'invalid_token' });
        return;
      }
      stats.publishesAccepted += 1;
      postSequence += 1;
      json(response, 200, { id: `post-${postSequence}` });
      return;
    }

    json(response, 404, { error: 'not_found' });
  };

  const server: LoopbackServer = await startLoopbackServer({ handler });

  return {
    url: server.url,
    clientId,
    clientSecret,
    stats,
    currentAccessToken: () => grant?.accessToken,
    holdNextRefresh: () => {
      let arrived!: () => void;
      let gone!: () => void;
      let release!: () => void;
      const received = new Promise<void>((resolve) => {
        arrived = resolve;
      });
      const clientGone = new Promise<void>((resolve) => {
        gone = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      pendingHold = { arrived, gone, released };
      return { received, clientGone, release };
    },
    close: () => server.close(),
  };
}
