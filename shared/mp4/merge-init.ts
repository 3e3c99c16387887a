/**
 * One init segment for several single-track CMAF init segments (a video rung and its audio):
 * the first one's `ftyp` and `mvhd`, then every input's `trak` and, in one `mvex`, every input's
 * `trex`, with track ids renumbered 1, 2, ... so they are distinct (the sidecar writes every
 * CMAF track as track 1). Boxes are copied byte for byte except for those ids, the movie's next
 * track id, and an optional `mehd` announcing the whole duration. Pure and runtime-neutral.
 */
import { childrenOf, dataView, fullBoxVersion, Mp4BoxError, onlyChild, readBoxes, type Box } from './box-reader.ts';

/** How one input track is carried in the merged file. */
export interface TrackMapping {
  /** The track id in the input's init segment and fragments. */
  sourceTrackId: number;
  /** The track id in the merged file (1-based position among the inputs). */
  trackId: number;
  /** The track's media timescale (mdhd). */
  timescale: number;
  /** The handler type: `vide`, `soun`, ... */
  handler: string;
}

export interface MergedInit {
  bytes: Uint8Array;
  tracks: TrackMapping[];
  /** The movie timescale (mvhd), the unit of `mehd`. */
  movieTimescale: number;
}

export interface MergeInitOptions {
  /** The whole file's duration, written as `mehd` (players show it before reading the fragments). */
  durationSeconds?: number;
}

interface ParsedInit {
  bytes: Uint8Array;
  ftyp: Box;
  mvhd: Box;
  trak: Box;
  trex: Box;
  stsd: Box;
  mapping: Omit<TrackMapping, 'trackId'>;
}

function header(type: string, size: number): Uint8Array {
  const out = new Uint8Array(8);
  dataView(out).setUint32(0, size);
  for (let index = 0; index < 4; index += 1) out[4 + index] = type.charCodeAt(index);
  return out;
}

function topLevel(bytes: Uint8Array, type: string, boxes: Box[], which: string): Box {
  const found = boxes.filter((box) => box.type === type);
  if (found.length !== 1) throw new Mp4BoxError(`${which} init segment has ${found.length} ${type} boxes, expected one`);
  return found[0]!;
}

/** Where a tkhd keeps its track id: after version/flags and the creation and modification times. */
function tkhdTrackIdOffset(bytes: Uint8Array, tkhd: Box): number {
  const { version } = fullBoxVersion(bytes, tkhd, version1Bytes(bytes, tkhd, 20, 12));
  return tkhd.payload + 4 + (version === 1 ? 16 : 8);
}

/** Bytes a full box needs past version/flags for the field read: more for version 1's 64-bit times. */
function version1Bytes(bytes: Uint8Array, box: Box, v1: number, v0: number): number {
  if (box.end - box.payload < 4) throw new Mp4BoxError(`${box.type} at offset ${box.start} is too short`);
  return bytes[box.payload] === 1 ? v1 : v0;
}

function parseInit(bytes: Uint8Array, which: string): ParsedInit {
  const boxes = readBoxes(bytes, 0, bytes.length);
  const ftyp = topLevel(bytes, 'ftyp', boxes, which);
  const moov = topLevel(bytes, 'moov', boxes, which);
  const mvhd = onlyChild(bytes, moov, 'mvhd');
  const trak = onlyChild(bytes, moov, 'trak');
  const trex = onlyChild(bytes, onlyChild(bytes, moov, 'mvex'), 'trex');
  const view = dataView(bytes);
  const sourceTrackId = view.getUint32(tkhdTrackIdOffset(bytes, onlyChild(bytes, trak, 'tkhd')));
  fullBoxVersion(bytes, trex, 4);
  if (view.getUint32(trex.payload + 4) !== sourceTrackId) throw new Mp4BoxError(`${which} init segment's trex is not for its track ${sourceTrackId}`);
  const mdia = onlyChild(bytes, trak, 'mdia');
  const mdhd = onlyChild(bytes, mdia, 'mdhd');
  const timescale = view.getUint32(mdhd.payload + 4 + (fullBoxVersion(bytes, mdhd, version1Bytes(bytes, mdhd, 20, 12)).version === 1 ? 16 : 8));
  if (timescale === 0) throw new Mp4BoxError(`${which} init segment's track has timescale 0`);
  const hdlr = onlyChild(bytes, mdia, 'hdlr');
  fullBoxVersion(bytes, hdlr, 8);
  const handler = String.fromCharCode(...bytes.subarray(hdlr.payload + 8, hdlr.payload + 12));
  const stsd = onlyChild(bytes, onlyChild(bytes, onlyChild(bytes, mdia, 'minf'), 'stbl'), 'stsd');
  // mvhd's last field is next_track_ID; a version 0 mvhd is 108 bytes, version 1 is 120.
  fullBoxVersion(bytes, mvhd, version1Bytes(bytes, mvhd, 108, 96));
  return { bytes, ftyp, mvhd, trak, trex, stsd, mapping: { sourceTrackId, timescale, handler } };
}

function movieTimescale(init: ParsedInit): number {
  const { bytes, mvhd } = init;
  const timescale = dataView(bytes).getUint32(mvhd.payload + 4 + (bytes[mvhd.payload] === 1 ? 16 : 8));
  if (timescale === 0) throw new Mp4BoxError('the movie timescale (mvhd) is 0');
  return timescale;
}

/** Joins `inits` (each one track) into one init segment; the first gives the file type and movie header. */
export function mergeInitSegments(inits: readonly Uint8Array[], options: MergeInitOptions = {}): MergedInit {
  if (inits.length === 0) throw new Mp4BoxError('no init segment to merge');
  const parsed = inits.map((bytes, index) => parseInit(bytes, `input ${index + 1}'s`));
  const first = parsed[0]!;
  const timescale = movieTimescale(first);
  const slice = (init: ParsedInit, box: Box) => init.bytes.subarray(box.start, box.end);
  const mehd = options.durationSeconds === undefined ? [] : [mehdBox(Math.round(options.durationSeconds * timescale))];
  const mvexContent = [...mehd, ...parsed.map((init) => slice(init, init.trex))];
  const mvexSize = 8 + mvexContent.reduce((sum, piece) => sum + piece.length, 0);
  const moovContent = [slice(first, first.mvhd), ...parsed.map((init) => slice(init, init.trak)), header('mvex', mvexSize), ...mvexContent];
  const moovSize = 8 + moovContent.reduce((sum, piece) => sum + piece.length, 0);
  const pieces = [slice(first, first.ftyp), header('moov', moovSize), ...moovContent];
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  // The ids are patched in the copy, where the boxes now are: read back with the same strict reader.
  const view = dataView(out);
  const moov = readBoxes(out, 0, out.length).find((box) => box.type === 'moov')!;
  const children = childrenOf(out, moov);
  const traks = children.filter((box) => box.type === 'trak');
  const trexes = childrenOf(out, children.find((box) => box.type === 'mvex')!).filter((box) => box.type === 'trex');
  traks.forEach((trak, index) => view.setUint32(tkhdTrackIdOffset(out, onlyChild(out, trak, 'tkhd')), index + 1));
  trexes.forEach((trex, index) => view.setUint32(trex.payload + 4, index + 1));
  const mvhd = children.find((box) => box.type === 'mvhd')!;
  view.setUint32(mvhd.end - 4, parsed.length + 1);
  return { bytes: out, movieTimescale: timescale, tracks: parsed.map((init, index) => ({ ...init.mapping, trackId: index + 1 })) };
}

/** A version 1 mehd: the fragmented movie's whole duration in the movie timescale. */
function mehdBox(duration: number): Uint8Array {
  const out = new Uint8Array(20);
  out.set(header('mehd', 20), 0);
  const view = dataView(out);
  view.setUint32(8, 0x01000000);
  view.setBigUint64(12, BigInt(duration));
  return out;
}

/**
 * Whether `later` (a later session's init segment of the same track, after a reconnect) describes
 * its samples exactly as `first` does: same handler, timescale and sample description (codec
 * configuration, picture size). Only then can its fragments continue the same track; the
 * returned id is the one its fragments carry. Otherwise the reason.
 */
export function continuationOf(first: Uint8Array, later: Uint8Array): { ok: true; sourceTrackId: number } | { ok: false; reason: string } {
  const a = parseInit(first, 'the first');
  const b = parseInit(later, 'a later');
  if (a.mapping.handler !== b.mapping.handler) return { ok: false, reason: `a later session's track is ${b.mapping.handler}, not ${a.mapping.handler}` };
  if (a.mapping.timescale !== b.mapping.timescale) return { ok: false, reason: `a later session's timescale is ${b.mapping.timescale}, not ${a.mapping.timescale}` };
  const sameSamples = a.stsd.end - a.stsd.start === b.stsd.end - b.stsd.start && a.bytes.subarray(a.stsd.start, a.stsd.end).every((byte, index) => byte === b.bytes[b.stsd.start + index]);
  if (!sameSamples) return { ok: false, reason: 'a later session has another codec configuration or picture size' };
  return { ok: true, sourceTrackId: b.mapping.sourceTrackId };
}
