import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { parseInput } from './letmepost-context.js';
import type { PlatformId } from './platform-id.js';
import type { AnyProvider } from './provider.js';

/** One line of setup help: the callback URL to register with a platform's OAuth app. */
export interface RedirectUri {
  platform: PlatformId;
  /** The provider's own name for the platform, e.g. `X (Twitter)`. */
  displayName: string;
  redirectUri: string;
}

/** The one place the callback path is spelled: connect flows and setup help both use it. */
export function redirectUriFor({ baseUrl, platform }: { baseUrl: string; platform: PlatformId }): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/accounts/oauth/${platform}/callback`;
}

const redirectUrisSchema = lazySchema(() =>
  z.object({
    baseUrl: z
      .url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' })
      .refine((value) => !URL.canParse(value) || (!value.includes('?') && !value.includes('#')), 'must not contain a query or fragment'),
    providers: z.array(
      z.custom<Pick<AnyProvider, 'id' | 'displayName' | 'auth'>>(
        (value) =>
          value !== null &&
          typeof value === 'object' &&
          typeof (value as AnyProvider).id === 'string' &&
          typeof (value as AnyProvider).displayName === 'string' &&
          typeof (value as AnyProvider).auth?.kind === 'string',
        'must be a provider from a @letmepost/provider-* package',
      ),
    ),
  }),
);

/**
 * The exact redirect URI to register with each OAuth app, for every installed provider that
 * connects through an OAuth redirect (providers connected with pasted credentials, such as
 * Bluesky app passwords, need none). Platforms compare redirect URIs byte for byte, so a host
 * prints these at startup rather than asking users to assemble them.
 *
 * ```ts
 * for (const { displayName, redirectUri } of redirectUris({ baseUrl: config.baseUrl, providers })) {
 *   console.log(`${displayName}: ${redirectUri}`);
 * }
 * ```
 */
export function redirectUris(options: {
  baseUrl: string;
  providers: readonly Pick<AnyProvider, 'id' | 'displayName' | 'auth'>[];
}): RedirectUri[] {
  const { baseUrl, providers } = parseInput({ schema: redirectUrisSchema(), input: options });
  return providers
    .filter((provider) => provider.auth.kind === 'oauth2')
    .map((provider) => ({
      platform: provider.id,
      displayName: provider.displayName,
      redirectUri: redirectUriFor({ baseUrl, platform: provider.id }),
    }));
}
