/** Reading ISO BMFF (MP4) boxes out of bytes: headers, children, and the few full boxes CMAF needs. */

export interface BoxHeader {
  type: string;
  /** Offset of the box's first byte in the buffer. */
  start: number;
  /** Offset of the box's payload (after size, type and any largesize). */
  payload: number;
  /** Offset one past the box's last byte. */
  end: number;
}

export class Mp4FormatError extends Error {
  override name = 'Mp4FormatError';
}

export function fourcc(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads the box header at `start`; null when fewer bytes than the header are available.
 * `end` may exceed `bytes.length` when the box is not complete yet.
 */
export function readBoxHeader(bytes: Uint8Array, start: number): BoxHeader | null {
  if (bytes.length - start < 8) return null;
  const data = view(bytes);
  const size32 = data.getUint32(start);
  const type = fourcc(bytes, start + 4);
  if (size32 === 1) {
    if (bytes.length - start < 16) return null;
    const size = Number(data.getBigUint64(start + 8));
    if (size < 16) throw new Mp4FormatError(`box ${type} has an impossible size ${size}`);
    return { type, start, payload: start + 16, end: start + size };
  }
  // Size 0 ("to the end of the file") cannot be delimited in a live stream.
  if (size32 < 8) throw new Mp4FormatError(`box ${type} has an unsupported size ${size32}`);
  return { type, start, payload: start + 8, end: start + size32 };
}

/** The complete child boxes between `start` and `end`. */
export function childBoxes(bytes: Uint8Array, start: number, end: number): BoxHeader[] {
  const boxes: BoxHeader[] = [];
  let offset = start;
  while (offset < end) {
    const header = readBoxHeader(bytes, offset);
    if (!header || header.end > end) throw new Mp4FormatError(`truncated box at offset ${offset}`);
    boxes.push(header);
    offset = header.end;
  }
  return boxes;
}

/** The first box found by following `path` (box types) down from the children of [start, end). */
export function findBox(bytes: Uint8Array, path: readonly string[], start = 0, end = bytes.length): BoxHeader | undefined {
  let scope = { start, end };
  let found: BoxHeader | undefined;
  for (const type of path) {
    found = childBoxes(bytes, scope.start, scope.end).find((box) => box.type === type);
    if (!found) return undefined;
    scope = { start: found.payload, end: found.end };
  }
  return found;
}

export function findBoxes(bytes: Uint8Array, type: string, start: number, end: number): BoxHeader[] {
  return childBoxes(bytes, start, end).filter((box) => box.type === type);
}

/** Version and flags of a full box. */
export function fullBoxHeader(bytes: Uint8Array, box: BoxHeader): { version: number; flags: number } {
  if (box.payload + 4 > box.end) throw new Mp4FormatError(`${box.type} box too short for its version and flags`);
  const word = view(bytes).getUint32(box.payload);
  return { version: word >>> 24, flags: word & 0xffffff };
}
