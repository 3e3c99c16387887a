/** FLV made by hand: single tags for unit tests, and real media re-timed (wraps, jumps) as bytes again. */
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, FlvTagReader, type FlvTag } from '../../ingest/media/flv-tag-reader.ts';

export function avcTag(timestamp: number, options: { keyframe?: boolean; packetType?: number; compositionTime?: number; payload?: Uint8Array; codec?: number }): FlvTag {
  const payload = options.payload ?? new Uint8Array([0, 0, 0, 2, 0x09, 0xf0]);
  const data = new Uint8Array(5 + payload.length);
  data[0] = ((options.keyframe ? 1 : 2) << 4) | (options.codec ?? 7);
  data[1] = options.packetType ?? 1;
  const cts = (options.compositionTime ?? 0) & 0xffffff;
  data.set([cts >> 16, (cts >> 8) & 0xff, cts & 0xff], 2);
  data.set(payload, 5);
  return { type: FLV_TAG_VIDEO, timestamp, data };
}

export function aacTag(timestamp: number, options: { sequenceHeader?: boolean; payload?: Uint8Array; soundFormat?: number }): FlvTag {
  const payload = options.payload ?? new Uint8Array([0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c]);
  const data = new Uint8Array(2 + payload.length);
  data[0] = ((options.soundFormat ?? 10) << 4) | 0x0f;
  data[1] = options.sequenceHeader ? 0 : 1;
  data.set(payload, 2);
  return { type: FLV_TAG_AUDIO, timestamp, data };
}

/** The tags of an FLV byte stream. */
export function readTags(flv: Uint8Array): FlvTag[] {
  return new FlvTagReader().push(flv);
}

/** An FLV byte stream (header with audio and video flags, then the tags). */
export function writeFlv(tags: readonly FlvTag[]): Buffer {
  const pieces: Buffer[] = [Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0])];
  for (const tag of tags) {
    const header = Buffer.alloc(11);
    header[0] = tag.type;
    header.writeUIntBE(tag.data.length, 1, 3);
    const timestamp = tag.timestamp >>> 0;
    header.writeUIntBE(timestamp & 0xffffff, 4, 3);
    header[7] = timestamp >>> 24;
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32BE(11 + tag.data.length);
    pieces.push(header, Buffer.from(tag.data), trailer);
  }
  return Buffer.concat(pieces);
}

/** The same media with every timestamp mapped (e.g. shifted to just before the 32-bit wrap). */
export function retime(flv: Uint8Array, map: (timestamp: number, tag: FlvTag, index: number) => number): Buffer {
  return writeFlv(readTags(flv).map((tag, index) => ({ ...tag, timestamp: map(tag.timestamp, tag, index) >>> 0 })));
}
