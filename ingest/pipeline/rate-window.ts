/** Sums of values over a sliding time window: input bitrate, frame rate, encode speed. */

export class RateWindow {
  private readonly samples: { at: number; value: number }[] = [];
  private readonly windowMs: number;

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  add(value: number, at: number): void {
    this.samples.push({ at, value });
    this.trim(at);
  }

  /** Sum of the window's values per second, over the window (or the time since the first sample, if shorter). */
  perSecond(now: number, startedAt: number): number {
    this.trim(now);
    const span = Math.min(this.windowMs, now - startedAt);
    if (span <= 0) return 0;
    let sum = 0;
    for (const sample of this.samples) sum += sample.value;
    return (sum * 1000) / span;
  }

  private trim(now: number): void {
    while (this.samples.length > 0 && this.samples[0]!.at < now - this.windowMs) this.samples.shift();
  }
}
