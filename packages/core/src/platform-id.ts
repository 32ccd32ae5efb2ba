export const PLATFORM_IDS = [
  'twitter',
  'linkedin',
  'facebook',
  'instagram',
  'threads',
  'pinterest',
  'tiktok',
  'youtube',
  'bluesky',
  'reddit',
  'tumblr',
  'telegram',
  'discord',
  'slack',
  'whatsapp',
  'mastodon',
] as const;

export type PlatformId = (typeof PLATFORM_IDS)[number];

export function isPlatformId(value: unknown): value is PlatformId {
  return typeof value === 'string' && (PLATFORM_IDS as readonly string[]).includes(value);
}
