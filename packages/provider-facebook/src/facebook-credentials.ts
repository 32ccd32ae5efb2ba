import { z } from 'zod';

/**
 * Per-request credentials (camelCase): a Page token and the Page it belongs to. The REST layer
 * maps `page_access_token` and `page_id`.
 */
export const facebookCredentialsSchema = z
  .object({
    pageAccessToken: z.string().trim().min(1, 'is required'),
    pageId: z.string().trim().regex(/^\d{1,32}$/, 'must be a numeric Page id'),
  })
  .strict();

export type FacebookCredentials = z.infer<typeof facebookCredentialsSchema>;

/** Non-secret data kept with a connected Page; its token is sealed on the account. */
export const facebookAccountDataSchema = z.looseObject({
  pageId: z.string().optional(),
  /** The user's tasks on the Page when it was connected (`CREATE_CONTENT`, `MANAGE`, …). */
  tasks: z.array(z.string()).optional(),
  /** How the login reaches the Page: the user's own role, or a Business Portfolio. */
  source: z.enum(['user', 'business']).optional(),
  businessId: z.string().optional(),
});

/**
 * Where `appsecret_proof` is kept in a token set: computed at connect with the grant's own app
 * secret (a workspace's app may differ from the instance's), so publishing needs no secret.
 */
export const APPSECRET_PROOF_SECRET = 'appsecretProof';
