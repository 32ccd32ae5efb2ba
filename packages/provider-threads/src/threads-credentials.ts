import { z } from 'zod';

/**
 * Per-request credentials (camelCase): a Threads user access token and the Threads user id it
 * belongs to. The REST layer maps `access_token` and `threads_user_id`.
 */
export const threadsCredentialsSchema = z
  .object({
    accessToken: z.string().trim().min(1, 'is required'),
    threadsUserId: z.string().trim().regex(/^\d{1,32}$/, 'must be the numeric Threads user id'),
  })
  .strict();

export type ThreadsCredentials = z.infer<typeof threadsCredentialsSchema>;

/** Non-secret data kept with a connected account; the access token lives in the grant. */
export const threadsAccountDataSchema = z.looseObject({
  username: z.string().optional(),
});
