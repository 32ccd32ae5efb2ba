import { RETRYABLE_BY_DEFAULT, errorDocUrl, type ErrorCode } from './error-code.js';
import type { PlatformId } from './platform-id.js';
import { redact, redactString } from './redact.js';

const marker = 'letmepost.error';
const symbol = Symbol.for(marker);

export interface LetmepostErrorOptions {
  code: ErrorCode;
  message: string;
  platform?: PlatformId;
  /** HTTP status the platform (or the REST layer) answered with. */
  status?: number;
  /** Defaults from the code (rate limits and outages are retryable). */
  retryable?: boolean;
  retryAfterMs?: number;
  /** Stable preflight rule id, e.g. `bluesky.text.max_graphemes`. */
  rule?: string;
  /** Path of the offending field for validation errors, e.g. `targets.1.credentials.page_id`. */
  field?: string;
  /** What the caller can do about it, in one sentence. */
  remediation?: string;
  /** The platform's answer; redacted on construction so secrets cannot be kept by accident. */
  platformResponse?: unknown;
  /** Further validation issues when several fields are wrong at once. */
  issues?: readonly LetmepostErrorIssue[];
  /** Values known to be secret in this context; masked in the message and response. */
  knownSecrets?: readonly string[];
  cause?: unknown;
}

export interface LetmepostErrorIssue {
  field?: string;
  rule?: string;
  message: string;
}

/**
 * The single error class of letmepost. Branch on `code`; `isInstance` works across duplicated
 * copies of this package (a host may end up with two versions in node_modules), unlike
 * `instanceof`.
 */
export class LetmepostError extends Error {
  private readonly [symbol] = true;

  readonly code: ErrorCode;
  readonly platform: PlatformId | undefined;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly rule: string | undefined;
  readonly field: string | undefined;
  readonly remediation: string | undefined;
  readonly platformResponse: unknown;
  readonly issues: readonly LetmepostErrorIssue[];
  readonly docUrl: string;

  constructor(options: LetmepostErrorOptions) {
    const knownSecrets = options.knownSecrets ?? [];
    super(redactString(options.message, knownSecrets), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LetmepostError';
    this.code = options.code;
    this.platform = options.platform;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(options.code);
    this.retryAfterMs = options.retryAfterMs;
    this.rule = options.rule;
    this.field = options.field;
    this.remediation = options.remediation;
    this.platformResponse =
      options.platformResponse === undefined ? undefined : redact(options.platformResponse, { knownSecrets });
    this.issues = (options.issues ?? []).map((issue) => ({ ...issue, message: redactString(issue.message, knownSecrets) }));
    this.docUrl = errorDocUrl(options.code);
    // The cause may be a low-level error carrying request options (headers with tokens); keep it
    // reachable for debugging but out of enumerable properties so serializers skip it.
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', { value: options.cause, enumerable: false, writable: false });
    }
  }

  static isInstance(error: unknown): error is LetmepostError {
    return LetmepostError.hasMarker(error, marker);
  }

  protected static hasMarker(error: unknown, markerName: string): boolean {
    const markerSymbol = Symbol.for(markerName);
    return (
      error != null &&
      typeof error === 'object' &&
      markerSymbol in error &&
      (error as Record<symbol, unknown>)[markerSymbol] === true
    );
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      platform: this.platform,
      status: this.status,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      rule: this.rule,
      field: this.field,
      remediation: this.remediation,
      platformResponse: this.platformResponse,
      issues: this.issues.length > 0 ? this.issues : undefined,
      docUrl: this.docUrl,
    };
  }

  // `util.inspect.custom` by its registered name, and `inspect` as Node passes it: importing
  // `node:util` would cost every cold start for the rare error that gets printed.
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, _options: unknown, inspect: (value: unknown, options: { depth: number }) => string): string {
    return `${this.name} [${this.code}]: ${this.message} ${inspect(this.toJSON(), { depth: 4 })}`;
  }
}
