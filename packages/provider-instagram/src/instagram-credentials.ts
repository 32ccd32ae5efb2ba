import type { PublishAuth } from '@letmepost/core';
import { z } from 'zod';

/**
 * Per-request credentials (camelCase; REST takes `access_token` and `instagram_account_id`): an
 * Instagram User token from Instagram Login and the professional account's id (`user_id` of
 * `GET /me`, not the app-scoped `id`).
 */
export const instagramCredentialsSchema = z
  .object({
    accessToken: z.string().trim().min(1, 'is required'),
    instagramAccountId: z.string().regex(/^\d{1,32}$/, 'must be the numeric Instagram professional account id'),
  })
  .strict();

export type InstagramCredentials = z.infer<typeof instagramCredentialsSchema>;

/** Non-secret data kept with a connected account; the token belongs to the grant. */
export const instagramAccountDataSchema = z.looseObject({
  /** The professional account id every publish call is made for. */
  igUserId: z.string().regex(/^\d{1,32}$/),
  accountType: z.string().optional(),
});

/** The token and account id a call is made with, whichever way the publish is authorised. */
export function instagramAuthOf(auth: PublishAuth<InstagramCredentials>): { accessToken: string; igUserId: string } {
  if (auth.type === 'credentials') return { accessToken: auth.credentials.accessToken, igUserId: auth.credentials.instagramAccountId };
  const data = instagramAccountDataSchema.safeParse(auth.account.data ?? {});
  return { accessToken: auth.tokens.accessToken, igUserId: data.success ? data.data.igUserId : auth.account.platformAccountId };
}
