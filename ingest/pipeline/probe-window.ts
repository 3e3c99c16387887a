/**
 * The start of each run: the publisher's first seconds are held and read (SourceProbe) until they
 * show what the run must make, or until a wall-clock limit; then they are handed over once. The
 * limit counts from the first frame: a publisher whose frames are slow to begin (a starved
 * machine, a reconnect storm) is waited for, up to `noMediaLimitMs`, and not judged on nothing.
 */
import { SourceProbe } from '../media/source-probe.ts';
import type { SourceFacts } from '../transcode/ladder.ts';

// How much beyond one segment of media, and how long in wall time, a probe waits for a second
// keyframe; and the most it buffers meanwhile.
const PROBE_EXTRA_MEDIA_SECONDS = 0.2;
const PROBE_WALL_EXTRA_MS = 3_000;
const PROBE_MAX_BYTES = 32 * 1024 * 1024;

export class ProbeWindow {
  private readonly targetSegmentDuration: number;
  private readonly noMediaLimitMs: number;
  private readonly onSettled: (probe: SourceProbe, facts: SourceFacts) => void;
  private probe: SourceProbe | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sawFirstFrame = false;

  /**
   * `onSettled`: the probe's facts are known (or its time ran out); the window is closed by then.
   * `noMediaLimitMs`: how long a probe that has seen no frame at all waits before it settles on nothing.
   */
  constructor(options: { targetSegmentDuration: number; noMediaLimitMs: number }, onSettled: (probe: SourceProbe, facts: SourceFacts) => void) {
    this.targetSegmentDuration = options.targetSegmentDuration;
    this.noMediaLimitMs = options.noMediaLimitMs;
    this.onSettled = onSettled;
  }

  /** Whether a probe is reading the publisher's bytes now. */
  get open(): boolean {
    return this.probe !== undefined;
  }

  /** Starts a new probe (one already open is dropped). */
  begin(): void {
    this.close();
    const probe = new SourceProbe({ maxMediaSeconds: this.targetSegmentDuration + PROBE_EXTRA_MEDIA_SECONDS, maxBytes: PROBE_MAX_BYTES });
    this.probe = probe;
    this.sawFirstFrame = false;
    // Until a frame arrives, the wait for one; the frame re-arms it with the wall-clock limit.
    this.settleAfter(probe, this.noMediaLimitMs);
  }

  /** Settles `probe` with the facts it has after `ms`, unless it settles before (replaces the wait set before). */
  private settleAfter(probe: SourceProbe, ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(probe, probe.facts()), ms);
  }

  /** False when no probe is open (the bytes are the run's). */
  push(flv: Buffer, now: number): boolean {
    const probe = this.probe;
    if (!probe) return false;
    const facts = probe.push(flv, now);
    if (facts) {
      this.settle(probe, facts);
    } else if (!this.sawFirstFrame && probe.sawMedia) {
      this.sawFirstFrame = true;
      this.settleAfter(probe, this.targetSegmentDuration * 1000 + PROBE_WALL_EXTRA_MS);
    }
    return true;
  }

  close(): void {
    clearTimeout(this.timer);
    this.probe = undefined;
  }

  private settle(probe: SourceProbe, facts: SourceFacts): void {
    if (this.probe !== probe) return;
    this.close();
    this.onSettled(probe, facts);
  }
}
