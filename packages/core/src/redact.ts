/**
 * Redaction for anything that may leave the library (errors, logs, REST responses). Platform
 * responses are kept for debugging, but any field whose name suggests a secret is masked, and
 * strings that look like bearer credentials are masked wherever they appear.
 */
const SECRET_KEY_PATTERN =
  /(token|secret|password|passwd|authorization|api[_-]?key|cookie|session|jwt|signature|verifier|private|credential|refresh|^(auth(orization)?[_-]?)?code$)/i;

const INLINE_SECRET_PATTERNS: readonly RegExp[] = [
  // A credential after the scheme looks like a token (8+ token characters), so prose such as
  // "the OAuth state must be..." is left alone.
  /\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{8,}=*/gi,
  /\bOAuth\s+(?:realm="[^"]*",\s*)?oauth_[a-z_]+="[^"]*"(?:,\s*[a-z_]+="[^"]*")*/gi,
  /\b(access_token|refresh_token|client_secret|code_verifier|code|password|app_password|api_token|bot_token)=([^&\s"']+)/gi,
  /\bbot\d{5,}:[A-Za-z0-9_-]{20,}/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
];

export const REDACTED = '[redacted]';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_PATTERN.test(key);
}

export function redactString(value: string, knownSecrets: readonly string[] = []): string {
  let result = value;
  for (const secret of knownSecrets) {
    if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  }
  for (const pattern of INLINE_SECRET_PATTERNS) {
    result = result.replace(pattern, (match, first: string | undefined) =>
      first && match.includes('=') && !/^(Bearer|Basic|OAuth)/i.test(match) ? `${first}=${REDACTED}` : REDACTED,
    );
  }
  return result;
}

/**
 * Numbers and booleans are kept even under secret-looking names: they are error codes, expiry
 * seconds and flags (`code: 190`, `refresh_token_expires_in`), which debugging needs, never
 * credentials.
 */
function isMaskable(item: unknown): boolean {
  return item != null && item !== '' && typeof item !== 'number' && typeof item !== 'boolean';
}

/** Deep copy with secret-looking fields masked; cycles and depth are bounded. */
export function redact(value: unknown, options: { knownSecrets?: readonly string[]; depth?: number } = {}): unknown {
  const knownSecrets = options.knownSecrets ?? [];
  const depth = options.depth ?? 8;
  const seen = new WeakSet<object>();
  const visit = (current: unknown, level: number): unknown => {
    if (typeof current === 'string') return redactString(current, knownSecrets);
    if (current === null || typeof current !== 'object') return current;
    if (level > depth) return '[truncated]';
    if (seen.has(current)) return '[circular]';
    seen.add(current);
    if (Array.isArray(current)) return current.map((item) => visit(item, level + 1));
    if (current instanceof Uint8Array) return `[${current.byteLength} bytes]`;
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(current)) {
      output[key] = isSecretKey(key) && isMaskable(item) ? REDACTED : visit(item, level + 1);
    }
    return output;
  };
  return visit(value, 0);
}

/**
 * Redacts, then shortens: the one way a message or excerpt quoting a platform is cut. Cutting
 * first could keep the start of a secret that sat across the cut, and whole-secret masking no
 * longer recognises a fragment. The cut never splits a `[redacted]` marker or a surrogate pair.
 * With `countRest`, the cut says how much was left out (`… [N more characters]`).
 */
export function redactThenShorten(options: {
  text: string;
  maxLength: number;
  knownSecrets?: readonly string[];
  countRest?: boolean;
}): string {
  const redacted = redactString(options.text, options.knownSecrets);
  if (redacted.length <= options.maxLength) return redacted;
  let end = options.maxLength;
  const marker = redacted.lastIndexOf(REDACTED, end);
  if (marker !== -1 && marker < end && marker + REDACTED.length > end) end = marker;
  const last = redacted.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  const rest = redacted.length - end;
  return `${redacted.slice(0, end)}…${options.countRest === true ? ` [${rest} more characters]` : ''}`;
}

/**
 * Masks secrets inside every string of a parsed body, keeping its shape and every key (unlike
 * `redact`, which masks secret-named fields): for an error body a mapper still reads by field
 * and may quote. Nesting past `depth` becomes `[truncated]`, so a hostile body cannot exhaust
 * the stack.
 */
export function redactStrings(options: { value: unknown; knownSecrets?: readonly string[]; depth?: number }): unknown {
  const knownSecrets = options.knownSecrets ?? [];
  const depth = options.depth ?? 32;
  const visit = (current: unknown, level: number): unknown => {
    if (typeof current === 'string') return redactString(current, knownSecrets);
    if (current === null || typeof current !== 'object') return current;
    if (level > depth) return '[truncated]';
    if (Array.isArray(current)) return current.map((item) => visit(item, level + 1));
    const output: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(current)) output[key] = visit(item, level + 1);
    return output;
  };
  return visit(options.value, 0);
}
