/**
 * When a stream may make its next thumbnail, sidecar-wide: one per stream per interval, at most
 * one at a time per stream, and a bounded number at once across the sidecar (a stream that finds
 * every slot taken skips this keyframe and asks again a little later). Pure: the clock is given.
 */

export interface ThumbnailSchedulerOptions {
  intervalMs: number;
  /** Thumbnail processes at once across the sidecar. */
  maxConcurrent: number;
  /** How long a stream turned away (every slot busy) waits before it asks again, milliseconds. */
  retryMs: number;
  now: () => number;
}

export class ThumbnailScheduler {
  private readonly options: ThumbnailSchedulerOptions;
  /** Per stream: when its next thumbnail is due (epoch ms). Absent: due now. */
  private readonly nextDue = new Map<string, number>();
  private readonly running = new Set<string>();

  constructor(options: ThumbnailSchedulerOptions) {
    this.options = options;
  }

  /** Whether a keyframe of this stream should become a thumbnail now (cheap: asked for every keyframe). */
  isDue(playbackId: string): boolean {
    return !this.running.has(playbackId) && this.options.now() >= (this.nextDue.get(playbackId) ?? 0);
  }

  /** Takes a slot for this stream; false (and the stream asks again after `retryMs`) when it is not due or no slot is free. */
  begin(playbackId: string): boolean {
    if (!this.isDue(playbackId)) return false;
    const now = this.options.now();
    if (this.running.size >= this.options.maxConcurrent) {
      this.nextDue.set(playbackId, now + this.options.retryMs);
      return false;
    }
    this.running.add(playbackId);
    // Counted from the start: a slow thumbnail does not push the next one later.
    this.nextDue.set(playbackId, now + this.options.intervalMs);
    return true;
  }

  /** Gives the slot back (whether the thumbnail was made or not). */
  end(playbackId: string): void {
    this.running.delete(playbackId);
  }

  /** The stream ended: nothing kept for it. */
  forget(playbackId: string): void {
    this.nextDue.delete(playbackId);
  }

  get busy(): number {
    return this.running.size;
  }
}
