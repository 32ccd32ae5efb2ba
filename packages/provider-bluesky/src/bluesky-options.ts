import { z } from 'zod';

// BCP-47 tags as the lexicon's `language` format accepts them in practice: a 2–3 letter primary
// subtag and optional subtags (`en`, `pt-BR`, `zh-Hant-TW`).
const LANGUAGE_TAG_PATTERN = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$/;

export const SELF_LABEL_VALUES = ['porn', 'sexual', 'nudity', 'graphic-media'] as const;

/** Per-target options for Bluesky. */
export const blueskyOptionsSchema = z
  .object({
    /** Languages of the text (`langs`), at most three BCP-47 tags. */
    langs: z.array(z.string().regex(LANGUAGE_TAG_PATTERN, 'must be a BCP-47 language tag such as en or pt-BR')).max(3).optional(),
    /**
     * The preview card for `post.link`. Bluesky never builds cards itself; without this the card
     * shows the bare URL. `thumbUrl` is fetched and uploaded as the card image (max 1 MB).
     */
    linkCard: z
      .object({
        title: z.string().max(300).optional(),
        description: z.string().max(1000).optional(),
        thumbUrl: z.url({ protocol: /^https?$/ }).optional(),
      })
      .strict()
      .optional(),
    /** Self-applied content warnings. */
    selfLabels: z.array(z.enum(SELF_LABEL_VALUES)).max(4).optional(),
  })
  .strict()
  .default({});

export type BlueskyOptions = z.output<typeof blueskyOptionsSchema>;
