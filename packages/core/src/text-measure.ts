import type { TextUnit } from './provider.js';

// Created on first use: building a segmenter loads ICU's break rules (about 3 MiB of RSS), which
// a process that never counts graphemes (an X-only host, say) should not pay for.
let segmenter: Intl.Segmenter | undefined;
const utf8Encoder = new TextEncoder();

/** The process's one grapheme segmenter (for providers that weigh each grapheme, as Threads does). */
export function graphemeSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}

/**
 * User-perceived characters (extended grapheme clusters): what Bluesky and Threads count, so a
 * family emoji or a flag is one, not four or eleven.
 */
export function countGraphemes(text: string): number {
  let count = 0;
  for (const _segment of graphemeSegmenter().segment(text)) count += 1;
  return count;
}

/** Length of the text once encoded as UTF-8 (what byte-limited platforms count). */
export function utf8ByteLength(text: string): number {
  // Encoding into a throwaway buffer is the only exact answer for lone surrogates (which become
  // U+FFFD, three bytes); the common case is short texts, so the allocation is cheap.
  return utf8Encoder.encode(text).byteLength;
}

/** Unicode code points: what most platforms mean by "characters". */
export function countCodePoints(text: string): number {
  let count = 0;
  for (const _codePoint of text) count += 1;
  return count;
}

/**
 * The length of `text` in `unit`, or `undefined` for a unit only its provider can count
 * (`twitter-weighted` needs X's weighting tables, which live in the X provider).
 */
export function measureText(options: { text: string; unit: TextUnit }): number | undefined {
  const { text, unit } = options;
  switch (unit) {
    case 'characters':
      return countCodePoints(text);
    case 'graphemes':
      return countGraphemes(text);
    case 'utf16':
      return text.length;
    case 'bytes':
      return utf8ByteLength(text);
    default:
      return undefined;
  }
}
