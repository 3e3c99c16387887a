/**
 * Structurally valid single-track CMAF (init segment, and media segments of moof+mdat) with
 * made-up sample bytes, for tests that run where ffmpeg cannot (inside workerd): enough for
 * box-level handling, not for decoding. No Node APIs.
 */

const text = new TextEncoder();

function box(type: string, ...content: Uint8Array[]): Uint8Array {
  const size = 8 + content.reduce((sum, piece) => sum + piece.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(text.encode(type), 4);
  let at = 8;
  for (const piece of content) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, index) => new DataView(out.buffer).setUint32(index * 4, value >>> 0));
  return out;
}

/** An init segment of one track (id 1) of `handler` (`vide`/`soun`) with `timescale`. */
export function syntheticInit(handler: 'vide' | 'soun', timescale: number): Uint8Array {
  const mvhd = box('mvhd', words(0, 0, 0, 1000, 0, 0x00010000), new Uint8Array(2 + 10 + 36 + 24), words(2));
  const tkhd = box('tkhd', words(3, 0, 0, 1, 0, 0), new Uint8Array(60));
  const mdhd = box('mdhd', words(0, 0, 0, timescale, 0, 0x55c40000));
  const hdlr = box('hdlr', words(0, 0), text.encode(handler), new Uint8Array(13));
  const stsd = box('stsd', words(0, 1), box(handler === 'vide' ? 'avc1' : 'mp4a', new Uint8Array(16)));
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, box('minf', box('stbl', stsd))));
  const trex = box('trex', words(0, 1, 1, 0, 0, 0));
  return Uint8Array.from([...box('ftyp', text.encode('iso6'), words(0), text.encode('cmfc')), ...box('moov', mvhd, trak, box('mvex', trex))]);
}

/** A media segment of `fragments` moof+mdat pairs starting at `decodeTime`, each sample `sampleDuration` long with `payload` bytes. */
export function syntheticSegment(decodeTime: number, fragments: number, sampleDuration: number, payload: (fragment: number) => Uint8Array): Uint8Array {
  const pieces: Uint8Array[] = [];
  for (let fragment = 0; fragment < fragments; fragment += 1) {
    const data = payload(fragment);
    const tfhd = box('tfhd', words(0x020000, 1));
    const tfdt = box('tfdt', words(0x01000000, 0, decodeTime + fragment * sampleDuration));
    // One sample: data offset, duration, size.
    const trunBytes = 8 + 4 + 4 + 4 + 8;
    const moofBytes = 8 + 16 + 8 + tfhd.length + tfdt.length + trunBytes;
    const trun = box('trun', words(0x000301, 1, moofBytes + 8, sampleDuration, data.length));
    pieces.push(box('moof', box('mfhd', words(0, fragment + 1)), box('traf', tfhd, tfdt, trun)), box('mdat', data));
  }
  return Uint8Array.from(pieces.flatMap((piece) => [...piece]));
}
