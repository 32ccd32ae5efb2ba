/**
 * The example provider again, with its network code on `@letmepost/provider-utils`
 * (`createHttpClient`, `createOAuth2Client`) as real providers are written: proves the kit and the
 * shared HTTP layer agree on retries, aborts, dry runs and error mapping.
 */
import { LetmepostError, type Clock, type ProviderV2 } from '@letmepost/core';
import { createErrorMapper, createHttpClient, createOAuth2Client, defaultErrorForStatus } from '@letmepost/provider-utils';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { createExampleProvider } from './example-provider.js';

const statusSchema = z.object({ id: z.string().min(1), url: z.url() });

export function createExampleUtilsProvider(settings: { dispatcher: Dispatcher; clock: Clock }): ProviderV2<{ instanceUrl: string; accessToken: string }, Record<string, never>> {
  const base = createExampleProvider(settings);
  // A refusal some instances send with 200: `{ error }` and no status id.
  const refusedInSuccess = createErrorMapper({
    platform: 'mastodon',
    fields: (response) => ({ refused: z.object({ error: z.string() }).safeParse(response.body).success }),
    message: ({ response }) => `The instance refused ${response.request.method} ${response.request.url} in a ${response.status} answer.`,
    rules: [{ when: { refused: true }, code: 'platform_rejected' }],
  });
  const http = createHttpClient({
    inspectSuccess: refusedInSuccess,
    platform: 'mastodon',
    dispatcher: settings.dispatcher,
    clock: settings.clock,
    // Mastodon answers errors as `{ error }` prose; only the status is structured.
    mapError: (response) => (response.status === 401 ? new LetmepostError({ code: 'auth_expired', platform: 'mastodon', status: 401, message: 'The access token was refused.' }) : defaultErrorForStatus(response)),
  });
  const oauth = createOAuth2Client({
    platform: 'mastodon',
    endpoints: { authorizationEndpoint: 'https://social.example/oauth/authorize', tokenEndpoint: 'https://social.example/oauth/token' },
    quirks: { clientAuthentication: 'client_secret_post' },
    dispatcher: settings.dispatcher,
    clock: settings.clock,
  });

  return {
    ...base,
    authorizationUrl: (options) => oauth.authorizationUrl(options),
    async exchangeCode(options) {
      const { raw: _raw, ...tokens } = await oauth.exchangeCode(options);
      return tokens;
    },
    async publish({ post, auth, signal }) {
      const accessToken = auth.type === 'account' ? auth.tokens.accessToken : auth.credentials.accessToken;
      const { value } = await http.json({
        method: 'POST',
        url: 'https://social.example/api/v1/statuses',
        auth: { bearer: accessToken },
        body: { json: { status: post.text } },
        retry: 'create',
        secrets: [accessToken],
        schema: statusSchema,
        ...(signal ? { signal } : {}),
      });
      return { status: 'published', postId: value.id, url: value.url, warnings: [] };
    },
  };
}
