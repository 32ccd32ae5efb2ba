import type { Clock } from '@letmepost/core';
import type { HttpClient, SafeFetcher } from '@letmepost/provider-utils';
import type { IdentityResolver } from './bluesky-identity.js';
import type { SessionCache } from './bluesky-session.js';

export interface VideoProcessingSettings {
  /** Wait between two `getJobStatus` polls. Default 2000 ms. */
  pollIntervalMs: number;
  /** How long `publish` waits for the video service before answering `pending`. Default 45 s. */
  maxWaitMs: number;
  sleep: (options: { ms: number; signal?: AbortSignal }) => Promise<void>;
}

/** What one provider instance shares between its calls. Holds no account state but caches. */
export interface BlueskyContext {
  http: HttpClient;
  fetcher: SafeFetcher;
  identity: IdentityResolver;
  clock: Clock;
  /** Sessions of pass-per-request credentials; `undefined` when the host disabled the cache. */
  sessionCache: SessionCache | undefined;
  videoServiceUrl: string;
  /** `did:web:` of the video service, the audience of its upload-limits token. */
  videoServiceDid: string;
  appViewUrl: string;
  video: VideoProcessingSettings;
  /** `blobUploadLimit` per PDS, from `describeServer`, with when it was read. */
  blobLimits: Map<string, { limit: number | undefined; readAt: number }>;
}
