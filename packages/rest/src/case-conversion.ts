import { isPlainObject } from '@letmepost/core/internal';

/**
 * The REST API speaks snake_case (DESIGN section 8) while the TypeScript API is camelCase. Only
 * plain objects are converted; byte arrays and other class instances pass through untouched.
 */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_match, character: string) => character.toUpperCase());
}

export function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (character) => `_${character.toLowerCase()}`);
}

export function convertKeys(options: { value: unknown; convert: (key: string) => string }): unknown {
  const { value, convert } = options;
  if (Array.isArray(value)) return value.map((item) => convertKeys({ value: item, convert }));
  if (!isPlainObject(value)) return value;
  const output: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) output[convert(key)] = convertKeys({ value: item, convert });
  return output;
}

/** `targets.1.credentials.pageId` → `targets.1.credentials.page_id`, for error fields. */
export function fieldPathToSnake(path: string): string {
  return path
    .split('.')
    .map((segment) => camelToSnake(segment))
    .join('.');
}
