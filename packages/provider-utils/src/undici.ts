type Undici = typeof import('undici');

let undici: Undici | undefined;

/**
 * undici, loaded the first time a request is about to be made rather than when the package is
 * imported: it is the largest part of a cold import (about half of it), and a host that only
 * renders a connect page or reads the store never needs it. undici is CommonJS, so a synchronous
 * `require` keeps every caller synchronous; the result is cached by Node's module cache and here.
 */
export function loadUndici(): Undici {
  undici ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('undici') as Undici;
  return undici;
}
