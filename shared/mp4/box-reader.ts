/**
 * Strict reading of ISO BMFF (MP4) boxes in whole, already-fetched bytes, for the recording
 * muxer: every box must lie inside its parent, sizes are never trusted beyond the bytes there
 * are, and every walk advances by at least one header, so malformed input ends in an
 * `Mp4BoxError` naming the box and offset, never an endless loop. Runtime-neutral (no Node APIs).
 */

export interface Box {
  type: string;
  /** Offset of the box's first byte. */
  start: number;
  /** Offset of the payload (after size, type and any 64-bit size). */
  payload: number;
  /** Offset one past the box's last byte. */
  end: number;
}

export class Mp4BoxError extends Error {
  override name = 'Mp4BoxError';
}

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function boxType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** The box at `at`, which must end at or before `limit`. */
export function readBox(bytes: Uint8Array, at: number, limit: number): Box {
  if (limit > bytes.length) throw new Mp4BoxError(`limit ${limit} beyond the ${bytes.length} bytes there are`);
  if (limit - at < 8) throw new Mp4BoxError(`truncated box header at offset ${at}`);
  const view = dataView(bytes);
  const size32 = view.getUint32(at);
  const type = boxType(bytes, at + 4);
  let size: number;
  let payload = at + 8;
  if (size32 === 1) {
    if (limit - at < 16) throw new Mp4BoxError(`truncated 64-bit box header of ${type} at offset ${at}`);
    const size64 = view.getBigUint64(at + 8);
    if (size64 > BigInt(Number.MAX_SAFE_INTEGER)) throw new Mp4BoxError(`box ${type} at offset ${at} claims ${size64} bytes`);
    size = Number(size64);
    payload = at + 16;
  } else if (size32 === 0) {
    // "To the end of the file": a box whose extent is its container's.
    size = limit - at;
  } else {
    size = size32;
  }
  if (size < payload - at) throw new Mp4BoxError(`box ${type} at offset ${at} has an impossible size ${size}`);
  if (at + size > limit) throw new Mp4BoxError(`box ${type} at offset ${at} (${size} bytes) runs past its container's end ${limit}`);
  return { type, start: at, payload, end: at + size };
}

/** Every box between `start` and `end`, which they must fill exactly. */
export function readBoxes(bytes: Uint8Array, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  for (let at = start; at < end; ) {
    const box = readBox(bytes, at, end);
    boxes.push(box);
    at = box.end;
  }
  return boxes;
}

/** The children of `parent` (a container box). */
export function childrenOf(bytes: Uint8Array, parent: Box): Box[] {
  return readBoxes(bytes, parent.payload, parent.end);
}

/** The one child of type `type`; an error naming what is missing otherwise. */
export function onlyChild(bytes: Uint8Array, parent: Box, type: string): Box {
  const found = childrenOf(bytes, parent).filter((box) => box.type === type);
  if (found.length !== 1) throw new Mp4BoxError(`${parent.type} at offset ${parent.start} has ${found.length} ${type} boxes, expected one`);
  return found[0]!;
}

/** A full box's version, after checking that its payload holds at least `minimumBytes` past version and flags. */
export function fullBoxVersion(bytes: Uint8Array, box: Box, minimumBytes: number): { version: number; flags: number } {
  if (box.end - box.payload < 4 + minimumBytes) throw new Mp4BoxError(`${box.type} at offset ${box.start} is too short (${box.end - box.start} bytes)`);
  const word = dataView(bytes).getUint32(box.payload);
  return { version: word >>> 24, flags: word & 0xffffff };
}
