/**
 * What the packager needs to know about a single-track CMAF stream: the track (from the init
 * segment's moov) and each fragment's timing (from its moof). Pure functions over bytes.
 */
import { childBoxes, findBox, findBoxes, fullBoxHeader, Mp4FormatError, view, type BoxHeader } from './mp4-boxes.ts';

export interface CmafTrack {
  trackId: number;
  kind: 'video' | 'audio';
  timescale: number;
  /** RFC 6381 codec string, e.g. avc1.64001f or mp4a.40.2. */
  codec: string;
  width?: number;
  height?: number;
  channels?: number;
  sampleRate?: number;
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

export interface CmafFragmentTiming {
  /** Decode time of the first sample, in track timescale units. */
  baseMediaDecodeTime: number;
  /** Sum of the sample durations, in track timescale units. */
  duration: number;
  sampleCount: number;
  /** The first sample is a sync sample (a keyframe): a segment may start here. */
  startsWithSyncSample: boolean;
  /** The first sample's presentation time minus its decode time, track timescale units. */
  firstCompositionOffset: number;
}

const SAMPLE_IS_NON_SYNC = 0x10000;

/** A box's fields up to `end` (exclusive) lie inside it. */
function fits(box: BoxHeader, end: number, what: string): void {
  if (end > box.end) throw new Mp4FormatError(`${what} box too short for the fields it announces`);
}

function required(box: BoxHeader | undefined, what: string): BoxHeader {
  if (!box) throw new Mp4FormatError(`missing ${what} box`);
  return box;
}

export function parseCmafInitSegment(init: Uint8Array): CmafTrack {
  const data = view(init);
  const moov = required(findBox(init, ['moov']), 'moov');
  const traks = findBoxes(init, 'trak', moov.payload, moov.end);
  if (traks.length !== 1) throw new Mp4FormatError(`expected one track per CMAF stream, found ${traks.length}`);
  const trak = traks[0]!;
  const tkhd = required(findBox(init, ['tkhd'], trak.payload, trak.end), 'tkhd');
  const trackId = data.getUint32(tkhd.payload + (fullBoxHeader(init, tkhd).version === 1 ? 20 : 12));
  const mdhd = required(findBox(init, ['mdia', 'mdhd'], trak.payload, trak.end), 'mdhd');
  const timescale = data.getUint32(mdhd.payload + (fullBoxHeader(init, mdhd).version === 1 ? 20 : 12));
  const hdlr = required(findBox(init, ['mdia', 'hdlr'], trak.payload, trak.end), 'hdlr');
  const handler = String.fromCharCode(...init.subarray(hdlr.payload + 8, hdlr.payload + 12));
  const stsd = required(findBox(init, ['mdia', 'minf', 'stbl', 'stsd'], trak.payload, trak.end), 'stsd');
  // stsd is a full box (4 bytes) with an entry count (4 bytes) before its sample entries.
  const entry = required(childBoxes(init, stsd.payload + 8, stsd.end)[0], 'sample entry');

  const trex = findTrex(init, moov, trackId);
  const base = {
    trackId,
    timescale,
    defaultSampleDuration: trex ? data.getUint32(trex.payload + 12) : 0,
    defaultSampleFlags: trex ? data.getUint32(trex.payload + 20) : 0,
  };
  if (handler === 'vide') return { ...base, kind: 'video', ...describeVideoEntry(init, entry) };
  if (handler === 'soun') return { ...base, kind: 'audio', ...describeAudioEntry(init, entry) };
  throw new Mp4FormatError(`unsupported track handler ${handler}`);
}

function findTrex(init: Uint8Array, moov: BoxHeader, trackId: number): BoxHeader | undefined {
  const mvex = findBox(init, ['mvex'], moov.payload, moov.end);
  if (!mvex) return undefined;
  return findBoxes(init, 'trex', mvex.payload, mvex.end).find((trex) => view(init).getUint32(trex.payload + 4) === trackId);
}

// VisualSampleEntry: 8 bytes of SampleEntry, 16 reserved, width, height, then 50 more bytes
// before its child boxes (ISO/IEC 14496-12, 12.1.3).
const VISUAL_ENTRY_HEADER = 78;
// AudioSampleEntry: 8 bytes of SampleEntry, 8 reserved, channel count, sample size,
// 4 reserved, sample rate (16.16), then its child boxes (12.2.3).
const AUDIO_ENTRY_HEADER = 28;

function describeVideoEntry(init: Uint8Array, entry: BoxHeader): Pick<CmafTrack, 'codec' | 'width' | 'height'> {
  const data = view(init);
  const width = data.getUint16(entry.payload + 24);
  const height = data.getUint16(entry.payload + 26);
  if (entry.type === 'avc1' || entry.type === 'avc3') {
    const avcC = required(findBox(init, ['avcC'], entry.payload + VISUAL_ENTRY_HEADER, entry.end), 'avcC');
    const profileLevel = [1, 2, 3].map((i) => init[avcC.payload + i]!.toString(16).padStart(2, '0')).join('');
    return { codec: `${entry.type}.${profileLevel}`, width, height };
  }
  throw new Mp4FormatError(`unsupported video sample entry ${entry.type}`);
}

function describeAudioEntry(init: Uint8Array, entry: BoxHeader): Pick<CmafTrack, 'codec' | 'channels' | 'sampleRate'> {
  const data = view(init);
  const channels = data.getUint16(entry.payload + 16);
  const sampleRate = data.getUint32(entry.payload + 24) >>> 16;
  if (entry.type !== 'mp4a') throw new Mp4FormatError(`unsupported audio sample entry ${entry.type}`);
  const esds = required(findBox(init, ['esds'], entry.payload + AUDIO_ENTRY_HEADER, entry.end), 'esds');
  return { codec: mp4aCodec(init, esds.payload + 4, esds.end), channels, sampleRate };
}

/** Reads an MPEG-4 descriptor's tag and length (the length is a chain of 7-bit groups). */
function readDescriptor(bytes: Uint8Array, offset: number): { tag: number; payload: number; end: number } {
  const tag = bytes[offset]!;
  let length = 0;
  let cursor = offset + 1;
  for (let i = 0; i < 4; i++) {
    const byte = bytes[cursor++]!;
    length = (length << 7) | (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return { tag, payload: cursor, end: cursor + length };
}

/** `mp4a.OTI.AOT` from the ES descriptor (ISO/IEC 14496-1) and AudioSpecificConfig (14496-3). */
function mp4aCodec(bytes: Uint8Array, start: number, end: number): string {
  const es = readDescriptor(bytes, start);
  if (es.tag !== 0x03) throw new Mp4FormatError('esds has no ES descriptor');
  const esFlags = bytes[es.payload + 2]!;
  let cursor = es.payload + 3;
  if (esFlags & 0x80) cursor += 2; // dependsOn_ES_ID
  if (esFlags & 0x40) cursor += 1 + bytes[cursor]!; // URL
  if (esFlags & 0x20) cursor += 2; // OCR_ES_Id
  const config = readDescriptor(bytes, cursor);
  if (config.tag !== 0x04 || config.end > end) throw new Mp4FormatError('esds has no decoder config descriptor');
  const objectType = bytes[config.payload]!;
  const specific = readDescriptor(bytes, config.payload + 13);
  if (objectType !== 0x40 || specific.tag !== 0x05) return `mp4a.${objectType.toString(16)}`;
  let audioObjectType = bytes[specific.payload]! >>> 3;
  if (audioObjectType === 31) {
    audioObjectType = 32 + (((bytes[specific.payload]! & 0x07) << 3) | (bytes[specific.payload + 1]! >>> 5));
  }
  return `mp4a.40.${audioObjectType}`;
}

/** Timing of one fragment (moof) of the track. */
export function parseFragmentTiming(moof: Uint8Array, track: CmafTrack): CmafFragmentTiming {
  const data = view(moof);
  const moofBox = required(findBox(moof, ['moof']), 'moof');
  const traf = required(findBox(moof, ['traf'], moofBox.payload, moofBox.end), 'traf');
  const tfhd = required(findBox(moof, ['tfhd'], traf.payload, traf.end), 'tfhd');
  const tfhdFlags = fullBoxHeader(moof, tfhd).flags;
  // Every optional field the flags announce must lie inside the tfhd box.
  const tfhdBytes = 8 + [0x1, 0x2, 0x8, 0x10, 0x20].reduce((sum, flag) => sum + (tfhdFlags & flag ? (flag === 0x1 ? 8 : 4) : 0), 0);
  fits(tfhd, tfhd.payload + tfhdBytes, 'tfhd');
  let cursor = tfhd.payload + 8; // version/flags, track id
  if (tfhdFlags & 0x1) cursor += 8; // base data offset
  if (tfhdFlags & 0x2) cursor += 4; // sample description index
  let defaultDuration = track.defaultSampleDuration;
  let defaultFlags = track.defaultSampleFlags;
  if (tfhdFlags & 0x8) {
    defaultDuration = data.getUint32(cursor);
    cursor += 4;
  }
  if (tfhdFlags & 0x10) cursor += 4; // default sample size
  if (tfhdFlags & 0x20) defaultFlags = data.getUint32(cursor);

  const tfdt = required(findBox(moof, ['tfdt'], traf.payload, traf.end), 'tfdt');
  const tfdtVersion = fullBoxHeader(moof, tfdt).version;
  fits(tfdt, tfdt.payload + (tfdtVersion === 1 ? 12 : 8), 'tfdt');
  const baseMediaDecodeTime = tfdtVersion === 1 ? Number(data.getBigUint64(tfdt.payload + 4)) : data.getUint32(tfdt.payload + 4);

  let duration = 0;
  let sampleCount = 0;
  let firstSampleFlags: number | undefined;
  let firstCompositionOffset = 0;
  for (const trun of findBoxes(moof, 'trun', traf.payload, traf.end)) {
    const { flags, version } = fullBoxHeader(moof, trun);
    fits(trun, trun.payload + 8, 'trun');
    const count = data.getUint32(trun.payload + 4);
    // The sample table the flags and count announce must lie inside the trun box.
    const entryBytes = 4 * [0x100, 0x200, 0x400, 0x800].filter((flag) => flags & flag).length;
    fits(trun, trun.payload + 8 + (flags & 0x1 ? 4 : 0) + (flags & 0x4 ? 4 : 0) + count * entryBytes, 'trun');
    let offset = trun.payload + 8;
    if (flags & 0x1) offset += 4; // data offset
    let trunFirstFlags: number | undefined;
    if (flags & 0x4) {
      trunFirstFlags = data.getUint32(offset);
      offset += 4;
    }
    for (let i = 0; i < count; i++) {
      let sampleDuration = defaultDuration;
      let sampleFlags = i === 0 && trunFirstFlags !== undefined ? trunFirstFlags : defaultFlags;
      if (flags & 0x100) {
        sampleDuration = data.getUint32(offset);
        offset += 4;
      }
      if (flags & 0x200) offset += 4; // size
      if (flags & 0x400) {
        const explicit = data.getUint32(offset);
        if (!(i === 0 && trunFirstFlags !== undefined)) sampleFlags = explicit;
        offset += 4;
      }
      if (flags & 0x800) {
        // Signed in version 1 (CMAF writes negative offsets so that decode and presentation start together).
        if (sampleCount === 0 && i === 0) firstCompositionOffset = version === 1 ? data.getInt32(offset) : data.getUint32(offset);
        offset += 4;
      }
      if (sampleCount === 0 && i === 0) firstSampleFlags = sampleFlags;
      duration += sampleDuration;
    }
    sampleCount += count;
  }
  return {
    baseMediaDecodeTime,
    duration,
    sampleCount,
    startsWithSyncSample: firstSampleFlags !== undefined && (firstSampleFlags & SAMPLE_IS_NON_SYNC) === 0,
    firstCompositionOffset,
  };
}
