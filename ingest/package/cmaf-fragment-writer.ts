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
import { box, fullBox, u32, u64 } from './mp4-box-writer.ts';
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

/**
 * The chunk's bytes: the only copy of the samples' payloads on their way from the RTMP message
 * to storage. `sequenceNumber` counts the track's fragments from 1.
 */
export function writeFragment(kind: 'video' | 'audio', sequenceNumber: number, baseMediaDecodeTime: number, samples: readonly FragmentSample[]): Uint8Array {
  if (samples.length === 0) throw new Error('a fragment needs at least one sample');
  const video = kind === 'video';
  const withOffsets = video && samples.some((sample) => sample.compositionOffset !== 0);
  const negative = withOffsets && samples.some((sample) => sample.compositionOffset < 0);
  const flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | (video ? TRUN_FLAGS : 0) | (withOffsets ? TRUN_COMPOSITION_OFFSET : 0);
  const fieldsPerSample = 2 + (video ? 1 : 0) + (withOffsets ? 1 : 0);
  const entries = new Uint8Array(samples.length * fieldsPerSample * 4);
  const data = new DataView(entries.buffer);
  let cursor = 0;
  let payloadBytes = 0;
  for (const sample of samples) {
    data.setUint32(cursor, sample.duration);
    data.setUint32(cursor + 4, sample.data.length);
    cursor += 8;
    if (video) {
      data.setUint32(cursor, sample.keyframe ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS);
      cursor += 4;
    }
    if (withOffsets) {
      data.setInt32(cursor, sample.compositionOffset);
      cursor += 4;
    }
    payloadBytes += sample.data.length;
  }
  // The data offset is known once the moof's size is: it is written in place afterwards.
  const dataOffsetField = u32(0);
  const trun = fullBox('trun', negative ? 1 : 0, flags, u32(samples.length), dataOffsetField, entries);
  const moof = box(
    'moof',
    fullBox('mfhd', 0, 0, u32(sequenceNumber)),
    box('traf', fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(TRACK_ID)), fullBox('tfdt', 1, 0, u64(baseMediaDecodeTime)), trun),
  );
  const out = new Uint8Array(moof.length + MDAT_HEADER + payloadBytes);
  out.set(moof, 0);
  const view = new DataView(out.buffer);
  // The trun is the moof's last box; its data offset field follows its header (12) and sample count (4).
  view.setUint32(moof.length - trun.length + 16, moof.length + MDAT_HEADER);
  view.setUint32(moof.length, MDAT_HEADER + payloadBytes);
  out.set([0x6d, 0x64, 0x61, 0x74], moof.length + 4); // 'mdat'
  let offset = moof.length + MDAT_HEADER;
  for (const sample of samples) {
    out.set(sample.data, offset);
    offset += sample.data.length;
  }
  return out;
}
