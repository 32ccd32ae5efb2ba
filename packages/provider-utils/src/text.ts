// Core counts text for its capability preflight; providers count with the same functions.
export { countGraphemes, countCodePoints, measureText, utf8ByteLength } from '@letmepost/core/internal';
