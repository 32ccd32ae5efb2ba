import type { ProviderAccount, TokenSet } from '@letmepost/core';
import { instagramMeSchema } from './instagram-api.js';
import type { InstagramContext } from './instagram-context.js';

/**
 * The account an Instagram Login grant gives access to: the professional account the token
 * belongs to. Its `user_id` (not the app-scoped `id`) is what publishing calls are made for.
 */
export async function listInstagramAccounts(options: { context: InstagramContext; tokens: TokenSet; signal?: AbortSignal }): Promise<ProviderAccount[]> {
  const { value } = await options.context.graph.json({
    method: 'GET',
    path: 'me',
    query: { fields: 'user_id,username,name,profile_picture_url,account_type' },
    accessToken: options.tokens.accessToken,
    schema: instagramMeSchema(),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return [
    {
      platformAccountId: value.user_id,
      kind: value.account_type === 'MEDIA_CREATOR' ? 'person' : 'organization',
      username: value.username,
      ...(value.name !== undefined && value.name !== '' && { displayName: value.name }),
      ...(value.profile_picture_url !== undefined && { avatarUrl: value.profile_picture_url }),
      profileUrl: `https://www.instagram.com/${encodeURIComponent(value.username)}/`,
      data: { igUserId: value.user_id, ...(value.account_type !== undefined && { accountType: value.account_type }) },
    },
  ];
}
