/**
 * Watches a live media playlist in a storage folder (`--storage fs`) and notes when each new
 * segment appears: whether a live stream keeps producing, and its longest pause.
 */
import { readFileSync } from 'node:fs';

export class SegmentWatch {
  private readonly playlistFile: string;
  private readonly timer: NodeJS.Timeout;
  /** Media sequence number of the newest segment seen; undefined before the playlist exists. */
  private newest: number | undefined;
  private readonly arrivals: number[] = [];

  constructor(playlistFile: string, pollMs = 200) {
    this.playlistFile = playlistFile;
    this.timer = setInterval(() => this.poll(), pollMs);
  }

  /** Segments seen so far. */
  get segments(): number {
    return this.arrivals.length;
  }

  /** Segments that appeared since `since` (performance.now() milliseconds). */
  segmentsSince(since: number): number {
    return this.arrivals.filter((time) => time >= since).length;
  }

  /** The longest wait for a next segment since `since` (the wait still running counts too). */
  longestGapMs(since = 0): number {
    const times = [since, ...this.arrivals.filter((time) => time > since), performance.now()];
    let longest = 0;
    for (let index = 1; index < times.length; index++) longest = Math.max(longest, times[index]! - times[index - 1]!);
    return longest;
  }

  /** Milliseconds since the newest segment appeared (Infinity before the first). */
  get quietMs(): number {
    const last = this.arrivals.at(-1);
    return last === undefined ? Number.POSITIVE_INFINITY : performance.now() - last;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    let text: string;
    try {
      text = readFileSync(this.playlistFile, 'utf8');
    } catch {
      return; // Not written yet.
    }
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
    const count = text.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
    const newest = sequence + count - 1;
    // At first sight, what the playlist lists counts as new (a watch starts before its stream).
    this.newest ??= sequence - 1;
    const now = performance.now();
    // Several may appear between two polls: each counts, at this poll's time.
    while (this.newest < newest) {
      this.newest += 1;
      this.arrivals.push(now);
    }
  }
}
