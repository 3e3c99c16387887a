/**
 * Where one track's parts are written: one after the other into a buffer sized for the whole
 * segment, so the segment is a view of its parts' bytes (segmentOfChunks) rather than a copy of
 * them. Joining them was a second copy of every byte of media, made in buffers of a segment's size
 * (hundreds of kB), the allocations that most often set off V8's full collections in a busy sidecar.
 *
 * The buffer is sized after the previous segment with room to spare; a part that does not fit
 * starts another buffer, and that segment is joined by copying, as before. A part is a view of the
 * buffer: the buffer lives as long as any of its parts or its segment is held.
 */

/** Room a segment's buffer leaves over the previous segment's size. */
const HEADROOM = 1.25;
const MIN_BYTES = 64 * 1024;

export class SegmentArena {
  private buffer: Uint8Array | undefined;
  private used = 0;
  private expected = MIN_BYTES;

  /** `size` bytes right after the segment's previous part (or at the start of a new buffer), to be written whole. */
  take(size: number): Uint8Array {
    if (!this.buffer || this.used + size > this.buffer.length) {
      // A part that does not fit: the next segments get more room.
      if (this.buffer) this.expected = Math.ceil(this.expected * HEADROOM);
      // Every byte handed out is written by its taker: not zero-filled first; its own ArrayBuffer.
      const length = Math.max(this.expected, size);
      this.buffer = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
      this.used = 0;
    }
    const view = this.buffer.subarray(this.used, this.used + size);
    this.used += size;
    return view;
  }

  /** The segment is complete (`bytes` long): the next part starts the next segment's buffer. */
  endSegment(bytes: number): void {
    this.expected = Math.max(MIN_BYTES, Math.ceil(bytes * HEADROOM));
    this.buffer = undefined;
    this.used = 0;
  }
}
