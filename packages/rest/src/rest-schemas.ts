import { PLATFORM_IDS } from '@letmepost/core';
import { z } from 'zod';

const platform = z.enum(PLATFORM_IDS);
const plainObject = z.record(z.string(), z.unknown());

export const putPlatformCredentialsBody = z
  .object({
    platform,
    // Per-instance platforms (Mastodon): the server's host name; core checks and normalises it.
    instance: z.string().min(1).max(261).optional(),
    client_id: z.string().min(1).max(512),
    client_secret: z.string().min(1).max(4096),
  })
  .strict();

export const createConnectSessionBody = z
  .object({
    platform,
    allow_quickstart_creds: z.boolean().optional(),
    scopes: z.enum(['write', 'extended']).optional(),
    return_to: z.url({ protocol: /^https?$/ }).optional(),
    /** The provider's connect input, snake_case (Mastodon `{ instance_url }`); checked by core. */
    params: plainObject.optional(),
    choose_accounts: z.boolean().optional(),
  })
  .strict();

export const chooseAccountsBody = z.object({ platform_account_ids: z.array(z.string().min(1).max(512)).max(200) }).strict();

export const createAccountBody = z.object({ platform, credentials: plainObject }).strict();

const mediaBody = z
  .object({
    url: z.string().optional(),
    data_base64: z.base64().optional(),
    mime_type: z.string(),
    alt_text: z.string().optional(),
    file_name: z.string().optional(),
    width: z.number().int().positive().optional(),
    height: z.number().int().positive().optional(),
  })
  .strict()
  .refine((media) => (media.url === undefined) !== (media.data_base64 === undefined), {
    message: 'give exactly one of url or data_base64',
  });

const postItemBody = z
  .object({ text: z.string(), link: z.string().optional(), media: z.array(mediaBody).max(20).optional() })
  .strict();

export const createPostBody = z
  .object({
    post: postItemBody
      .extend({
        thread: z.array(postItemBody).max(25).optional(),
        reply_to: z.string().optional(),
        first_comment: z.string().optional(),
      })
      .strict(),
    targets: z
      .array(
        z.union([
          z.object({ account_id: z.string().min(1), options: plainObject.optional() }).strict(),
          z.object({ platform, credentials: plainObject, options: plainObject.optional() }).strict(),
        ]),
      )
      .min(1)
      .max(50),
    dry_run: z.boolean().optional(),
  })
  .strict();

/** What `authenticate()` must resolve a caller to: the one workspace every route acts in. */
export const principalSchema = z.looseObject({ workspaceId: z.string().min(1) });

export const resumePostBody = z
  .object({
    resume_token: z.string().min(1).max(64 * 1024),
    /** Only for a publish made with per-request credentials: the same credentials again. */
    credentials: plainObject.optional(),
  })
  .strict();

export type CreatePostBody = z.infer<typeof createPostBody>;

export const refreshDueBody = z
  .object({
    /** Refresh grants whose token expires within this many milliseconds. */
    within_ms: z.number().int().positive(),
    workspace_id: z.string().min(1).max(256).optional(),
  })
  .strict();
