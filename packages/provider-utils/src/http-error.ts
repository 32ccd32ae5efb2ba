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
 * A body kept in an error: parsed JSON when it is JSON (so secret-named fields are masked by
 * LetmepostError's redaction), with long strings and arrays cut; otherwise a text excerpt.
 */
export function bodyForError(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return shorten(JSON.parse(trimmed), 0);
    } catch {
      // Not JSON after all.
    }
  }
  return bodyExcerpt(text);
}

function shorten(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value.length > 500 ? `${value.slice(0, 500)}… [${value.length - 500} more characters]` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[truncated]';
  if (Array.isArray(value)) {
    const items = value.slice(0, 20).map((item) => shorten(item, depth + 1));
    return value.length > 20 ? [...items, `[${value.length - 20} more items]`] : items;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shorten(item, depth + 1)]));
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
