// The letmepost instance the publish benchmarks measure: X only, the in-memory store, and no
// launch cap (a run posts thousands of times from one account, which X's cap would rightly stop).
import { randomBytes } from 'node:crypto';
import { createLetmepost, memoryTokenStore } from '@letmepost/core';
import { createTwitter } from '@letmepost/provider-twitter';

export function createBenchLetmepost({ apiBaseUrl }) {
  return createLetmepost({
    providers: [createTwitter({ apiBaseUrl })],
    store: memoryTokenStore(),
    encryptionKey: randomBytes(32).toString('base64'),
    baseUrl: 'https://app.example.com',
    launchCaps: { twitter: false },
  });
}
