import { z } from 'zod';

/**
 * Per-request credentials (camelCase); the REST layer maps `access_token` to `accessToken`.
 * Public (exported, and handed to `defineProvider`), so a plain schema, unlike the wire ones.
 */
export const templateCredentialsSchema = z
  .object({
    accessToken: z.string().trim().min(1, 'is required'),
  })
  .strict();

export type TemplateCredentials = z.infer<typeof templateCredentialsSchema>;

/** Non-secret data kept with a connected account; secrets belong in the token set. */
export const templateAccountDataSchema = z.looseObject({
  username: z.string().optional(),
});
