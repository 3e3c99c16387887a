/**
 * A complaint that can come many times a second (every write during a storage outage) said at
 * most once per interval, with how many of it were held back since: the log shows an outage and
 * its size, not one line per request for as long as it lasts.
 */
export class LogThrottle {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private lastSaidAt = Number.NEGATIVE_INFINITY;
  private heldBack = 0;

  constructor(intervalMs: number, now: () => number = () => Date.now()) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** The line to log now (with the count held back since the last), or undefined within the interval. */
  say(line: string): string | undefined {
    const now = this.now();
    if (now - this.lastSaidAt < this.intervalMs) {
      this.heldBack += 1;
      return undefined;
    }
    const held = this.heldBack;
    this.lastSaidAt = now;
    this.heldBack = 0;
    return held > 0 ? `${line} (and ${held} more like it since the last such line)` : line;
  }
}
