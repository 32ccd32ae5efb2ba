/** A byte stream cut into pieces of the given sizes, byte i being i % 251, so misplaced ranges show. */
export async function* patternPieces(sizes: number[]): AsyncGenerator<Uint8Array> {
  let next = 0;
  for (const size of sizes) {
    const piece = new Uint8Array(size);
    for (let index = 0; index < size; index += 1) piece[index] = (next++) % 251;
    yield piece;
  }
}
