import { domainToASCII } from 'node:url';
import { countryCodeTopLevelDomains, isTopLevelDomain } from '@letmepost/provider-utils';

/**
 * How X weighs text, in the format of twitter-text's `config/v3.json`: every code point weighs
 * `defaultWeight` unless it falls in one of `ranges`; an emoji sequence weighs `defaultWeight`
 * once however many code points it joins; a URL weighs `transformedUrlLength` (its t.co length)
 * whatever its real length. The limit is `maxWeightedLength * scale`.
 */
export interface TwitterTextConfig {
  maxWeightedLength: number;
  scale: number;
  defaultWeight: number;
  emojiParsingEnabled: boolean;
  transformedUrlLength: number;
  ranges: readonly { start: number; end: number; weight: number }[];
}

/** twitter-text `config/v3.json`, the configuration X counts posts with. */
export const twitterTextConfigV3: TwitterTextConfig = {
  maxWeightedLength: 280,
  scale: 100,
  defaultWeight: 200,
  emojiParsingEnabled: true,
  transformedUrlLength: 23,
  ranges: [
    // Latin, Greek, Cyrillic, Hebrew, Arabic, Indic scripts... up to U+10FF.
    { start: 0, end: 4351, weight: 100 },
    // Spaces and punctuation of the General Punctuation block.
    { start: 8192, end: 8205, weight: 100 },
    { start: 8208, end: 8223, weight: 100 },
    { start: 8242, end: 8247, weight: 100 },
  ],
};

export interface TwitterUrlEntity {
  url: string;
  /** UTF-16 offsets into the NFC-normalized text, end exclusive. */
  start: number;
  end: number;
}

export interface ParsedTwitterText {
  /** Length as X counts it, in weighted characters. */
  weightedLength: number;
  maxWeightedLength: number;
  /** Non-empty, within the limit and free of the code points X refuses. */
  valid: boolean;
  hasInvalidCharacters: boolean;
  urls: TwitterUrlEntity[];
}

// U+FFFE, U+FEFF and U+FFFF make X refuse the post outright (twitter-text `invalidChars`).
const INVALID_CHARACTERS = /[\uFFFE\uFEFF\uFFFF]/;
const ASCII_ONLY = /^[\x00-\x7F]*$/;

// Built through the constructor: the `v` flag (Unicode sets, needed for `\p{RGI_Emoji}`, which
// matches whole ZWJ, flag, keycap and skin-tone sequences) is newer than the compile target.
// Built on first use: parsing it expands thousands of sequences, which plain-ASCII posts never need.
let emojiPattern: RegExp | undefined;
const getEmojiPattern = (): RegExp => (emojiPattern ??= new RegExp('\\p{RGI_Emoji}', 'gv'));

/**
 * Parses a post's text the way X does before accepting it: NFC normalization, URL detection
 * (URLs count 23 each) and emoji sequences (2 each), then per-code-point weights.
 */
export function parseTwitterText(options: { text: string; config?: TwitterTextConfig }): ParsedTwitterText {
  const config = options.config ?? twitterTextConfigV3;
  // Most posts are plain ASCII: NFC leaves it unchanged, it holds none of the refused code points,
  // and every RGI emoji contains a non-ASCII code point (U+FE0F, U+20E3, ZWJ, a pictograph...),
  // so the normalization and the (large) emoji pattern are only run for other text.
  const ascii = ASCII_ONLY.test(options.text);
  const text = ascii ? options.text : options.text.normalize('NFC');
  const urls = extractTwitterUrls({ text, normalized: true });
  const emojis = ascii || !config.emojiParsingEnabled ? [] : [...text.matchAll(getEmojiPattern())];
  const asciiWeights = asciiWeightsOf(config);

  // URLs and emoji come in text order, so one cursor into each replaces per-position lookups.
  let weighted = 0;
  let index = 0;
  let nextUrl = 0;
  let nextEmoji = 0;
  while (index < text.length) {
    const url = urls[nextUrl];
    if (url !== undefined && url.start === index) {
      weighted += config.transformedUrlLength * config.scale;
      index = url.end;
      nextUrl += 1;
      continue;
    }
    let emoji = emojis[nextEmoji];
    while (emoji !== undefined && emoji.index < index) emoji = emojis[(nextEmoji += 1)];
    if (emoji !== undefined && emoji.index === index) {
      weighted += config.defaultWeight;
      index += emoji[0].length;
      nextEmoji += 1;
      continue;
    }
    const codePoint = text.codePointAt(index) ?? 0;
    weighted += codePoint < 128 ? asciiWeights[codePoint]! : weightOf({ codePoint, config });
    index += codePoint > 0xffff ? 2 : 1;
  }

  const weightedLength = weighted / config.scale;
  const hasInvalidCharacters = !ascii && INVALID_CHARACTERS.test(text);
  return {
    weightedLength,
    maxWeightedLength: config.maxWeightedLength,
    valid: !hasInvalidCharacters && weightedLength > 0 && weightedLength <= config.maxWeightedLength,
    hasInvalidCharacters,
    urls,
  };
}

/** Weighted length of `text` under twitter-text v3 (X's 280-character count). */
export function twitterWeightedLength(text: string): number {
  return parseTwitterText({ text }).weightedLength;
}

const asciiWeightTables = new WeakMap<TwitterTextConfig, readonly number[]>();

/** The weights of the 128 ASCII code points under `config`, computed once per config. */
function asciiWeightsOf(config: TwitterTextConfig): readonly number[] {
  let table = asciiWeightTables.get(config);
  if (table === undefined) {
    table = Array.from({ length: 128 }, (_, codePoint) => weightOf({ codePoint, config }));
    asciiWeightTables.set(config, table);
  }
  return table;
}

function weightOf(options: { codePoint: number; config: TwitterTextConfig }): number {
  for (const range of options.config.ranges) {
    if (options.codePoint >= range.start && options.codePoint <= range.end) return range.weight;
  }
  return options.config.defaultWeight;
}

// ---- URL detection ------------------------------------------------------------------------------
// A port of twitter-text's `extractUrlsWithIndices` rules that matter for counting: which spans
// X turns into t.co links. Written as a scanner rather than twitter-text's single regex so the
// cost stays linear on hostile input (labels are capped at 63 characters, hosts at 253).

const LATIN_ACCENTS =
  '\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff';
const CYRILLIC = '\u0400-\u04ff';

// A URL cannot follow a letter, digit, `@`, `$`, `#` (mentions, cashtags, hashtags) or a code
// point X refuses; directional marks before it are fine.
const INVALID_PRECEDING = /[A-Za-z0-9@＠$#＃\uFFFE\uFEFF\uFFFF]/;
// Without a protocol, `.com` in `foo-bar.com` or `path/x.com` is not a link.
const INVALID_PRECEDING_WITHOUT_PROTOCOL = /[-_./]/;
// Domain characters: anything but ASCII punctuation, spaces, controls and format characters.
const DOMAIN_CHAR = /[^\s\p{Cc}\p{Cf}\p{Z}!"#$%&'()*+,./:;<=>?@[\\\]^_`{|}~-]/u;
const ASCII_DOMAIN_CHAR = new RegExp(`[a-z0-9${LATIN_ACCENTS}]`, 'i');
const PROTOCOL = /^https?:\/\//i;
const PATH_CHAR = new RegExp(`[a-z0-9${CYRILLIC}${LATIN_ACCENTS}!*';:=+,.$/%#\\[\\]\\-\u2013_~|&@]`, 'i');
const PATH_ENDING_CHAR = new RegExp(`[a-z0-9${CYRILLIC}${LATIN_ACCENTS}=_#/+\\-]`, 'i');
const QUERY_CHAR = /[a-z0-9!?*'@();:&=+$/%#[\]\-_.,~|]/i;
const QUERY_ENDING_CHAR = /[a-z0-9_&=#/-]/i;
const TLD_FOLLOWER = /[0-9a-z@+-]/i;
// ccTLDs X links without a path even when bare (`t.co`, `twitch.tv`).
const SPECIAL_COUNTRY_CODES = new Set(['co', 'tv']);
const MAX_LABEL_LENGTH = 63;
const MAX_HOST_LENGTH = 253;

/** Spans of `text` X would link and count as 23 characters each. */
export function extractTwitterUrls(options: { text: string; normalized?: boolean }): TwitterUrlEntity[] {
  const text = options.normalized ? options.text : options.text.normalize('NFC');
  const urls: TwitterUrlEntity[] = [];
  // Every host this scanner accepts has at least two dot-separated labels (see matchHost).
  if (!text.includes('.')) return urls;
  let index = 0;
  while (index < text.length) {
    const previous = index > 0 ? text[index - 1]! : '';
    if (previous !== '' && INVALID_PRECEDING.test(previous)) {
      index += 1;
      continue;
    }
    const url = matchUrlAt({ text, start: index, previous });
    if (url) {
      urls.push(url);
      index = url.end;
    } else {
      index += 1;
    }
  }
  return urls;
}

function matchUrlAt(options: { text: string; start: number; previous: string }): TwitterUrlEntity | undefined {
  const { text, start } = options;
  const protocol = text[start] === 'h' || text[start] === 'H' ? PROTOCOL.exec(text.slice(start, start + 8))?.[0] : undefined;
  if (!protocol) {
    if (options.previous !== '' && INVALID_PRECEDING_WITHOUT_PROTOCOL.test(options.previous)) return undefined;
    // Only at the start of a run of domain characters: retrying from inside a run that already
    // failed would make the scan quadratic and can only find a suffix of the same word.
    if (options.previous !== '' && ASCII_DOMAIN_CHAR.test(options.previous)) return undefined;
    if (!ASCII_DOMAIN_CHAR.test(text[start] ?? '')) return undefined;
  }
  const hostStart = start + (protocol?.length ?? 0);
  const host = matchHost({ text, start: hostStart, withProtocol: protocol !== undefined });
  if (!host) return undefined;

  let end = host.end;
  const port = /^:\d+/.exec(text.slice(end, end + 7));
  if (port) end += port[0].length;

  let hasPath = false;
  if (text[end] === '/') {
    hasPath = true;
    end = matchPath({ text, start: end });
  }
  if (text[end] === '?') end = matchQuery({ text, start: end });

  if (!protocol && !hasPath && host.labelCount === 2 && countryCodeTopLevelDomains().has(host.tld) && !SPECIAL_COUNTRY_CODES.has(host.tld)) {
    // `example.de` on its own reads as text; `example.de/page` or `www.example.de` is a link.
    return undefined;
  }
  return { url: text.slice(start, end), start, end };
}

interface HostMatch {
  end: number;
  tld: string;
  labelCount: number;
}

function matchHost(options: { text: string; start: number; withProtocol: boolean }): HostMatch | undefined {
  const { text, withProtocol } = options;
  const isDomainChar = (char: string): boolean =>
    withProtocol ? DOMAIN_CHAR.test(char) : ASCII_DOMAIN_CHAR.test(char);

  // Collect dot-separated labels made of domain characters, `-` and `_`.
  const labels: { start: number; end: number }[] = [];
  let position = options.start;
  while (position < text.length && position - options.start <= MAX_HOST_LENGTH) {
    const labelStart = position;
    while (position < text.length && position - labelStart <= MAX_LABEL_LENGTH) {
      const char = text[position]!;
      if (char === '-' || char === '_' || isDomainChar(char)) position += 1;
      else if (isHighSurrogateOfDomainChar({ text, position, withProtocol })) position += 2;
      else break;
    }
    if (position === labelStart) break;
    labels.push({ start: labelStart, end: position });
    if (text[position] === '.' && isDomainChar(text[position + 1] ?? '')) position += 1;
    else break;
  }

  // Like twitter-text's backtracking regex: the longest run of labels that forms a valid host.
  for (let count = labels.length; count >= 2; count -= 1) {
    const match = validateHost({ text, labels: labels.slice(0, count), withProtocol });
    if (match) return match;
  }
  return undefined;
}

function isHighSurrogateOfDomainChar(options: { text: string; position: number; withProtocol: boolean }): boolean {
  if (!options.withProtocol) return false;
  const codePoint = options.text.codePointAt(options.position) ?? 0;
  return codePoint > 0xffff && DOMAIN_CHAR.test(String.fromCodePoint(codePoint));
}

function validateHost(options: {
  text: string;
  labels: { start: number; end: number }[];
  withProtocol: boolean;
}): HostMatch | undefined {
  const { text, labels, withProtocol } = options;
  const last = labels[labels.length - 1]!;
  const tld = matchTld({ label: text.slice(last.start, last.end), withProtocol });
  if (!tld) return undefined;
  const end = last.start + tld.length;
  if (TLD_FOLLOWER.test(text[end] ?? '')) return undefined;

  const nameLabels = labels.slice(0, -1).map((label) => text.slice(label.start, label.end));
  for (const [index, label] of nameLabels.entries()) {
    if (label.startsWith('-') || label.endsWith('-') || label.startsWith('_') || label.endsWith('_')) return undefined;
    // Underscores are tolerated in subdomains, never in the registered name before the TLD.
    if (index === nameLabels.length - 1 && label.includes('_')) return undefined;
  }

  const host = text.slice(labels[0]!.start, end);
  const ascii = domainToASCII(host.replaceAll('_', 'x'));
  if (ascii === '' || ascii.length > MAX_HOST_LENGTH) return undefined;
  if (ascii.split('.').some((label) => label.length === 0 || label.length > MAX_LABEL_LENGTH)) return undefined;
  return { end, tld: tld.toLowerCase(), labelCount: labels.length };
}

/** The TLD at the start of the last label, as twitter-text's `validTLD` alternatives match it. */
function matchTld(options: { label: string; withProtocol: boolean }): string | undefined {
  const label = options.label;
  const lower = label.toLowerCase();
  const punycode = /^xn--[0-9a-z-]+/.exec(lower);
  if (punycode) return label.slice(0, punycode[0].length);
  // Longest listed TLD that prefixes the label: `com` in `com日本語` (CJK text right after a URL).
  for (let length = Math.min(label.length, 24); length >= 2; length -= 1) {
    const candidate = lower.slice(0, length);
    if (isTopLevelDomain(candidate)) return label.slice(0, length);
  }
  if (options.withProtocol) {
    // With an explicit scheme X links any alphabetic TLD; the list above predates most new gTLDs.
    const alphabetic = /^[a-z]{2,63}/.exec(lower);
    if (alphabetic) return label.slice(0, alphabetic[0].length);
  }
  return undefined;
}

function matchPath(options: { text: string; start: number }): number {
  const { text } = options;
  let position = options.start + 1;
  let depth = 0;
  let firstUnclosed = -1;
  while (position < text.length) {
    const char = text[position]!;
    if (char === '(') {
      if (depth === 2) break;
      if (depth === 0) firstUnclosed = position;
      depth += 1;
    } else if (char === ')') {
      if (depth === 0) break;
      depth -= 1;
    } else if (!PATH_CHAR.test(char)) {
      break;
    }
    position += 1;
  }
  if (depth > 0) position = firstUnclosed;
  // Trailing punctuation ends the sentence, not the URL: `see example.com/a.` links `/a`.
  while (position > options.start + 1) {
    const last = text[position - 1]!;
    if (PATH_ENDING_CHAR.test(last) || last === ')') break;
    position -= 1;
  }
  return position;
}

function matchQuery(options: { text: string; start: number }): number {
  const { text } = options;
  let position = options.start + 1;
  while (position < text.length && QUERY_CHAR.test(text[position]!)) position += 1;
  while (position > options.start + 1 && !QUERY_ENDING_CHAR.test(text[position - 1]!)) position -= 1;
  return position === options.start + 1 ? options.start : position;
}
