import type { SandboxOAuth1Credentials } from './sandbox-oauth1.js';

export interface SandboxApp {
  platform: string;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  name?: string;
}

export interface SandboxAccessToken {
  platform: string;
  userId: string;
  scopes: string[];
  expiresAt: number;
  clientId?: string;
}

export interface SandboxRefreshToken {
  platform: string;
  clientId: string;
  scopes: string[];
  used: boolean;
}

export interface ReceivedEvent {
  at: string;
  platform: string;
  kind: string;
  summary: string;
  detail?: unknown;
}

export interface SandboxPost {
  platform: string;
  id: string;
  url?: string;
  authorId: string;
  text: string;
  mediaIds: string[];
  replyTo?: string;
  createdAt: string;
  deleted?: boolean;
  raw: unknown;
}

/**
 * Faults a test can switch on per platform; each applies to the platform's write endpoints and
 * counts down `remaining` (Infinity for "until cleared").
 */
export type SandboxFault =
  | { kind: 'rate_limit'; resetSeconds?: number; remaining?: number }
  | { kind: 'server_error'; status?: 500 | 502 | 503; remaining?: number }
  | { kind: 'slow'; delayMs: number; remaining?: number }
  /** The write is recorded, then the connection is destroyed before any response. */
  | { kind: 'drop_after_record'; remaining?: number };

export class SandboxState {
  readonly apps: SandboxApp[] = [];
  readonly accessTokens = new Map<string, SandboxAccessToken>();
  readonly refreshTokens = new Map<string, SandboxRefreshToken>();
  readonly events: ReceivedEvent[] = [];
  readonly posts: SandboxPost[] = [];
  readonly faults = new Map<string, SandboxFault>();
  /** X OAuth 1.0a user-context credentials the emulated API accepts signatures from. */
  readonly oauth1Credentials: SandboxOAuth1Credentials[] = [];
  refreshCount = 0;
  refreshRejections = 0;
  private readonly clock: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.clock = options.now ?? (() => Date.now());
  }

  now(): number {
    return this.clock();
  }

  record(event: Omit<ReceivedEvent, 'at'>): void {
    this.events.push({ at: new Date(this.now()).toISOString(), ...event });
    // Bounded so a long-running demo cannot grow without limit.
    if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
  }

  addPost(post: Omit<SandboxPost, 'createdAt'>): SandboxPost {
    const stored = { ...post, createdAt: new Date(this.now()).toISOString() };
    this.posts.push(stored);
    this.record({ platform: post.platform, kind: 'post', summary: post.text.slice(0, 80), detail: { id: post.id, mediaIds: post.mediaIds } });
    return stored;
  }

  registerApp(app: SandboxApp): void {
    const index = this.apps.findIndex((candidate) => candidate.platform === app.platform && candidate.clientId === app.clientId);
    if (index >= 0) this.apps.splice(index, 1);
    this.apps.push(app);
  }

  registerOAuth1Credentials(credentials: SandboxOAuth1Credentials): void {
    const index = this.oauth1Credentials.findIndex((candidate) => candidate.consumerKey === credentials.consumerKey && candidate.accessToken === credentials.accessToken);
    if (index >= 0) this.oauth1Credentials.splice(index, 1);
    this.oauth1Credentials.push(credentials);
  }

  /** Takes the platform's current fault, if any, counting it down. */
  takeFault(platform: string): SandboxFault | undefined {
    const fault = this.faults.get(platform);
    if (!fault) return undefined;
    const remaining = fault.remaining ?? Number.POSITIVE_INFINITY;
    if (remaining <= 1) this.faults.delete(platform);
    else this.faults.set(platform, { ...fault, remaining: remaining - 1 });
    return fault;
  }
}
