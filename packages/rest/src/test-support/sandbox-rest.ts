import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore, type AnyProvider, type PlatformId } from '@letmepost/core';
import { approveSandboxConsent, startSandbox, type Sandbox } from '@letmepost/sandbox';
import { createRestHandler } from '../rest-handler.js';
import { authenticateTestKeys } from './authenticate.js';
import { callRest } from './rest-call.js';

export const SANDBOX_REST_BASE = 'http://api.test';

/**
 * A REST handler over core with one provider pointed at a fresh sandbox that has the platform's
 * app registered (its redirect URI on `SANDBOX_REST_BASE`), for tests that drive a platform
 * end to end through the REST API.
 */
export async function startSandboxRest({
  platform,
  clientId,
  clientSecret,
  createProvider,
}: {
  platform: PlatformId;
  clientId: string;
  clientSecret: string;
  createProvider: (sandbox: Sandbox) => AnyProvider;
}) {
  const sandbox = await startSandbox({
    apps: [{ platform, clientId, clientSecret, redirectUris: [`${SANDBOX_REST_BASE}/v1/accounts/oauth/${platform}/callback`] }],
  });
  const letmepost = createLetmepost({
    providers: [createProvider(sandbox)],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: SANDBOX_REST_BASE,
  });
  const handler = createRestHandler({ letmepost, authenticate: authenticateTestKeys });
  const call = (options: { method: string; path: string; body?: unknown }) => callRest({ handler, baseUrl: SANDBOX_REST_BASE, ...options });
  return {
    sandbox,
    handler,
    call,
    /**
     * The whole managed connect through REST: upload the workspace app, start a session, approve
     * the sandbox's consent page and follow its redirect to the callback. Answers each step for
     * the test to check.
     */
    async connect() {
      const credentials = await call({ method: 'POST', path: '/v1/platform-credentials', body: { platform, client_id: clientId, client_secret: clientSecret } });
      const session = await call({ method: 'POST', path: '/v1/connect/sessions', body: { platform } });
      const callback = session.status === 201 ? await handler(new Request(await approveSandboxConsent({ authorizeUrl: session.json!.url }))) : undefined;
      return { credentials, session, callback };
    },
  };
}
