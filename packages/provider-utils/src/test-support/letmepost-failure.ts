import { LetmepostError } from '@letmepost/core';
import { expect } from 'vitest';

/** Awaits a promise that must reject with a LetmepostError, and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<LetmepostError> {
  try {
    await promise;
  } catch (error) {
    expect(LetmepostError.isInstance(error)).toBe(true);
    return error as LetmepostError;
  }
  throw new Error('expected a failure');
}
