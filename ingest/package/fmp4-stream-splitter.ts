/** Splits a fragmented MP4 byte stream, arriving in arbitrary pieces, into complete top-level boxes. */
import { concatBytes } from './bytes.ts';
import { readBoxHeader } from './mp4-boxes.ts';

export interface TopLevelBox {
  type: string;
  bytes: Uint8Array;
}

export class Fmp4StreamSplitter {
  private pending: Uint8Array = new Uint8Array(0);

  /** Feeds bytes; returns every box they complete, in stream order. */
  push(piece: Uint8Array): TopLevelBox[] {
    this.pending = this.pending.length === 0 ? piece : concatBytes([this.pending, piece]);
    const boxes: TopLevelBox[] = [];
    let offset = 0;
    for (;;) {
      const header = readBoxHeader(this.pending, offset);
      if (!header || header.end > this.pending.length) break;
      boxes.push({ type: header.type, bytes: this.pending.subarray(header.start, header.end) });
      offset = header.end;
    }
    this.pending = this.pending.subarray(offset);
    return boxes;
  }

  /** Bytes of an incomplete box still waiting for the rest of it. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}

