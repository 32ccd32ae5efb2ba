import type * as NodeCrypto from 'node:crypto';

let loaded: typeof NodeCrypto | undefined;

/**
 * `node:crypto`, loaded on first use. Importing it costs a few milliseconds of every cold start
 * (an ES module import of it also builds its WebCrypto half), and importing letmepost needs none
 * of it: keys are parsed by `createLetmepost`, tokens sealed on the first write.
 */
export function nodeCrypto(): typeof NodeCrypto {
  loaded ??= process.getBuiltinModule('node:crypto');
  return loaded;
}
