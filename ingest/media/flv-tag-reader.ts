/**
 * Reads an FLV byte stream (as node-media-server hands a publisher's media to subscribers) into
 * tags, whatever the byte boundaries. Only what the sidecar decides from is decoded: the codec,
 * keyframes and sequence headers; payloads stay opaque.
 */

export const FLV_TAG_AUDIO = 8;
export const FLV_TAG_VIDEO = 9;
export const FLV_TAG_SCRIPT = 18;

/** FLV video codec ids (legacy header). */
export const FLV_VIDEO_CODEC_AVC = 7;
/** FLV sound format of AAC. */
export const FLV_AUDIO_FORMAT_AAC = 10;

export interface FlvTag {
  type: number;
  /** Milliseconds, publisher clock. */
  timestamp: number;
  data: Uint8Array;
}

export interface FlvVideoInfo {
  keyframe: boolean;
  /** Legacy codec id, or the FourCC (e.g. `hvc1`) of an enhanced-RTMP header. */
  codec: number | string;
  /** AVC/HEVC decoder configuration record rather than a picture. */
  sequenceHeader: boolean;
}

export class FlvFormatError extends Error {}

const FLV_HEADER_MIN = 9;
const TAG_HEADER = 11;
const PREVIOUS_TAG_SIZE = 4;
// The sidecar caps what one tag may claim, so a hostile length cannot make it buffer without end.
const MAX_TAG_BYTES = 8 * 1024 * 1024;

export class FlvTagReader {
  private pending: Uint8Array = new Uint8Array(0);
  private headerRead = false;

  /** Returns the tags completed by these bytes. */
  push(bytes: Uint8Array): FlvTag[] {
    this.pending = this.pending.length === 0 ? bytes : concat(this.pending, bytes);
    const tags: FlvTag[] = [];
    let offset = 0;
    if (!this.headerRead) {
      if (this.pending.length < FLV_HEADER_MIN + PREVIOUS_TAG_SIZE) return tags;
      if (this.pending[0] !== 0x46 || this.pending[1] !== 0x4c || this.pending[2] !== 0x56) throw new FlvFormatError('not an FLV stream');
      offset = readUint32(this.pending, 5) + PREVIOUS_TAG_SIZE;
      this.headerRead = true;
    }
    while (this.pending.length - offset >= TAG_HEADER) {
      const size = readUint24(this.pending, offset + 1);
      if (size > MAX_TAG_BYTES) throw new FlvFormatError(`FLV tag of ${size} bytes`);
      const end = offset + TAG_HEADER + size + PREVIOUS_TAG_SIZE;
      if (this.pending.length < end) break;
      const timestamp = (readUint24(this.pending, offset + 4) | (this.pending[offset + 7]! << 24)) >>> 0;
      tags.push({
        type: this.pending[offset]! & 0x1f,
        timestamp,
        data: this.pending.subarray(offset + TAG_HEADER, offset + TAG_HEADER + size),
      });
      offset = end;
    }
    this.pending = this.pending.subarray(offset);
    if (this.pending.length > 0 && this.pending.byteOffset > 0) this.pending = this.pending.slice();
    return tags;
  }
}

/** What a video tag's header says. */
export function readVideoInfo(data: Uint8Array): FlvVideoInfo | undefined {
  if (data.length < 2) return undefined;
  const first = data[0]!;
  const frameType = (first >> 4) & 0x07;
  if (first & 0x80) {
    // Enhanced RTMP: packet type in the low bits, FourCC after.
    if (data.length < 5) return undefined;
    const packetType = first & 0x0f;
    const fourCc = String.fromCharCode(data[1]!, data[2]!, data[3]!, data[4]!);
    return { keyframe: frameType === 1, codec: fourCc, sequenceHeader: packetType === 0 };
  }
  return { keyframe: frameType === 1, codec: first & 0x0f, sequenceHeader: data[1] === 0 };
}

/** The AVCDecoderConfigurationRecord carried by an AVC sequence-header tag. */
export function avcDecoderConfiguration(data: Uint8Array): Uint8Array {
  return data.subarray(5);
}

function readUint24(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) >>> 0) + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a, 0);
  joined.set(b, a.length);
  return joined;
}
