/**
 * The movie fragment random access box (`mfra`: one `tfra` + `mfro`) closing a fragmented MP4:
 * where each sync point's moof is, so a player seeking in a downloaded file need not scan every
 * fragment. Its size depends only on the number of entries, so it is known before the
 * fragments are read. Pure and runtime-neutral.
 */
import { dataView } from './box-reader.ts';

export interface RandomAccessEntry {
  /** Decode time of the moof's first sample, track timescale. */
  time: number;
  /** The moof's offset in the file. */
  moofOffset: number;
}

// tfra version 1 (64-bit time and offset) with 1-byte traf, trun and sample numbers.
const TFRA_FIXED = 8 + 4 + 4 + 4 + 4;
const TFRA_ENTRY = 8 + 8 + 1 + 1 + 1;
const MFRO = 16;

export function randomAccessIndexSize(entries: number): number {
  return 8 + TFRA_FIXED + entries * TFRA_ENTRY + MFRO;
}

/** `mfra` for one track; each entry points at the first sample of the first traf and trun of its moof. */
export function writeRandomAccessIndex(trackId: number, entries: readonly RandomAccessEntry[]): Uint8Array {
  const size = randomAccessIndexSize(entries.length);
  const out = new Uint8Array(size);
  const view = dataView(out);
  const boxHeader = (at: number, boxSize: number, type: string) => {
    view.setUint32(at, boxSize);
    for (let index = 0; index < 4; index += 1) out[at + 4 + index] = type.charCodeAt(index);
  };
  boxHeader(0, size, 'mfra');
  const tfraSize = TFRA_FIXED + entries.length * TFRA_ENTRY;
  boxHeader(8, tfraSize, 'tfra');
  view.setUint32(16, 0x01000000);
  view.setUint32(20, trackId);
  view.setUint32(24, 0);
  view.setUint32(28, entries.length);
  let at = 32;
  for (const entry of entries) {
    view.setBigUint64(at, BigInt(entry.time));
    view.setBigUint64(at + 8, BigInt(entry.moofOffset));
    out[at + 16] = 1;
    out[at + 17] = 1;
    out[at + 18] = 1;
    at += TFRA_ENTRY;
  }
  boxHeader(at, MFRO, 'mfro');
  view.setUint32(at + 8, 0);
  view.setUint32(at + 12, size);
  return out;
}
