import { LetmepostError, redactThenShorten, type PlatformId } from '@letmepost/core';

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
const MAX_STRING = 500;
const MAX_ITEMS = 20;

/**
 * Raw bodies kept in errors are cut short (enough to debug, not a whole HTML page), after this
 * request's secrets are masked: a secret across the cut would otherwise leave its start behind.
 */
export function bodyExcerpt(options: { text: string; knownSecrets: readonly string[] }): string {
  return redactThenShorten({ text: options.text, maxLength: MAX_EXCERPT, knownSecrets: options.knownSecrets, countRest: true });
}

/**
 * A body kept in an error: parsed JSON when it is JSON (so secret-named fields are masked by
 * LetmepostError's redaction), with long strings and arrays cut; otherwise a text excerpt.
 */
export function bodyForError(options: { text: string; knownSecrets: readonly string[] }): unknown {
  const trimmed = options.text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return shorten({ value: JSON.parse(trimmed), depth: 0, knownSecrets: options.knownSecrets });
    } catch {
      // Not JSON after all.
    }
  }
  return bodyExcerpt(options);
}

function shorten(options: { value: unknown; depth: number; knownSecrets: readonly string[] }): unknown {
  const { value, depth, knownSecrets } = options;
  if (typeof value === 'string') return redactThenShorten({ text: value, maxLength: MAX_STRING, knownSecrets, countRest: true });
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[truncated]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => shorten({ value: item, depth: depth + 1, knownSecrets }));
    return value.length > MAX_ITEMS ? [...items, `[${value.length - MAX_ITEMS} more items]`] : items;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shorten({ value: item, depth: depth + 1, knownSecrets })]));
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
