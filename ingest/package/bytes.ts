/** Byte helpers the packaging code shares. */

/** One buffer holding `pieces` one after the other. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  // Every byte is written below: not zero-filled first (a segment is ~0.6 MB at 2.5 Mbit/s), and
  // not from Buffer's shared pool, so `out.buffer` is its own; a plain Uint8Array (a Buffer's
  // slice() would be a view where callers expect a copy).
  const out = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
