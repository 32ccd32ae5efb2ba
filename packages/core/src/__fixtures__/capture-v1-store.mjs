/**
 * Writes `v1-store.json`: the store exactly as the release before grants left it (v1 account
 * records with their tokens sealed inline, one copy per account). It was run once against the
 * code at commit 883b774 (`node src/__fixtures__/capture-v1-store.mjs` after building that
 * commit); later releases cannot write v1 records, so the output is kept, not regenerated.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { createLetmepost, memoryTokenStore } from '../../dist/index.js';

const encryptionKey = randomBytes(32).toString('base64');
const now = Date.UTC(2026, 0, 15, 12);
const HOUR = 3_600_000;
const clock = { now: () => now };
const store = memoryTokenStore({ clock });

const capabilities = {
  text: { maxLength: 3000, unit: 'characters', required: true },
  media: {
    maxItems: 0, maxImages: 0, maxVideos: 0, imageMimeTypes: [], videoMimeTypes: [],
    mixedImagesAndVideo: false, altText: false, ingest: 'push',
  },
  thread: false, replyTo: false, firstComment: false, link: 'inline', deletePost: false, pending: false,
};

function provider({ id, auth, listAccounts, connectWithCredentials }) {
  return {
    specificationVersion: 'v1',
    id,
    displayName: id,
    auth,
    credentialSchema: z.object({ identifier: z.string(), appPassword: z.string() }),
    accountSchema: z.record(z.string(), z.unknown()),
    optionsSchema: z.object({}).strict(),
    capabilities,
    defaultClient: { clientId: `${id}-client-id`, clientSecret: `${id}-client-secret-v1` },
    authorizationUrl: ({ state }) => new URL(`https://auth.${id}.test/authorize?state=${state}`),
    exchangeCode: async () => ({
      accessToken: `${id}-access-v1`,
      refreshToken: `${id}-refresh-v1`,
      tokenType: 'Bearer',
      expiresAt: now + HOUR,
      refreshTokenExpiresAt: now + 365 * 24 * HOUR,
      scopes: ['w_member_social', 'w_organization_social'],
    }),
    listAccounts,
    connectWithCredentials,
    validate: () => [],
    publish: async () => ({ status: 'published', postId: 'unused', warnings: [] }),
  };
}

const linkedin = provider({
  id: 'linkedin',
  auth: { kind: 'oauth2', scopes: { write: ['w_member_social'], extended: ['w_organization_social'] }, pkce: true, refresh: 'reusable' },
  listAccounts: async () => [
    { platformAccountId: 'member-1', kind: 'person', username: 'alice', displayName: 'Alice', data: { urn: 'urn:li:person:member-1' } },
    { platformAccountId: '1001', kind: 'organization', displayName: 'Org One', data: { urn: 'urn:li:organization:1001', memberUrn: 'urn:li:person:member-1', role: 'ADMINISTRATOR' } },
    { platformAccountId: '1002', kind: 'organization', displayName: 'Org Two', data: { urn: 'urn:li:organization:1002', memberUrn: 'urn:li:person:member-1', role: 'ADMINISTRATOR' } },
  ],
});
const bluesky = provider({
  id: 'bluesky',
  auth: { kind: 'credentials' },
  connectWithCredentials: async ({ credentials }) => ({
    account: { platformAccountId: 'did:plc:alice', kind: 'person', username: credentials.identifier, data: { did: 'did:plc:alice', pdsUrl: 'https://pds.bluesky.test', handle: credentials.identifier } },
    tokens: { accessToken: 'bluesky-access-v1', refreshToken: 'bluesky-refresh-v1', tokenType: 'Bearer', expiresAt: now + HOUR, secrets: { appPassword: credentials.appPassword } },
  }),
});

const letmepost = createLetmepost({ encryptionKey, baseUrl: 'https://app.example.com', store, clock, providers: [linkedin, bluesky] });
const { url } = await letmepost.connect.start({ workspaceId: 'ws-1', platform: 'linkedin', allowQuickstartCreds: true });
const state = new URL(url).searchParams.get('state');
const linkedInAccounts = await letmepost.connect.complete({
  platform: 'linkedin',
  callbackUrl: `https://app.example.com/v1/accounts/oauth/linkedin/callback?code=c&state=${state}`,
});
const blueskyAccount = await letmepost.connect.withCredentials({
  workspaceId: 'ws-1',
  platform: 'bluesky',
  credentials: { identifier: 'alice.bsky.test', appPassword: 'bluesky-app-password-v1' },
});
await letmepost.appCredentials.put({ workspaceId: 'ws-1', platform: 'linkedin', clientId: 'ws-app-id', clientSecret: 'ws-app-secret-v1' });

const entries = (await store.list('')).filter((entry) => !entry.key.startsWith('connect-sessions/'));
writeFileSync(
  new URL('./v1-store.json', import.meta.url),
  `${JSON.stringify(
    {
      description: 'Store written by letmepost core at commit 883b774 (v1 account records, tokens inline). Test data only.',
      encryptionKey,
      capturedAt: now,
      accounts: {
        linkedInMember: linkedInAccounts[0].id,
        linkedInOrganizations: [linkedInAccounts[1].id, linkedInAccounts[2].id],
        bluesky: blueskyAccount.id,
      },
      entries: entries.map(({ key, value, version }) => ({ key, value, version })),
    },
    null,
    2,
  )}\n`,
);
console.log(entries.map((entry) => entry.key).join('\n'));
