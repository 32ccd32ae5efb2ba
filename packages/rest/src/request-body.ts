import { Buffer } from 'node:buffer';
import { LetmepostError } from '@letmepost/core';
import { HttpProblem } from './http-problem.js';

/**
 * Deepest nesting of objects and arrays a request body may have. The REST bodies nest about six
 * levels (post → thread → item → media); provider options and credentials get the rest. Deeper
 * input would only exhaust the stack of whatever walks it (case conversion, zod, redaction).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * Reads the body as it streams and stops at `maxBodyBytes`: the first byte past the cap cancels
 * the stream and answers 413, so a body that never ends costs at most the cap, not memory until
 * the client gives up.
 */
export async function readBodyWithinCap({ request, maxBodyBytes }: { request: Request; maxBodyBytes: number }): Promise<Uint8Array> {
  const tooLarge = () => new HttpProblem(413, 'payload_too_large', `Body exceeds ${maxBodyBytes} bytes`);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBodyBytes) {
    // Not read at all; cancelling tells the runtime the rest is not wanted.
    request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBodyBytes) {
      // Not awaited: a source that never ends may never settle its cancel.
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, received);
}

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`, found by one pass over the
 * characters (strings skipped) before anything recursive sees it. Malformed text is left to
 * `JSON.parse` to reject.
 */
export function jsonNestsDeeperThan({ text, maxDepth }: { text: string; maxDepth: number }): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text.charCodeAt(index);
    if (inString) {
      if (character === 0x5c /* \ */) index += 1;
      else if (character === 0x22 /* " */) inString = false;
      continue;
    }
    if (character === 0x22) inString = true;
    else if (character === 0x7b /* { */ || character === 0x5b /* [ */) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (character === 0x7d /* } */ || character === 0x5d /* ] */) depth -= 1;
  }
  return false;
}

/** Parses a JSON body no deeper than `MAX_JSON_DEPTH`; anything else is `validation_failed`. */
export function parseJsonBody({ bytes }: { bytes: Uint8Array }): unknown {
  const text = new TextDecoder().decode(bytes);
  if (jsonNestsDeeperThan({ text, maxDepth: MAX_JSON_DEPTH })) {
    throw new LetmepostError({
      code: 'validation_failed',
      field: 'body',
      rule: 'body.max_depth',
      message: `The body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LetmepostError({ code: 'validation_failed', message: 'The body is not valid JSON', field: 'body' });
  }
}

/**
 * Percent-decodes one path segment. A malformed escape (`%E0%A4%A`, `%zz`) or one that decodes
 * to no valid UTF-8 (a lone surrogate, `%ED%A0%80`) is the client's mistake: 400, never a 500.
 */
export function decodePathSegment({ segment }: { segment: string }): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem(400, 'validation_failed', 'The path has a malformed percent-escape (it must encode UTF-8 text)');
  }
}
