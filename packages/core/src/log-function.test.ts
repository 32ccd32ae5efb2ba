import { describe, expect, test } from 'vitest';
import { createLogFunction } from './letmepost-context.js';
import { silentLogger, type Logger } from './logger.js';

/** Fields whose one field counts how often it is read. */
function countingFields(): { fields: Record<string, unknown>; reads: () => number } {
  let reads = 0;
  const fields = {};
  Object.defineProperty(fields, 'accessToken', {
    enumerable: true,
    get: () => {
      reads += 1;
      return 'secret-access-token-value';
    },
  });
  return { fields, reads: () => reads };
}

describe('createLogFunction', () => {
  test('a logger receives the fields redacted', () => {
    const entries: unknown[] = [];
    const logger: Logger = { log: (level, message, fields) => entries.push({ level, message, fields }) };
    const { fields } = countingFields();
    createLogFunction({ logger })('info', 'letmepost.test', fields);
    expect(entries).toEqual([{ level: 'info', message: 'letmepost.test', fields: { accessToken: '[redacted]' } }]);
  });

  test('the silent logger costs nothing: the fields are not even read', () => {
    const { fields, reads } = countingFields();
    createLogFunction({ logger: silentLogger })('info', 'letmepost.test', fields);
    expect(reads()).toBe(0);
  });
});
