/**
 * Writing ISO BMFF (MP4) boxes: the few primitives the CMAF writers are made of. Each returns
 * bytes; a box is its header and its contents joined once.
 *
 * Why our own writer rather than a library (checked on Node 24 here, 2026-12): mediabunny's MP4
 * muxer starts a fragment only on a keyframe and decides fragment boundaries itself (it asserts
 * that every fragment's first sample is a key frame), so it cannot make low-latency parts that
 * start between keyframes at boundaries the sidecar decides; mux.js's mp4-generator has no
 * types, writes version-0 truns only and takes its own track object shape; mp4box is a file
 * parser/segmenter with its own buffering. What CMAF needs of us is about a dozen boxes, which
 * the project's own parser (mp4-boxes.ts, cmaf-track.ts) and ffprobe read back in the tests.
 */
import { concatBytes } from './bytes.ts';

const encoder = new TextEncoder();


export function box(type: string, ...content: readonly Uint8Array[]): Uint8Array {
  if (type.length !== 4) throw new Error(`box type "${type}" is not four characters`);
  const body = concatBytes(content);
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setUint32(0, out.length);
  out.set(encoder.encode(type), 4);
  out.set(body, 8);
  return out;
}

/** A full box: version and 24 bits of flags before its contents. */
export function fullBox(type: string, version: number, flags: number, ...content: readonly Uint8Array[]): Uint8Array {
  return box(type, u32(((version & 0xff) << 24 | (flags & 0xffffff)) >>> 0), ...content);
}

export function u8(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function u16(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const data = new DataView(out.buffer);
  values.forEach((value, index) => data.setUint16(index * 2, value));
  return out;
}

export function u32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const data = new DataView(out.buffer);
  values.forEach((value, index) => data.setUint32(index * 4, value >>> 0));
  return out;
}

export function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Four-character codes and other ASCII, as they are. */
export function ascii(text: string): Uint8Array {
  return encoder.encode(text);
}

export function zeros(count: number): Uint8Array {
  return new Uint8Array(count);
}
