import { nodeCrypto } from './node-crypto.js';

/**
 * Random values for the OAuth dance and for identifiers. 32 bytes of CSPRNG output is the floor
 * for anything that authenticates a request (state, PKCE verifier): RFC 7636 asks for 256 bits of
 * entropy in the verifier, and the state is what authenticates the unauthenticated callback.
 */
export function randomBase64Url({ bytes = 32 }: { bytes?: number } = {}): string {
  return nodeCrypto().randomBytes(bytes).toString('base64url');
}

export function generateState(): string {
  return randomBase64Url({ bytes: 32 });
}

export interface PkcePair {
  /** Kept server-side only; it proves at the token endpoint that we started the flow. */
  codeVerifier: string;
  /** `BASE64URL(SHA256(codeVerifier))`, the only part that travels in the authorization URL. */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
}

export function generatePkcePair(): PkcePair {
  // 32 random bytes encode to 43 base64url characters, the minimum length RFC 7636 allows and
  // well under its 128 maximum; base64url's alphabet is a subset of the allowed "unreserved" set.
  const codeVerifier = randomBase64Url({ bytes: 32 });
  return { codeVerifier, codeChallenge: pkceChallenge({ codeVerifier }), codeChallengeMethod: 'S256' };
}

export function pkceChallenge({ codeVerifier }: { codeVerifier: string }): string {
  return nodeCrypto().createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/** Opaque public identifiers such as `acc_…` and `cs_…`: unguessable, URL-safe, prefixed by kind. */
export function generateId({ prefix }: { prefix: string }): string {
  return `${prefix}_${randomBase64Url({ bytes: 16 })}`;
}

export function sha256Base64Url({ value }: { value: string | Uint8Array }): string {
  // The one-shot `hash()` skips the Hash object a `createHash` chain builds: it runs on every
  // publish (launch-cap subjects, idempotency payloads).
  return nodeCrypto().hash('sha256', value, 'base64url');
}
