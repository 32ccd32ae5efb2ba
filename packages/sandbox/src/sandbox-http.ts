import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SandboxRequest {
  method: string;
  url: URL;
  /** Path below the platform prefix, e.g. `/2/tweets` for `/twitter/2/tweets`. */
  path: string;
  headers: IncomingMessage['headers'];
  raw: IncomingMessage;
}

export interface ReceivedBody {
  bytes: Buffer;
  size: number;
  sha256: string;
}

/** Reads a request body with a cap; large uploads are hashed and counted, not kept whole. */
export async function readBody(options: { request: IncomingMessage; maxBytes: number; keepBytes?: number }): Promise<ReceivedBody> {
  const keepBytes = options.keepBytes ?? 2 * 1024 * 1024;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let size = 0;
  let keptSize = 0;
  for await (const chunk of options.request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > options.maxBytes) throw new SandboxHttpError({ status: 413, body: { error: 'PayloadTooLarge', message: 'Request body too large' } });
    hash.update(chunk);
    if (keptSize < keepBytes) {
      kept.push(chunk);
      keptSize += chunk.length;
    }
  }
  return { bytes: Buffer.concat(kept), size, sha256: hash.digest('hex') };
}

export async function readJson(options: { request: IncomingMessage; maxBytes?: number }): Promise<unknown> {
  const body = await readBody({ request: options.request, maxBytes: options.maxBytes ?? 1024 * 1024 });
  if (body.size === 0) return undefined;
  try {
    return JSON.parse(body.bytes.toString('utf8'));
  } catch {
    throw new SandboxHttpError({ status: 400, body: { error: 'InvalidRequest', message: 'Body is not JSON' } });
  }
}

export async function readForm(options: { request: IncomingMessage }): Promise<URLSearchParams> {
  const body = await readBody({ request: options.request, maxBytes: 64 * 1024 });
  return new URLSearchParams(body.bytes.toString('utf8'));
}

/** An error the emulated platform answers with, in that platform's own error shape. */
export class SandboxHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
  constructor(options: { status: number; body: unknown; headers?: Record<string, string> }) {
    super(`sandbox ${options.status}`);
    this.status = options.status;
    this.body = options.body;
    this.headers = options.headers ?? {};
  }
}

export function sendJson(options: { response: ServerResponse; status: number; body: unknown; headers?: Record<string, string> }): void {
  const payload = JSON.stringify(options.body);
  options.response.writeHead(options.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...options.headers,
  });
  options.response.end(payload);
}

export function sendHtml(options: { response: ServerResponse; status?: number; html: string }): void {
  options.response.writeHead(options.status ?? 200, { 'content-type': 'text/html; charset=utf-8' });
  options.response.end(options.html);
}

export function redirect(options: { response: ServerResponse; location: string }): void {
  options.response.writeHead(302, { location: options.location });
  options.response.end();
}

export function randomToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function bearerToken(request: SandboxRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header || !/^Bearer\s+/i.test(header)) return undefined;
  return header.replace(/^Bearer\s+/i, '').trim();
}

export function basicCredentials(request: SandboxRequest): { username: string; password: string } | undefined {
  const header = request.headers.authorization;
  if (!header || !/^Basic\s+/i.test(header)) return undefined;
  const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) return undefined;
  // RFC 6749 2.3.1: client id and secret are form-encoded before Base64.
  return {
    username: decodeURIComponent(decoded.slice(0, separator).replace(/\+/g, ' ')),
    password: decodeURIComponent(decoded.slice(separator + 1).replace(/\+/g, ' ')),
  };
}
