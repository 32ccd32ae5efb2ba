import { LetmepostError, type Post, type ProviderAccount, type ProviderPublishResult, type PublishAuth, type TokenSet } from '@letmepost/core';
import { lazySchema } from '@letmepost/core/internal';
import type { HttpAuth } from '@letmepost/provider-utils';
import { z } from 'zod';
import { templateAccountSchema, templateStatusSchema } from './template-api.js';
import type { TemplateContext } from './template-context.js';
import type { TemplateCredentials } from './template-credentials.js';
import type { TemplateOptions } from './template-options.js';

function bearerOf(auth: PublishAuth<TemplateCredentials>): HttpAuth {
  return { bearer: auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken };
}

/** How the post's link is rendered (`capabilities.link: 'inline'`): appended to the text. */
export function convertToTemplateStatus(options: { post: Post; options: TemplateOptions }): { status: string; visibility?: string } {
  const { post } = options;
  const status = post.link === undefined || post.text.includes(post.link) ? post.text : `${post.text}\n\n${post.link}`.trim();
  return { status, ...(options.options.visibility !== undefined && { visibility: options.options.visibility }) };
}

/**
 * Publishes one post: one create, sent once (`retry: 'create'`), its answer parsed with zod. The
 * HTTP client maps errors (and 2xx refusals, through `inspectSuccess`) and refuses writes
 * during a dry run.
 */
export async function publishTemplatePost(options: {
  context: TemplateContext;
  post: Post;
  auth: PublishAuth<TemplateCredentials>;
  options: TemplateOptions;
  signal?: AbortSignal;
}): Promise<ProviderPublishResult> {
  const { context } = options;
  const { value } = await context.http.json({
    method: 'POST',
    url: `${context.baseUrl}/api/v1/statuses`,
    auth: bearerOf(options.auth),
    body: { json: convertToTemplateStatus({ post: options.post, options: options.options }) },
    retry: 'create',
    schema: templateStatusSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return { status: 'published', postId: value.id, url: value.url, warnings: [] };
}

const postIdSchema = lazySchema(() => z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a status id'));

export async function deleteTemplatePost(options: {
  context: TemplateContext;
  auth: PublishAuth<TemplateCredentials>;
  postId: string;
  signal?: AbortSignal;
}): Promise<void> {
  const parsed = postIdSchema().safeParse(options.postId);
  if (!parsed.success) {
    throw new LetmepostError({ code: 'validation_failed', platform: 'mastodon', field: 'postId', message: `postId ${parsed.error.issues[0]?.message ?? 'is invalid'}.` });
  }
  await options.context.http.request({
    method: 'DELETE',
    url: `${options.context.baseUrl}/api/v1/statuses/${parsed.data}`,
    auth: bearerOf(options.auth),
    // Deleting twice ends in the same state: safe to repeat after a lost answer.
    retry: 'idempotent',
    ...(options.signal !== undefined && { signal: options.signal }),
  });
}

/** The accounts a grant gives access to: here the one the token belongs to. */
export async function listTemplateAccounts(options: { context: TemplateContext; tokens: TokenSet; signal?: AbortSignal }): Promise<ProviderAccount[]> {
  const { value } = await options.context.http.json({
    method: 'GET',
    url: `${options.context.baseUrl}/api/v1/accounts/verify_credentials`,
    auth: { bearer: options.tokens.accessToken },
    schema: templateAccountSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return [
    {
      platformAccountId: value.id,
      kind: 'person',
      username: value.username,
      ...(value.display_name !== undefined && value.display_name !== '' && { displayName: value.display_name }),
      ...(value.avatar !== undefined && { avatarUrl: value.avatar }),
      ...(value.url !== undefined && { profileUrl: value.url }),
      data: { username: value.username },
    },
  ];
}
