/**
 * Sums of values over a sliding time window: input bitrate, frame rate, encode speed.
 *
 * Added to for every FLV tag of every stream (~80 a second each), so adding is O(1) amortised:
 * samples live in two parallel number arrays read from a head index, compacted now and then.
 * (An array of objects trimmed with shift() was ~10 % of a busy sidecar's CPU.)
 */

// The dropped head is cut off once it is this long and at least half of the arrays.
const COMPACT_AFTER = 256;

export class RateWindow {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;
  /** Sum of the values from `head` on. */
  private sum = 0;
  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  add(value: number, at: number): void {
    this.times.push(at);
    this.values.push(value);
    this.sum += value;
    this.trim(at);
  }

  /** Sum of the window's values per second, over the window (or the time since the first sample, if shorter). */
  perSecond(now: number, startedAt: number): number {
    this.trim(now);
    const span = Math.min(this.windowMs, now - startedAt);
    if (span <= 0) return 0;
    return (this.sum * 1000) / span;
  }

  private trim(now: number): void {
    const oldest = now - this.windowMs;
    while (this.head < this.times.length && this.times[this.head]! < oldest) {
      this.sum -= this.values[this.head]!;
      this.head += 1;
    }
    if (this.head === this.times.length) {
      // Empty: start over (and drop any rounding the running sum gathered).
      this.times = [];
      this.values = [];
      this.head = 0;
      this.sum = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
      this.sum = this.values.reduce((total, value) => total + value, 0);
    }
  }
}
