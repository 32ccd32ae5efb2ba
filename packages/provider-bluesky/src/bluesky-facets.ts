import type { PublishWarning } from '@letmepost/core';
import { countGraphemes, isTopLevelDomain, utf8ByteLength } from '@letmepost/provider-utils';
import type { Facet, FacetFeature } from './bluesky-api.js';
import { handleSchema } from './bluesky-credentials.js';

/**
 * Rich-text detection for post text, matching what `@atproto/api`'s `RichText.detectFacets` finds
 * so posts look the same as ones made in the Bluesky app: `@handle` mentions, `http(s)://` links,
 * bare domains with a known top-level domain (`example.com/page`, linked as `https://…`) and
 * `#hashtags`. Offsets are UTF-8 byte positions (the lexicon's `byteSlice`), never string
 * indexes, which count UTF-16 units and drift after any emoji or non-Latin character.
 */

/** A facet found in the text; mentions still carry the handle until it is resolved to a DID. */
export type DetectedFacet = {
  byteStart: number;
  byteEnd: number;
} & ({ type: 'mention'; handle: string } | { type: 'link'; uri: string } | { type: 'tag'; tag: string });

const MENTION_PATTERN = /(^|\s|\()@([a-zA-Z0-9.-]+)\b/g;
// From `@atproto/api` (rich-text/util.ts): a URL with its scheme, or a bare domain (letters first)
// followed by anything up to the next space.
const LINK_PATTERN = /(^|\s|\()((https?:\/\/\S+)|((?<domain>[a-z][a-z0-9]*(\.[a-z0-9]+)+)\S*))/gim;
// From `@atproto/api` (rich-text/util.ts): a `#` or full-width `＃` after a space or the start,
// then a word that is not only digits; zero-width characters end it.
const TAG_PATTERN =
  // eslint-disable-next-line no-misleading-character-class
  /(^|\s)[#＃]((?!\ufe0f)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]*[^\d\s\p{P}\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]+[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]*)?/gu;
const TRAILING_PUNCTUATION = /\p{P}+$/u;

const MAX_TAG_GRAPHEMES = 64;
const MAX_TAG_BYTES = 640;

export function detectFacets(options: { text: string }): DetectedFacet[] {
  const { text } = options;
  const byteOffset = (utf16Index: number): number => utf8ByteLength(text.slice(0, utf16Index));
  const found: Array<DetectedFacet & { start: number; end: number }> = [];

  for (const match of text.matchAll(MENTION_PATTERN)) {
    const handle = match[2] ?? '';
    const parsed = handleSchema.safeParse(handle);
    if (!parsed.success) continue;
    const start = match.index + (match[1] ?? '').length;
    const end = start + 1 + handle.length;
    found.push({ type: 'mention', handle: parsed.data, start, end, byteStart: byteOffset(start), byteEnd: byteOffset(end) });
  }

  for (const match of text.matchAll(LINK_PATTERN)) {
    let uri = match[2] ?? '';
    const start = match.index + (match[1] ?? '').length;
    const domain = match.groups?.['domain'];
    if (domain !== undefined) {
      // A bare domain is a link only when its last label is a real TLD (`file.txt` is not), as
      // written: the Bluesky app does not link `EXAMPLE.COM` either.
      if (!isTopLevelDomain(domain.slice(domain.lastIndexOf('.') + 1))) continue;
    }
    let end = start + uri.length;
    // Sentence punctuation after a URL belongs to the sentence, as in the Bluesky app.
    if (/[.,;:!?]$/.test(uri)) {
      uri = uri.slice(0, -1);
      end -= 1;
    }
    if (uri.endsWith(')') && !uri.includes('(')) {
      uri = uri.slice(0, -1);
      end -= 1;
    }
    // The facet covers the text as written; the link it carries has a scheme.
    if (domain !== undefined) uri = `https://${uri}`;
    if (!URL.canParse(uri)) continue;
    found.push({ type: 'link', uri, start, end, byteStart: byteOffset(start), byteEnd: byteOffset(end) });
  }

  for (const match of text.matchAll(TAG_PATTERN)) {
    const raw = match[2];
    if (!raw) continue;
    const tag = raw.trim().replace(TRAILING_PUNCTUATION, '');
    if (tag.length === 0 || countGraphemes(tag) > MAX_TAG_GRAPHEMES || utf8ByteLength(tag) > MAX_TAG_BYTES) continue;
    const start = match.index + (match[1] ?? '').length;
    // The `#` (or `＃`) is one UTF-16 unit; the facet covers it, the feature value does not.
    const end = start + 1 + tag.length;
    found.push({ type: 'tag', tag, start, end, byteStart: byteOffset(start), byteEnd: byteOffset(end) });
  }

  found.sort((left, right) => left.start - right.start);
  const facets: DetectedFacet[] = [];
  let lastEnd = -1;
  for (const { start, end, ...facet } of found) {
    // Facets must not overlap; the earlier one wins (a URL containing `#section` stays a link).
    if (start < lastEnd) continue;
    facets.push(facet as DetectedFacet);
    lastEnd = end;
  }
  return facets;
}

/**
 * Turns detected facets into lexicon facets. Mentions are resolved to DIDs with `resolveHandle`;
 * a handle that does not resolve stays plain text and produces a warning, as the Bluesky app does.
 */
export async function resolveFacets(options: {
  text: string;
  resolveHandle: (options: { handle: string }) => Promise<string | undefined>;
}): Promise<{ facets: Facet[]; warnings: PublishWarning[] }> {
  const detected = detectFacets({ text: options.text });
  const handles = [...new Set(detected.flatMap((facet) => (facet.type === 'mention' ? [facet.handle] : [])))];
  const dids = new Map<string, string | undefined>();
  // Sequential on purpose: a post holds a handful of mentions, and parallel lookups against the
  // PDS only spend its per-IP rate limit faster.
  for (const handle of handles) dids.set(handle, await options.resolveHandle({ handle }));

  const facets: Facet[] = [];
  const warnings: PublishWarning[] = [];
  const warned = new Set<string>();
  for (const facet of detected) {
    let feature: FacetFeature;
    if (facet.type === 'mention') {
      const did = dids.get(facet.handle);
      if (did === undefined) {
        if (warned.has(facet.handle)) continue;
        warned.add(facet.handle);
        warnings.push({
          code: 'bluesky.mention.unresolved',
          message: `@${facet.handle} does not resolve to a Bluesky account; it was posted as plain text.`,
        });
        continue;
      }
      feature = { $type: 'app.bsky.richtext.facet#mention', did };
    } else if (facet.type === 'link') {
      feature = { $type: 'app.bsky.richtext.facet#link', uri: facet.uri };
    } else {
      feature = { $type: 'app.bsky.richtext.facet#tag', tag: facet.tag };
    }
    facets.push({ index: { byteStart: facet.byteStart, byteEnd: facet.byteEnd }, features: [feature] });
  }
  return { facets, warnings };
}
