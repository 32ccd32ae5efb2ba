import { LetmepostError, type PlatformId } from '@letmepost/core';

const PLATFORM_NAMES: Record<PlatformId, string> = {
  twitter: 'X',
  linkedin: 'LinkedIn',
  facebook: 'Facebook',
  instagram: 'Instagram',
  threads: 'Threads',
  pinterest: 'Pinterest',
  tiktok: 'TikTok',
  youtube: 'YouTube',
  bluesky: 'Bluesky',
  reddit: 'Reddit',
  tumblr: 'Tumblr',
  telegram: 'Telegram',
  discord: 'Discord',
  slack: 'Slack',
  whatsapp: 'WhatsApp',
  mastodon: 'Mastodon',
};

export function platformName(platform: PlatformId | undefined): string {
  return platform === undefined ? 'The platform' : PLATFORM_NAMES[platform];
}

/** Origin and path only: query strings often carry tokens, and messages must not. */
export function safeUrlForMessage(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

const MAX_EXCERPT = 2000;

/** Raw bodies kept in errors are cut short: enough to debug, not a whole HTML page. */
export function bodyExcerpt(text: string): string {
  return text.length > MAX_EXCERPT ? `${text.slice(0, MAX_EXCERPT)}… [${text.length - MAX_EXCERPT} more characters]` : text;
}

/**
 * Rebuilds an error a provider's `mapError` produced so that this request's secrets are masked
 * and `platform` is set, whatever the provider remembered to pass.
 */
export function reissueError(options: {
  error: LetmepostError;
  platform: PlatformId;
  knownSecrets: readonly string[];
}): LetmepostError {
  const { error } = options;
  return new LetmepostError({
    code: error.code,
    message: error.message,
    platform: error.platform ?? options.platform,
    status: error.status,
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    rule: error.rule,
    field: error.field,
    remediation: error.remediation,
    platformResponse: error.platformResponse,
    issues: error.issues,
    knownSecrets: options.knownSecrets,
    cause: (error as { cause?: unknown }).cause,
  });
}
