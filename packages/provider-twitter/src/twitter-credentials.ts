import { LetmepostError, type PublishAuth, type TokenSet } from '@letmepost/core';
import { deepFreeze } from '@letmepost/core/internal';
import type { HttpAuth } from '@letmepost/provider-utils';
import { z } from 'zod';

/**
 * Per-request OAuth 1.0a user-context credentials (the four values of an X app's "Keys and
 * tokens" page). The REST API takes them as `consumer_key`, `consumer_secret`, `access_token`,
 * `access_token_secret`. They never expire and are never stored by a publish.
 */
export const twitterCredentialsSchema = z
  .object({
    consumerKey: z.string().trim().min(1, 'is required'),
    consumerSecret: z.string().trim().min(1, 'is required'),
    accessToken: z.string().trim().min(1, 'is required'),
    accessTokenSecret: z.string().trim().min(1, 'is required'),
  })
  .strict();

export type TwitterCredentials = z.infer<typeof twitterCredentialsSchema>;

/** Non-secret account data kept with a connected X account. */
export const twitterAccountDataSchema = z.looseObject({
  /** `oauth2` for accounts connected through the consent flow, `oauth1` for pasted user keys. */
  authentication: z.enum(['oauth2', 'oauth1']).optional(),
  verifiedType: z.string().optional(),
  subscriptionType: z.string().optional(),
});

/** `tokenType` of a TokenSet that holds OAuth 1.0a user credentials instead of a bearer token. */
export const OAUTH1_TOKEN_TYPE = 'oauth1';

/** How one publish authenticates at X, and what it knows about the account. */
export interface TwitterRequestAuth {
  http: HttpAuth;
  /** Handle for post URLs; unknown for per-request credentials (X's `i/web/status` URL then). */
  username?: string;
  secrets: string[];
}

/** Request auth per frozen stored token set; frozen, since every publish to the account shares it. */
const accountAuths = new WeakMap<TokenSet, TwitterRequestAuth>();

/** Turns the publish auth into request auth, refusing malformed credentials before any I/O. */
export function resolveTwitterAuth(auth: PublishAuth<TwitterCredentials>): TwitterRequestAuth {
  if (auth.type === 'account') {
    const { tokens } = auth;
    const username = auth.account.username;
    // Core hands over the stored tokens opened once and frozen, the same object on every publish
    // until they change: their request auth is worked out once too.
    if (!Object.isFrozen(tokens)) return { ...fromTokens(tokens), username };
    const known = accountAuths.get(tokens);
    if (known !== undefined && known.username === username) return known;
    const made = deepFreeze({ ...fromTokens(tokens), username });
    accountAuths.set(tokens, made);
    return made;
  }
  // The provider's boundary (defineProvider) parsed them, or core did just before.
  const { credentials } = auth;
  return {
    http: {
      oauth1: {
        consumerKey: credentials.consumerKey,
        consumerSecret: credentials.consumerSecret,
        token: credentials.accessToken,
        tokenSecret: credentials.accessTokenSecret,
      },
    },
    secrets: [credentials.consumerSecret, credentials.accessToken, credentials.accessTokenSecret],
  };
}

export function parseTwitterCredentials(value: unknown): TwitterCredentials {
  const result = twitterCredentialsSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: ['credentials', ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  throw new LetmepostError({
    code: 'validation_failed',
    message: `Invalid X credentials: ${issues.map((issue) => `${issue.field} ${issue.message}`).join('; ')}.`,
    platform: 'twitter',
    field: issues[0]?.field,
    issues,
    remediation: 'Pass consumerKey, consumerSecret, accessToken and accessTokenSecret from the X app’s Keys and tokens page.',
  });
}

/** OAuth 1.0a credentials kept as a TokenSet (accounts connected with pasted user keys). */
export function oauth1TokenSet(credentials: TwitterCredentials): TokenSet {
  return {
    accessToken: credentials.accessToken,
    tokenType: OAUTH1_TOKEN_TYPE,
    secrets: {
      consumerKey: credentials.consumerKey,
      consumerSecret: credentials.consumerSecret,
      accessTokenSecret: credentials.accessTokenSecret,
    },
  };
}

function fromTokens(tokens: TokenSet): Pick<TwitterRequestAuth, 'http' | 'secrets'> {
  if (tokens.tokenType === OAUTH1_TOKEN_TYPE) {
    const secrets = tokens.secrets ?? {};
    const credentials = parseTwitterCredentials({
      consumerKey: secrets.consumerKey,
      consumerSecret: secrets.consumerSecret,
      accessToken: tokens.accessToken,
      accessTokenSecret: secrets.accessTokenSecret,
    });
    return resolveTwitterAuth({ type: 'credentials', credentials });
  }
  if (tokens.accessToken.trim() === '') {
    throw new LetmepostError({
      code: 'reauth_required',
      message: 'The X account has no access token; it must be connected again.',
      platform: 'twitter',
    });
  }
  return { http: { bearer: tokens.accessToken }, secrets: [tokens.accessToken, ...(tokens.refreshToken ? [tokens.refreshToken] : [])] };
}
