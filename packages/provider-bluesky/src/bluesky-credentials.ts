import { lazySchema } from '@letmepost/core/internal';
import { z } from 'zod';
import { didSchema } from './bluesky-api.js';

// atproto handle syntax (https://atproto.com/specs/handle): DNS labels, a TLD starting with a
// letter, 253 characters at most.
const HANDLE_PATTERN = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

// The reference PDS mints app passwords as four groups of four lowercase letters and digits.
// Requiring the shape keeps main account passwords (which also unlock settings and, with email
// 2FA, cannot log in at all) from being stored by mistake.
const APP_PASSWORD_PATTERN = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/i;

export const handleSchema = z
  .string()
  .max(253)
  .regex(HANDLE_PATTERN, 'must be a handle such as alice.bsky.social')
  .transform((handle) => handle.toLowerCase());

export function isDid(value: string): boolean {
  return value.startsWith('did:');
}

const identifierSchema = z
  .string()
  .trim()
  .min(1, 'is required')
  // People paste handles the way the app shows them, with a leading `@`.
  .transform((value) => (value.startsWith('@') ? value.slice(1) : value))
  .pipe(z.union([didSchema.max(2048), handleSchema], { error: 'must be a handle (alice.bsky.social) or a DID (did:plc:...)' }));

/** A PDS or entryway base URL; queries, fragments and embedded credentials are refused. */
export const serviceUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((value) => {
    const url = new URL(value);
    return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  }, 'must be a plain URL such as https://bsky.social')
  .transform((value) => {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });

/**
 * Per-request credentials (REST: `identifier`, `app_password`, `service`). `service` is the
 * account's PDS or an entryway; without it the PDS is found from the account's DID document.
 */
export const blueskyCredentialsSchema = z
  .object({
    identifier: identifierSchema,
    appPassword: z
      .string({ error: 'is required' })
      .regex(APP_PASSWORD_PATTERN, 'must be an app password (xxxx-xxxx-xxxx-xxxx), not the account password'),
    service: serviceUrlSchema.optional(),
  })
  .strict();

export type BlueskyCredentials = z.output<typeof blueskyCredentialsSchema>;

/** Non-secret account data core stores next to the session tokens. */
export const blueskyAccountDataSchema = z.object({
  did: didSchema,
  handle: z.string().min(1),
  pdsUrl: z.url({ protocol: /^https?$/ }),
});

export type BlueskyAccountData = z.infer<typeof blueskyAccountDataSchema>;

/** What a Bluesky grant keeps in clear to be refreshed: the session's PDS and DID. */
export const blueskyGrantDataSchema = lazySchema(() => blueskyAccountDataSchema.pick({ did: true, pdsUrl: true }));
