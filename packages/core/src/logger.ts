export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logger; fields are redacted before they reach it. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { log: () => {} };
