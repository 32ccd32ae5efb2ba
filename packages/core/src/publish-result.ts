import type { LetmepostError } from './letmepost-error.js';
import type { PlatformId } from './platform-id.js';

export type PublishStatus = 'published' | 'pending' | 'failed' | 'unknown';

export interface PublishWarning {
  code: string;
  message: string;
}

/** Result of one item of a thread (index 0 is the root post). */
export interface PublishItemResult {
  index: number;
  status: PublishStatus;
  postId?: string;
  url?: string;
  error?: LetmepostError;
}

export interface PublishResult {
  status: PublishStatus;
  platform: PlatformId;
  accountId?: string;
  postId?: string;
  url?: string;
  items?: PublishItemResult[];
  warnings: PublishWarning[];
  error?: LetmepostError;
  /**
   * For `pending`: opaque, sealed token to pass to `letmepost.resume()` (REST
   * `POST /v1/posts/resume`). Bound to the workspace, account and platform; it expires.
   */
  resumeToken?: string;
  /** For `pending`: when to call `resume` again, in milliseconds from now. */
  checkAfterMs?: number;
  /** True when produced by a dry run: nothing was sent to the platform. */
  dryRun?: boolean;
}
