import { LetmepostError } from '../letmepost-error.js';

/** The `LetmepostError` that `run` throws; fails the test when it throws nothing or something else. */
export function letmepostErrorOf(run: () => unknown): LetmepostError {
  try {
    run();
  } catch (error) {
    if (LetmepostError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a LetmepostError');
}
