/**
 * A CMAF chunk: moof (mfhd, traf with tfhd, tfdt, trun) + mdat, for one track. Pure.
 *
 * Conventions (what hls.js, Shaka, dash.js and ffprobe read alike):
 * - default-base-is-moof: the trun's data offset counts from the moof's first byte, so every
 *   chunk stands alone.
 * - Decode times are the source's; composition offsets are the source's too (FLV's composition
 *   time, positive for B-frames), so presentation time = decode time + offset with no edit list,
 *   on the same clock as the audio. A trun is version 0 (unsigned offsets) unless a sample has a
 *   negative offset, which only version 1 can carry.
 * - Video samples carry explicit flags (sync, or non-sync and depending on others); audio
 *   samples carry none: trex's default (0) means every sample is a sync sample.
 */
import { TRACK_ID } from './cmaf-init-writer.ts';

export interface FragmentSample {
  /** Track timescale units. */
  duration: number;
  /** Presentation minus decode time, track timescale units. */
  compositionOffset: number;
  keyframe: boolean;
  data: Uint8Array;
}

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x1;
const TRUN_DURATION = 0x100;
const TRUN_SIZE = 0x200;
const TRUN_FLAGS = 0x400;
const TRUN_COMPOSITION_OFFSET = 0x800;
// sample_depends_on = 2 (depends on no other sample).
const SYNC_SAMPLE_FLAGS = 0x02000000;
// sample_depends_on = 1, sample_is_non_sync_sample = 1.
const NON_SYNC_SAMPLE_FLAGS = 0x01010000;
const MDAT_HEADER = 8;
const MFHD_BYTES = 16;
const TFHD_BYTES = 16;
const TFDT_BYTES = 20;
const fourCc = (type: string) => ((type.charCodeAt(0) << 24) | (type.charCodeAt(1) << 16) | (type.charCodeAt(2) << 8) | type.charCodeAt(3)) >>> 0;
const [MOOF, MFHD, TRAF, TFHD, TFDT, TRUN, MDAT] = ['moof', 'mfhd', 'traf', 'tfhd', 'tfdt', 'trun', 'mdat'].map(fourCc) as [number, number, number, number, number, number, number];

/** A box header (size, type) at `at`; returns where its contents start. */
function boxHeader(view: DataView, at: number, size: number, type: number): number {
  view.setUint32(at, size);
  view.setUint32(at + 4, type);
  return at + 8;
}

/** A full box header (size, type, version, flags) at `at`; returns where its contents start. */
function fullBoxHeader(view: DataView, at: number, size: number, type: number, version: number, flags: number): number {
  view.setUint32(boxHeader(view, at, size, type), (((version & 0xff) << 24) | (flags & 0xffffff)) >>> 0);
  return at + 12;
}

/** How many bytes writeFragmentInto writes for these samples. */
export function fragmentByteLength(kind: 'video' | 'audio', samples: readonly FragmentSample[]): number {
  let payloadBytes = 0;
  for (const sample of samples) payloadBytes += sample.data.length;
  return layoutOf(kind, samples).moofBytes + MDAT_HEADER + payloadBytes;
}

/**
 * The chunk's bytes in one buffer of its own (a copy of the samples' payloads): for whoever needs
 * them contiguous. The packager hands on writeFragmentPieces' instead. `sequenceNumber` counts the
 * track's fragments from 1.
 */
export function writeFragment(kind: 'video' | 'audio', sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): Uint8Array {
  // Every byte is written, so not zero-filled first (nor from Buffer's pool: its own ArrayBuffer).
  const out = new Uint8Array(Buffer.allocUnsafeSlow(fragmentByteLength(kind, samples)).buffer);
  writeFragmentInto(out, kind, sequenceNumber, baseMediaDecodeTime, samples);
  return out;
}

interface FragmentLayout {
  withOffsets: boolean;
  negative: boolean;
  flags: number;
  trunBytes: number;
  trafBytes: number;
  moofBytes: number;
}

function layoutOf(kind: 'video' | 'audio', samples: readonly FragmentSample[]): FragmentLayout {
  if (samples.length === 0) throw new Error('a fragment needs at least one sample');
  const video = kind === 'video';
  const withOffsets = video && samples.some((sample) => sample.compositionOffset !== 0);
  const negative = withOffsets && samples.some((sample) => sample.compositionOffset < 0);
  const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | (video ? TRUN_FLAGS : 0) | (withOffsets ? TRUN_COMPOSITION_OFFSET : 0);
  const fieldsPerSample = 2 + (video ? 1 : 0) + (withOffsets ? 1 : 0);
  const trunBytes = 8 + 4 + 4 + 4 + samples.length * fieldsPerSample * 4;
  const trafBytes = 8 + TFHD_BYTES + TFDT_BYTES + trunBytes;
  return { withOffsets, negative, flags, trunBytes, trafBytes, moofBytes: 8 + MFHD_BYTES + trafBytes };
}

/**
 * The chunk as pieces: its moof and mdat header in one small buffer of its own, then each
 * sample's bytes as they are (views of the FLV tags the sidecar copied out of node-media-server's
 * parser buffer once, which nothing writes into afterwards). Their bytes end to end are
 * writeFragment's; nothing media-sized is allocated or copied here.
 */
export function writeFragmentPieces(kind: 'video' | 'audio', sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): Uint8Array[] {
  const layout = layoutOf(kind, samples);
  // Every byte is written; small, so from Buffer's pool is fine (its view is what is kept).
  const header = Buffer.allocUnsafe(layout.moofBytes + MDAT_HEADER);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  writeHeader(view, layout, kind, sequenceNumber, baseMediaDecodeTime, samples);
  const pieces: Uint8Array[] = [header];
  for (const sample of samples) pieces.push(sample.data);
  return pieces;
}

/**
 * Writes the chunk into `out`, which is exactly fragmentByteLength(kind, samples) long (a view of
 * a larger buffer, e.g. a segment's: its parts then lie end to end, and the segment is a view too).
 */
export function writeFragmentInto(out: Uint8Array, kind: 'video' | 'audio', sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): void {
  const layout = layoutOf(kind, samples);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const payloadBytes = writeHeader(view, layout, kind, sequenceNumber, baseMediaDecodeTime, samples);
  if (layout.moofBytes + MDAT_HEADER + payloadBytes !== out.byteLength) throw new RangeError(`fragment of ${layout.moofBytes + MDAT_HEADER + payloadBytes} bytes written into ${out.byteLength}`);
  let offset = layout.moofBytes + MDAT_HEADER;
  for (const sample of samples) {
    out.set(sample.data, offset);
    offset += sample.data.length;
  }
}

/** moof(mfhd, traf(tfhd, tfdt, trun)) and the mdat's header, written in place from `view`'s start; returns the samples' bytes. */
function writeHeader(view: DataView, layout: FragmentLayout, kind: 'video' | 'audio', sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): number {
  const { withOffsets, negative, flags, trunBytes, trafBytes, moofBytes } = layout;
  const video = kind === 'video';
  // No box is built apart and joined (these were a dozen small arrays per part).
  let at = boxHeader(view, 0, moofBytes, MOOF);
  at = fullBoxHeader(view, at, MFHD_BYTES, MFHD, 0, 0);
  view.setUint32(at, sequenceNumber);
  at = boxHeader(view, at + 4, trafBytes, TRAF);
  at = fullBoxHeader(view, at, TFHD_BYTES, TFHD, 0, TFHD_DEFAULT_BASE_IS_MOOF);
  view.setUint32(at, TRACK_ID);
  at = fullBoxHeader(view, at + 4, TFDT_BYTES, TFDT, 1, 0);
  view.setBigUint64(at, BigInt(baseMediaDecodeTime));
  at = fullBoxHeader(view, at + 8, trunBytes, TRUN, negative ? 1 : 0, flags);
  view.setUint32(at, samples.length);
  // The data offset counts from the moof's first byte (default-base-is-moof) to the first sample.
  view.setUint32(at + 4, moofBytes + MDAT_HEADER);
  let cursor = at + 8;
  let payloadBytes = 0;
  for (const sample of samples) {
    view.setUint32(cursor, sample.duration);
    view.setUint32(cursor + 4, sample.data.length);
    cursor += 8;
    if (video) {
      view.setUint32(cursor, sample.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
      cursor += 4;
    }
    if (withOffsets) {
      view.setInt32(cursor, sample.compositionOffset);
      cursor += 4;
    }
    payloadBytes += sample.data.length;
  }
  boxHeader(view, moofBytes, MDAT_HEADER + payloadBytes, MDAT);
  return payloadBytes;
}
