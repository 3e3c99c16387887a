/** Every sample of a CMAF chunk (moof+mdat), read independently of the writer: for round trips. */
import { findBox, findBoxes, fullBoxHeader, view } from '../../ingest/package/mp4-boxes.ts';

export interface ReadSample {
  decodeTime: number;
  duration: number;
  compositionOffset: number;
  sync: boolean;
  data: Uint8Array;
}

/** `chunk` is one moof followed by its mdat; default-base-is-moof, one traf, one trun. */
export function readChunkSamples(chunk: Uint8Array): { sequenceNumber: number; trunVersion: number; samples: ReadSample[] } {
  const data = view(chunk);
  const moof = findBox(chunk, ['moof'])!;
  const mfhd = findBox(chunk, ['mfhd'], moof.payload, moof.end)!;
  const traf = findBox(chunk, ['traf'], moof.payload, moof.end)!;
  const tfhd = findBox(chunk, ['tfhd'], traf.payload, traf.end)!;
  if ((fullBoxHeader(chunk, tfhd).flags & 0x020000) === 0) throw new Error('tfhd without default-base-is-moof');
  const tfdt = findBox(chunk, ['tfdt'], traf.payload, traf.end)!;
  let decodeTime = fullBoxHeader(chunk, tfdt).version === 1 ? Number(data.getBigUint64(tfdt.payload + 4)) : data.getUint32(tfdt.payload + 4);
  const [trun, ...more] = findBoxes(chunk, 'trun', traf.payload, traf.end);
  if (!trun || more.length > 0) throw new Error('expected one trun');
  const { version, flags } = fullBoxHeader(chunk, trun);
  const count = data.getUint32(trun.payload + 4);
  let cursor = trun.payload + 8;
  let dataOffset = moof.start;
  if (flags & 0x1) {
    dataOffset += data.getInt32(cursor);
    cursor += 4;
  }
  const firstFlags = flags & 0x4 ? data.getUint32(cursor) : undefined;
  if (flags & 0x4) cursor += 4;
  const samples: ReadSample[] = [];
  for (let i = 0; i < count; i++) {
    const duration = flags & 0x100 ? data.getUint32((cursor += 4) - 4) : 0;
    const size = flags & 0x200 ? data.getUint32((cursor += 4) - 4) : 0;
    let sampleFlags = flags & 0x400 ? data.getUint32((cursor += 4) - 4) : 0;
    if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
    const compositionOffset = flags & 0x800 ? (version === 1 ? data.getInt32((cursor += 4) - 4) : data.getUint32((cursor += 4) - 4)) : 0;
    samples.push({ decodeTime, duration, compositionOffset, sync: (sampleFlags & 0x10000) === 0, data: chunk.subarray(dataOffset, dataOffset + size) });
    decodeTime += duration;
    dataOffset += size;
  }
  if (dataOffset !== chunk.length) throw new Error(`samples end at ${dataOffset}, the chunk at ${chunk.length}`);
  return { sequenceNumber: data.getUint32(mfhd.payload + 4), trunVersion: version, samples };
}
