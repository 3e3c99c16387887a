/**
 * FLV bytes for ffmpeg's stdin: a file header, then tags with the timestamps the sidecar gave
 * them. A tag's payload is not copied: each tag is written as its 11-byte header, the payload
 * (a view into the publisher's bytes) and the 4-byte size that follows every tag.
 */
import type { FlvTag } from '../media/flv-tag-reader.ts';

const TAG_HEADER = 11;
const PREVIOUS_TAG_SIZE = 4;

/** The 9-byte FLV header (version 1, both tracks announced) and the first PreviousTagSize (0). */
export function flvFileHeader(): Uint8Array {
  return new Uint8Array([0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
}

/** One tag as pieces to write in order: header, payload (the tag's own bytes), trailing size. */
export function flvTagPieces(tag: FlvTag): [Uint8Array, Uint8Array, Uint8Array] {
  const size = tag.data.length;
  const header = new Uint8Array(TAG_HEADER);
  header[0] = tag.type;
  header[1] = (size >>> 16) & 0xff;
  header[2] = (size >>> 8) & 0xff;
  header[3] = size & 0xff;
  // FLV keeps the low 24 bits of the millisecond timestamp first, then its high 8 bits.
  const timestamp = tag.timestamp >>> 0;
  header[4] = (timestamp >>> 16) & 0xff;
  header[5] = (timestamp >>> 8) & 0xff;
  header[6] = timestamp & 0xff;
  header[7] = (timestamp >>> 24) & 0xff;
  // Stream id (3 bytes): always 0.
  const trailer = new Uint8Array(PREVIOUS_TAG_SIZE);
  new DataView(trailer.buffer).setUint32(0, TAG_HEADER + size);
  return [header, tag.data, trailer];
}
