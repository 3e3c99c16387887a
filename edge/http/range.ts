/** HTTP Range requests (RFC 9110, 14): one byte range of a stored object. Pure. */

export type RangeDecision =
  /** No usable Range header: serve the whole object (a server may ignore what it does not support). */
  | { kind: 'whole' }
  | { kind: 'partial'; offset: number; length: number }
  /** Syntactically fine but outside the object: 416. */
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: 'whole' };
  // Several ranges (multipart/byteranges) are not served: players ask for one at a time.
  const match = SINGLE_RANGE.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    const length = Math.min(suffix, size);
    return { kind: 'partial', offset: size - length, length };
  }
  const offset = Number(first);
  if (!Number.isSafeInteger(offset) || offset >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < offset) return { kind: 'whole' };
  return { kind: 'partial', offset, length: end - offset + 1 };
}

export function contentRange(offset: number, length: number, size: number): string {
  return `bytes ${offset}-${offset + length - 1}/${size}`;
}
