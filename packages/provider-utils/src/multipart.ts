import { nodeCrypto } from '@letmepost/core/internal';

/** One field of a `multipart/form-data` body. */
export type MultipartPart =
  | {
      name: string;
      /** A text field; line breaks go out as CRLF, as browsers send them. */
      value: string;
    }
  | {
      name: string;
      /** A file field. Sent by reference: the bytes are never copied. */
      data: Uint8Array;
      /** Default `blob`, like a `Blob` appended to a `FormData` without a name. */
      fileName?: string;
      /** Default `application/octet-stream`. */
      contentType?: string;
    };

export interface EncodeMultipartOptions {
  parts: readonly MultipartPart[];
  /** Generated (random, 48 characters) unless given; tests pin it. */
  boundary?: string;
}

/** A `multipart/form-data` body laid out in advance: exact length, payloads by reference. */
export interface EncodedMultipart {
  /** `multipart/form-data; boundary=...` */
  contentType: string;
  /** Exact byte length of the body, for Content-Length. */
  contentLength: number;
  /**
   * The body in order: encoded part headers and separators, and each file part's own
   * `Uint8Array` (the same object, not a copy). Sending it again sends the same bytes, so a
   * request carrying it can be retried as long as the file parts' bytes are left unchanged.
   */
  chunks: readonly Uint8Array[];
}

const encoder = new TextEncoder();
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,./:=?-]{1,70}$/;

/**
 * Lays out a `multipart/form-data` body (RFC 7578) the way undici's and browsers' `FormData`
 * encoders do, without copying file bytes: a `FormData` holding a `Blob` copies the payload into
 * the Blob and again into the encoded stream, which for a 4 MiB upload segment is 8 MiB of
 * garbage per request. Here only the few hundred bytes of part headers are allocated.
 */
export function encodeMultipart(options: EncodeMultipartOptions): EncodedMultipart {
  const boundary = options.boundary ?? `letmepost-${nodeCrypto().randomBytes(19).toString('hex')}`;
  if (!BOUNDARY_PATTERN.test(boundary)) {
    throw new RangeError('A multipart boundary is 1 to 70 characters from RFC 2046 bcharsnospace.');
  }
  const chunks: Uint8Array[] = [];
  let contentLength = 0;
  let text = '';
  const flushText = () => {
    if (text === '') return;
    const bytes = encoder.encode(text);
    chunks.push(bytes);
    contentLength += bytes.byteLength;
    text = '';
  };
  for (const part of options.parts) {
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${escapeQuoted(normalizeLineBreaks(part.name))}"`;
    if ('data' in part) {
      const fileName = part.fileName ?? 'blob';
      const contentType = part.contentType ?? 'application/octet-stream';
      // A line break here would let a caller's value inject headers into the part.
      if (/[\r\n]/.test(contentType)) throw new RangeError('A multipart part content type cannot contain line breaks.');
      text += `; filename="${escapeQuoted(fileName)}"\r\nContent-Type: ${contentType}\r\n\r\n`;
      flushText();
      if (part.data.byteLength > 0) {
        chunks.push(part.data);
        contentLength += part.data.byteLength;
      }
      text += '\r\n';
    } else {
      text += `\r\n\r\n${normalizeLineBreaks(part.value)}\r\n`;
    }
  }
  text += `--${boundary}--\r\n`;
  flushText();
  return { contentType: `multipart/form-data; boundary=${boundary}`, contentLength, chunks };
}

/** Field and file names, escaped as the HTML multipart encoding algorithm (and undici) do. */
function escapeQuoted(name: string): string {
  return name.replace(/\n/g, '%0A').replace(/\r/g, '%0D').replace(/"/g, '%22');
}

function normalizeLineBreaks(value: string): string {
  return value.replace(/\r?\n|\r/g, '\r\n');
}
