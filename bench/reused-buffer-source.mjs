/**
 * The zero-allocation control source (`BENCH_SOURCE=reused`): `size` bytes handed out as views of
 * one 64 KiB buffer, again and again, so no read leaves garbage behind.
 */
export async function* reusedBufferSource(size) {
  const piece = new Uint8Array(64 * 1024);
  for (let offset = 0; offset < size; offset += piece.byteLength) yield piece.subarray(0, Math.min(piece.byteLength, size - offset));
}
