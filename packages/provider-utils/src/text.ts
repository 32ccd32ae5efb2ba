// Core counts text for its capability preflight; providers count with the same functions.
export { countGraphemes, countCodePoints, measureText, utf8ByteLength } from '@letmepost/core/internal';

/**
 * `decodeURIComponent` for text from outside (a pasted URL, a DID): undefined instead of a raw
 * `URIError` when an escape is malformed or decodes to no valid UTF-8 (`%E0%A4%A`, `%ED%A0%80`),
 * so the caller answers with its own typed error.
 */
export function decodePercentEscapes({ value }: { value: string }): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
