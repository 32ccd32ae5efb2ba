// Created on first use: building a segmenter loads ICU's break rules (about 3 MiB of RSS), which
// a process that never counts graphemes (an X-only host, say) should not pay for.
let graphemeSegmenter: Intl.Segmenter | undefined;
const utf8Encoder = new TextEncoder();

/**
 * User-perceived characters (extended grapheme clusters): what Bluesky and Threads count, so a
 * family emoji or a flag is one, not four or eleven.
 */
export function countGraphemes(text: string): number {
  let count = 0;
  graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  for (const _segment of graphemeSegmenter.segment(text)) count += 1;
  return count;
}

/** Length of the text once encoded as UTF-8 (what byte-limited platforms count). */
export function utf8ByteLength(text: string): number {
  // Encoding into a throwaway buffer is the only exact answer for lone surrogates (which become
  // U+FFFD, three bytes); the common case is short texts, so the allocation is cheap.
  return utf8Encoder.encode(text).byteLength;
}

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
