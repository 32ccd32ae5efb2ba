import { z } from 'zod';

/**
 * zod schemas of every wire answer the provider reads, named `<id><Thing>Schema`. The template
 * speaks a Mastodon-shaped API (`POST /api/v1/statuses`); replace these with your platform's
 * documented answers, and keep captured examples in `src/__fixtures__/`.
 */
export const templateStatusSchema = z.looseObject({
  id: z.string().min(1),
  url: z.url(),
});

export const templateAccountSchema = z.looseObject({
  id: z.string().min(1),
  username: z.string().min(1),
  display_name: z.string().optional(),
  avatar: z.string().optional(),
  url: z.string().optional(),
});

/** The error shape the platform sends, in non-2xx answers and in some 2xx ones. */
export const templateErrorBodySchema = z.looseObject({
  error: z.string().optional(),
  /** A machine-readable code; the template's platform sends it beside the prose `error`. */
  code: z.string().optional(),
});
