/**
 * A CMAF init segment (ftyp + moov with one track and mvex/trex) for a passed-through H.264 or
 * AAC track, from the decoder configuration the source sent. Pure.
 */
import { ascii, box, fullBox, u16, u32, u8, zeros } from './mp4-box-writer.ts';

export interface VideoTrackConfig {
  kind: 'video';
  /** The AVCDecoderConfigurationRecord, as the avcC box's payload. */
  avcC: Uint8Array;
  width: number;
  height: number;
  timescale: number;
}

export interface AudioTrackConfig {
  kind: 'audio';
  /** AudioSpecificConfig, as the esds' decoder specific info. */
  audioSpecificConfig: Uint8Array;
  sampleRate: number;
  channels: number;
  timescale: number;
}

export type TrackConfig = VideoTrackConfig | AudioTrackConfig;

/** One track per CMAF stream: always track 1. */
export const TRACK_ID = 1;

const UNITY_MATRIX = u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000);
// ISO 639-2 "und", packed as three 5-bit letters.
const LANGUAGE_UNDETERMINED = 0x55c4;

export function writeInitSegment(config: TrackConfig): Uint8Array {
  const ftyp = box('ftyp', ascii('iso6'), u32(0), ascii('iso6'), ascii('cmfc'), ascii(config.kind === 'video' ? 'avc1' : 'mp41'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0, 0, 1000, 0), u32(0x00010000), u16(0x0100), zeros(10), UNITY_MATRIX, zeros(24), u32(TRACK_ID + 1));
  const moov = box('moov', mvhd, trak(config), box('mvex', fullBox('trex', 0, 0, u32(TRACK_ID, 1, 0, 0, 0))));
  const out = new Uint8Array(ftyp.length + moov.length);
  out.set(ftyp, 0);
  out.set(moov, ftyp.length);
  return out;
}

function trak(config: TrackConfig): Uint8Array {
  const video = config.kind === 'video';
  const tkhd = fullBox(
    'tkhd', 0, 0x3, // enabled, in movie
    u32(0, 0, TRACK_ID, 0, 0), zeros(8),
    u16(0, 0, video ? 0 : 0x0100, 0), // layer, alternate group, volume, reserved
    UNITY_MATRIX,
    u32(video ? config.width * 0x10000 : 0, video ? config.height * 0x10000 : 0),
  );
  const mdhd = fullBox('mdhd', 0, 0, u32(0, 0, config.timescale, 0), u16(LANGUAGE_UNDETERMINED, 0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), ascii(video ? 'vide' : 'soun'), zeros(12), ascii(video ? 'VideoHandler' : 'SoundHandler'), u8(0));
  const header = video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u32(1), video ? avc1(config) : mp4a(config)),
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0, 0)),
    fullBox('stco', 0, 0, u32(0)),
  );
  return box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', header, dinf, stbl)));
}

function avc1(config: VideoTrackConfig): Uint8Array {
  return box(
    'avc1',
    zeros(6), u16(1), // reserved, data reference index
    zeros(16), u16(config.width, config.height),
    u32(0x00480000, 0x00480000, 0), u16(1), // 72 dpi, reserved, frame count
    zeros(32), u16(0x0018, 0xffff), // compressor name, depth, pre_defined -1
    box('avcC', config.avcC),
  );
}

function mp4a(config: AudioTrackConfig): Uint8Array {
  return box(
    'mp4a',
    zeros(6), u16(1),
    zeros(8), u16(config.channels, 16, 0, 0), u32(config.sampleRate * 0x10000),
    esds(config.audioSpecificConfig),
  );
}

/** ES descriptor (ISO/IEC 14496-1 7.2.6.5) for MPEG-4 audio with its AudioSpecificConfig. */
function esds(audioSpecificConfig: Uint8Array): Uint8Array {
  const decoderSpecific = descriptor(0x05, audioSpecificConfig);
  // objectTypeIndication 0x40 (MPEG-4 audio); streamType 5 (audio) << 2 | reserved bit; buffer size; max and average bitrate unknown.
  const decoderConfig = descriptor(0x04, u8(0x40, 0x15), zeros(3), u32(0, 0), decoderSpecific);
  const slConfig = descriptor(0x06, u8(0x02));
  return fullBox('esds', 0, 0, descriptor(0x03, u16(TRACK_ID), u8(0), decoderConfig, slConfig));
}

function descriptor(tag: number, ...content: Uint8Array[]): Uint8Array {
  const length = content.reduce((sum, part) => sum + part.length, 0);
  // One length byte is enough for what we write (an AudioSpecificConfig is a few bytes).
  if (length > 0x7f) throw new Error(`descriptor of ${length} bytes`);
  const out = new Uint8Array(2 + length);
  out[0] = tag;
  out[1] = length;
  let offset = 2;
  for (const part of content) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
