import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  SandboxHttpError,
  basicCredentials,
  escapeHtml,
  randomToken,
  readForm,
  redirect,
  sendHtml,
  sendJson,
  type SandboxRequest,
} from './sandbox-http.js';
import type { SandboxState } from './sandbox-state.js';

export interface OAuthServerProfile {
  platform: string;
  displayName: string;
  clientAuthentication: 'client_secret_basic' | 'client_secret_post';
  pkceRequired: boolean;
  accessTokenLifetimeSeconds: number;
  /** Whether refresh tokens are issued, and whether each use rotates (and kills) the old one. */
  refresh: 'rotating' | 'none';
  /** OAuth error code the real platform answers for a dead code or refresh token. */
  invalidGrantError: string;
  invalidGrantDescription: string;
  codeLifetimeSeconds: number;
  scopeSeparator: string;
  /** Which user the consent page signs in as. */
  user: { id: string; username: string; name: string };
  /**
   * Reshapes the code exchange's answer the way the platform departs from RFC 6749 (Instagram:
   * `{ access_token, user_id, permissions }`, no `token_type` or `expires_in`).
   */
  codeExchangeAnswer?: (options: { standard: Record<string, unknown>; userId: string; scopes: string[] }) => unknown;
}

interface PendingCode {
  code: string;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  expiresAt: number;
  used: boolean;
}

interface ConsentRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge?: string;
}

/**
 * An OAuth 2.0 authorization server that behaves like a strict real one: registered redirect URIs
 * compared character for character, PKCE S256 checked, codes single-use and short-lived, refresh
 * tokens rotated with reuse rejected.
 */
export function createOAuthServer(options: { profile: OAuthServerProfile; state: SandboxState }) {
  const { profile, state } = options;
  const codes = new Map<string, PendingCode>();
  const consents = new Map<string, ConsentRequest>();

  const fail = (status: number, error: string, description: string): never => {
    throw new SandboxHttpError({ status, body: { error, error_description: description } });
  };

  function authorize(request: SandboxRequest, response: ServerResponse): void {
    const query = request.url.searchParams;
    const clientId = query.get('client_id') ?? '';
    const redirectUri = query.get('redirect_uri') ?? '';
    const app = state.apps.find((candidate) => candidate.platform === profile.platform && candidate.clientId === clientId);
    if (!app) {
      sendHtml({ response, status: 400, html: page(profile.displayName, `<p class="error">Unknown client_id.</p>`) });
      return;
    }
    // A real platform never redirects to an unregistered URI; it shows an error page instead.
    if (!app.redirectUris.includes(redirectUri)) {
      sendHtml({
        response,
        status: 400,
        html: page(profile.displayName, `<p class="error" data-testid="redirect-mismatch">The redirect_uri does not match a registered callback URL.</p>`),
      });
      return;
    }
    if (query.get('response_type') !== 'code') {
      redirect({ response, location: withParams(redirectUri, { error: 'unsupported_response_type', state: query.get('state') ?? '' }) });
      return;
    }
    const codeChallenge = query.get('code_challenge') ?? undefined;
    if (profile.pkceRequired && (!codeChallenge || query.get('code_challenge_method') !== 'S256')) {
      redirect({ response, location: withParams(redirectUri, { error: 'invalid_request', error_description: 'PKCE S256 required', state: query.get('state') ?? '' }) });
      return;
    }
    const scopes = (query.get('scope') ?? '').split(profile.scopeSeparator).filter(Boolean);
    const consentId = randomToken('consent_', 12);
    consents.set(consentId, { clientId, redirectUri, scopes, state: query.get('state') ?? '', ...(codeChallenge ? { codeChallenge } : {}) });
    sendHtml({
      response,
      html: page(
        profile.displayName,
        `<p><strong>${escapeHtml(app.name ?? clientId)}</strong> wants to access your ${escapeHtml(profile.displayName)} account <strong>@${escapeHtml(profile.user.username)}</strong>.</p>
<ul>${scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')}</ul>
<form method="post" action="consent">
  <input type="hidden" name="consent_id" value="${consentId}">
  <button name="decision" value="approve" data-testid="approve">Authorize app</button>
  <button name="decision" value="deny" data-testid="deny">Cancel</button>
</form>`,
      ),
    });
  }

  async function consent(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const form = await readForm({ request: request.raw });
    const pending = consents.get(form.get('consent_id') ?? '');
    if (!pending) {
      sendHtml({ response, status: 400, html: page(profile.displayName, '<p class="error">This consent request expired.</p>') });
      return;
    }
    consents.delete(form.get('consent_id') ?? '');
    if (form.get('decision') !== 'approve') {
      redirect({
        response,
        location: withParams(pending.redirectUri, { error: 'access_denied', error_description: 'The user denied the request', state: pending.state }),
      });
      return;
    }
    const code = randomToken('code_', 18);
    codes.set(code, {
      code,
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      scopes: pending.scopes,
      ...(pending.codeChallenge ? { codeChallenge: pending.codeChallenge } : {}),
      expiresAt: state.now() + profile.codeLifetimeSeconds * 1000,
      used: false,
    });
    redirect({ response, location: withParams(pending.redirectUri, { code, state: pending.state }) });
  }

  function authenticateClient(request: SandboxRequest, form: URLSearchParams): string {
    let clientId: string | undefined;
    let clientSecret: string | undefined;
    if (profile.clientAuthentication === 'client_secret_basic') {
      const basic = basicCredentials(request);
      if (!basic) fail(401, 'invalid_client', 'Missing valid authorization header');
      clientId = basic?.username;
      clientSecret = basic?.password;
    } else {
      clientId = form.get('client_id') ?? undefined;
      clientSecret = form.get('client_secret') ?? undefined;
    }
    const app = state.apps.find((candidate) => candidate.platform === profile.platform && candidate.clientId === clientId);
    if (!app || app.clientSecret !== clientSecret) fail(401, 'invalid_client', 'Client authentication failed');
    return clientId!;
  }

  function issueTokens(options: { clientId: string; scopes: string[] }): Record<string, unknown> {
    const accessToken = randomToken(`sbx_${profile.platform}_at_`);
    const expiresAt = state.now() + profile.accessTokenLifetimeSeconds * 1000;
    state.accessTokens.set(accessToken, {
      platform: profile.platform,
      userId: profile.user.id,
      scopes: options.scopes,
      expiresAt,
      clientId: options.clientId,
    });
    const body: Record<string, unknown> = {
      token_type: 'bearer',
      access_token: accessToken,
      expires_in: profile.accessTokenLifetimeSeconds,
      scope: options.scopes.join(profile.scopeSeparator),
    };
    if (profile.refresh !== 'none' && (profile.platform !== 'twitter' || options.scopes.includes('offline.access'))) {
      const refreshToken = randomToken(`sbx_${profile.platform}_rt_`);
      state.refreshTokens.set(refreshToken, { platform: profile.platform, clientId: options.clientId, scopes: options.scopes, used: false });
      body.refresh_token = refreshToken;
    }
    return body;
  }

  async function token(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('application/x-www-form-urlencoded')) fail(400, 'invalid_request', 'Expected a form-encoded body');
    const form = await readForm({ request: request.raw });
    const clientId = authenticateClient(request, form);
    const grantType = form.get('grant_type');
    state.record({ platform: profile.platform, kind: 'token', summary: `grant_type=${grantType}` });
    if (grantType === 'authorization_code') {
      const pending = codes.get(form.get('code') ?? '');
      if (!pending || pending.used || pending.expiresAt < state.now() || pending.clientId !== clientId) {
        fail(400, profile.invalidGrantError, 'Value passed for the authorization code was invalid.');
      }
      pending!.used = true;
      // Compared byte for byte, as the platforms do.
      if (form.get('redirect_uri') !== pending!.redirectUri) fail(400, 'invalid_request', 'redirect_uri does not match the authorization request');
      if (pending!.codeChallenge) {
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== pending!.codeChallenge) fail(400, 'invalid_request', 'code_verifier does not match code_challenge');
      }
      const standard = issueTokens({ clientId, scopes: pending!.scopes });
      const body = profile.codeExchangeAnswer?.({ standard, userId: profile.user.id, scopes: pending!.scopes }) ?? standard;
      sendJson({ response, status: 200, body });
      return;
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? '';
      const stored = state.refreshTokens.get(refreshToken);
      if (!stored || stored.used || stored.clientId !== clientId) {
        state.refreshRejections += 1;
        fail(400, profile.invalidGrantError, profile.invalidGrantDescription);
      }
      state.refreshCount += 1;
      if (profile.refresh === 'rotating') stored!.used = true;
      sendJson({ response, status: 200, body: issueTokens({ clientId, scopes: stored!.scopes }) });
      return;
    }
    fail(400, 'unsupported_grant_type', 'Unsupported grant_type');
  }

  async function revoke(request: SandboxRequest, response: ServerResponse): Promise<void> {
    const form = await readForm({ request: request.raw });
    authenticateClient(request, form);
    const tokenValue = form.get('token') ?? '';
    state.accessTokens.delete(tokenValue);
    state.refreshTokens.delete(tokenValue);
    sendJson({ response, status: 200, body: { revoked: true } });
  }

  return { authorize, consent, token, revoke };
}

function withParams(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)} (sandbox)</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;margin-right:.5rem;padding:.5rem 1rem}.error{color:#b00020}</style>
</head><body><h1>${escapeHtml(title)} <small>(letmepost sandbox)</small></h1>${body}</body></html>`;
}
