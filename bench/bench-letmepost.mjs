// The letmepost instance the publish benchmarks measure: X only, the in-memory store, and no
// launch cap (a run posts thousands of times from one account, which X's cap would rightly stop).
import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createTwitter } from '@letmepost/provider-twitter';
import { approveSandboxConsent } from '@letmepost/sandbox';

const BASE_URL = 'https://app.example.com';

export function createBenchLetmepost({ endpoints, app }) {
  return createLetmepost({
    // The sandbox listens on 127.0.0.1, which X's provider refuses for media URLs unless allowed.
    providers: [createTwitter({ ...endpoints, ...(app !== undefined && app), allowPrivateNetwork: true })],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: BASE_URL,
    launchCaps: { twitter: false },
  });
}

/**
 * Connects one X account the way a host's user does: the OAuth 2.0 consent (PKCE) against the
 * loopback X, approved on its consent page, and the callback completed. The tokens are sealed in
 * the store; every publish to the account reads them from there.
 */
export async function connectBenchAccount({ letmepost, workspaceId }) {
  const started = await letmepost.connect.start({ workspaceId, platform: 'twitter', allowQuickstartCreds: true });
  const callbackUrl = await approveSandboxConsent({ authorizeUrl: started.url });
  const [account] = await letmepost.connect.complete({ platform: 'twitter', callbackUrl });
  return account;
}

/** A side's publish result, which must be `published`: a failing side would time its failure. */
export function expectPublished(result) {
  if (result.status !== 'published') throw new Error(`letmepost publish failed: ${JSON.stringify(result.error)}`);
}
