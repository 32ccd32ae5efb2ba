// The process that gets killed in the "never twice" resume test: it opens the same SQLite store,
// builds the provider from the built package and resumes the pending publish once. The parent
// SIGKILLs it the moment the platform has answered `media_publish`, before it records the outcome.
import { createLetmepost } from '@letmepost/core';
import { sqliteTokenStore } from '@letmepost/store-sqlite';

const config = JSON.parse(process.argv[2] ?? '{}');
const { createInstagram } = await import(config.providerUrl);
const store = sqliteTokenStore({ path: config.storePath, busyTimeoutMs: 10_000 });
const letmepost = createLetmepost({ providers: [createInstagram(config.settings)], store, encryptionKey: config.encryptionKey, baseUrl: 'https://app.example' });
process.send?.({ type: 'ready' });
await letmepost.resume({ workspaceId: config.workspaceId, resumeToken: config.resumeToken, credentials: config.credentials });
process.send?.({ type: 'resumed' });
