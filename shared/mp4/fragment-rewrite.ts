/**
 * Re-homes one track's CMAF media segment (one or more moof+mdat) into a multi-track file, in
 * place: each `mfhd` gets the file's next sequence number, each `tfhd` the track's id in the
 * file (and an explicit base data offset, rare, is moved by where the segment now starts), each
 * `tfdt` moves by a given shift (a later session's timeline continues the earlier one's). No
 * box changes size and no sample byte is touched, so the file's length is known before any
 * segment is read. Pure and runtime-neutral; malformed input is an `Mp4BoxError`.
 */
import { childrenOf, dataView, fullBoxVersion, Mp4BoxError, onlyChild, readBoxes } from './box-reader.ts';

const TFHD_BASE_DATA_OFFSET = 0x1;

export interface SegmentRewrite {
  /** The track's id in the segment as stored. */
  sourceTrackId: number;
  /** Its id in the output file. */
  trackId: number;
  /** The sequence number of the segment's first moof; the next ones count up from it. */
  firstSequenceNumber: number;
  /** Where the segment's first byte lands in the output file. */
  fileOffset: number;
  /** Added to every tfdt (track timescale): a later session's timeline continues the earlier one's. */
  decodeTimeShift?: number;
}

export interface RewrittenFragment {
  /** The moof's offset in the output file. */
  fileOffset: number;
  /** Its track fragment's base media decode time (tfdt), track timescale; undefined without a tfdt. */
  decodeTime: number | undefined;
}

export interface SegmentRewriteResult {
  fragments: RewrittenFragment[];
  nextSequenceNumber: number;
}

/** Rewrites `segment` (mutated) for its place in the file; throws unless it is whole fragments of the one track. */
export function rewriteSegmentInPlace(segment: Uint8Array, options: SegmentRewrite): SegmentRewriteResult {
  const view = dataView(segment);
  const fragments: RewrittenFragment[] = [];
  let sequenceNumber = options.firstSequenceNumber;
  for (const box of readBoxes(segment, 0, segment.length)) {
    // Size 0 means "to the end of the file": true of a segment's last box as stored, not once others follow it.
    if (view.getUint32(box.start) === 0) {
      if (box.end - box.start > 0xffffffff) throw new Mp4BoxError(`${box.type} at offset ${box.start} runs to the end in more than 4 GB`);
      view.setUint32(box.start, box.end - box.start);
    }
    if (box.type !== 'moof') continue;
    const mfhd = onlyChild(segment, box, 'mfhd');
    fullBoxVersion(segment, mfhd, 4);
    view.setUint32(mfhd.payload + 4, sequenceNumber);
    sequenceNumber += 1;
    const trafs = childrenOf(segment, box).filter((child) => child.type === 'traf');
    if (trafs.length !== 1) throw new Mp4BoxError(`moof at offset ${box.start} has ${trafs.length} track fragments, expected one`);
    const traf = trafs[0]!;
    const tfhd = onlyChild(segment, traf, 'tfhd');
    const { flags } = fullBoxVersion(segment, tfhd, flags0x1(segment, tfhd) ? 12 : 4);
    const trackId = view.getUint32(tfhd.payload + 4);
    if (trackId !== options.sourceTrackId) throw new Mp4BoxError(`moof at offset ${box.start} is for track ${trackId}, not the init segment's ${options.sourceTrackId}`);
    view.setUint32(tfhd.payload + 4, options.trackId);
    if (flags & TFHD_BASE_DATA_OFFSET) {
      // An absolute offset into the segment as stored: it now starts `fileOffset` bytes later.
      const moved = view.getBigUint64(tfhd.payload + 8) + BigInt(options.fileOffset);
      view.setBigUint64(tfhd.payload + 8, moved);
    }
    const tfdt = childrenOf(segment, traf).find((child) => child.type === 'tfdt');
    const shift = options.decodeTimeShift ?? 0;
    let decodeTime: number | undefined;
    if (tfdt) {
      const { version } = fullBoxVersion(segment, tfdt, segment[tfdt.payload] === 1 ? 8 : 4);
      decodeTime = (version === 1 ? Number(view.getBigUint64(tfdt.payload + 4)) : view.getUint32(tfdt.payload + 4)) + shift;
      if (decodeTime < 0 || decodeTime > Number.MAX_SAFE_INTEGER || (version === 0 && decodeTime > 0xffffffff)) {
        throw new Mp4BoxError(`moof at offset ${box.start}: decode time ${decodeTime} does not fit its tfdt`);
      }
      if (version === 1) view.setBigUint64(tfdt.payload + 4, BigInt(decodeTime));
      else view.setUint32(tfdt.payload + 4, decodeTime);
    } else if (shift !== 0) {
      throw new Mp4BoxError(`moof at offset ${box.start} has no tfdt to move onto the recording's timeline`);
    }
    fragments.push({ fileOffset: options.fileOffset + box.start, decodeTime });
  }
  if (fragments.length === 0) throw new Mp4BoxError('a media segment without a moof');
  return { fragments, nextSequenceNumber: sequenceNumber };
}

function flags0x1(segment: Uint8Array, tfhd: { payload: number; end: number }): boolean {
  return tfhd.end - tfhd.payload >= 4 && (segment[tfhd.payload + 3]! & TFHD_BASE_DATA_OFFSET) !== 0;
}

/** The decode time (tfdt) of the segment's first fragment as stored; undefined without one. */
export function firstDecodeTime(segment: Uint8Array): number | undefined {
  const moof = readBoxes(segment, 0, segment.length).find((box) => box.type === 'moof');
  if (!moof) throw new Mp4BoxError('a media segment without a moof');
  const traf = onlyChild(segment, moof, 'traf');
  const tfdt = childrenOf(segment, traf).find((child) => child.type === 'tfdt');
  if (!tfdt) return undefined;
  const { version } = fullBoxVersion(segment, tfdt, segment[tfdt.payload] === 1 ? 8 : 4);
  return version === 1 ? Number(dataView(segment).getBigUint64(tfdt.payload + 4)) : dataView(segment).getUint32(tfdt.payload + 4);
}
