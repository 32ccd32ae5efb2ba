import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';

/**
 * zod schemas of every wire answer the provider reads, named `<id><Thing>Schema`. The template
 * speaks a Mastodon-shaped API (`POST /api/v1/statuses`); replace these with your platform's
 * documented answers, and keep captured examples in `src/__fixtures__/`. They are internal, so
 * each is a `lazySchema`: a schema built at import would cost every host's cold start, even one
 * that never calls the platform. (Public schemas, exported from `index.ts` or handed to
 * `defineProvider`, stay plain.)
 */
export const templateStatusSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    url: z.url(),
  }),
);

export const templateAccountSchema = lazySchema(() =>
  z.looseObject({
    id: z.string().min(1),
    username: z.string().min(1),
    display_name: z.string().optional(),
    avatar: z.string().optional(),
    url: z.string().optional(),
  }),
);

/** The error shape the platform sends, in non-2xx answers and in some 2xx ones. */
export const templateErrorBodySchema = lazySchema(() =>
  z.looseObject({
    error: z.string().optional(),
    /** A machine-readable code; the template's platform sends it beside the prose `error`. */
    code: z.string().optional(),
  }),
);
