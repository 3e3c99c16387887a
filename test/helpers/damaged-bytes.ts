/** Fuzzing inputs: real bytes with random damage (fast-check arbitraries), and a check that a parser fails only in its own way. */
import fc from 'fast-check';

/** Runs `parse` and accepts a result or an error of the expected class only. */
export function onlyFails<E extends Error>(errorClass: new (...args: never[]) => E, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof errorClass)) throw error;
  }
}

// 32-bit words that make a box size lie in telling ways: "to the end", "64-bit size follows", smaller than a header, huge.
const LYING_SIZES = [0, 1, 7, 8, 9, 16, 0x7fffffff, 0xffffffff];

/**
 * `original` with random damage: flipped bytes, a cut, a spliced run of random bytes, and with
 * `sizeLies` a few 32-bit words overwritten with box sizes that lie.
 */
export function damaged(original: Uint8Array, options: { sizeLies?: boolean } = {}) {
  return fc
    .record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
      sizeLies: options.sizeLies ? fc.array(fc.tuple(fc.nat(), fc.constantFrom(...LYING_SIZES)), { maxLength: 3 }) : fc.constant([]),
      cut: fc.option(fc.nat(), { nil: undefined }),
      splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 })), { nil: undefined }),
    })
    .map(({ flips, sizeLies, cut, splice }) => {
      // A copy: Buffer.prototype.slice would be a view, and the damage would stay.
      let bytes = new Uint8Array(original);
      for (const [position, value] of flips) bytes[position % bytes.length] = value;
      for (const [position, size] of sizeLies) new DataView(bytes.buffer, bytes.byteOffset).setUint32(position % Math.max(1, bytes.length - 4), size);
      if (splice) {
        const at = splice[0] % bytes.length;
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...splice[1], ...bytes.subarray(at)]);
      }
      if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      return bytes;
    });
}
