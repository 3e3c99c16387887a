/**
 * The player page's way back to its target latency after a slow start or a stall: playing a
 * little faster, in place of hls.js's own catch-up. hls.js (its latency controller) speeds up
 * only while more than a second is buffered ahead; a low-latency viewer near its target never
 * has that much (at a PART-HOLD-BACK of 0.6 s about half a second is buffered), so hls.js leaves
 * it wherever start-up put it, a second or more late. This one uses hls.js's curve (the rate
 * grows with the distance from the target, up to the page's 1.5x) but needs only a few tenths
 * of a second ahead: enough to play on while the rate is above 1. No seeking (a seek while
 * playing shows as a wait); the target is hls.js's (PART-HOLD-BACK, raised by its stalls).
 */

/** What the page reads from hls.js (its `Hls` instance). */
export interface LiveLatencySource {
  /** Seconds behind hls.js's estimate of the live edge. */
  readonly latency: number;
  /** Seconds behind the live edge hls.js aims for (PART-HOLD-BACK in low-latency mode, raised by stalls). */
  readonly targetLatency: number | null;
  /** The playlist last loaded: only a live one (no EXT-X-ENDLIST) has an edge to catch up with. */
  readonly latestLevelDetails: { readonly live: boolean } | null;
}

/** The video element as far as this module uses it (structural: the benchmark type-checks it without the DOM's types). */
export interface LiveVideo {
  playbackRate: number;
  readonly currentTime: number;
  readonly seeking: boolean;
  readonly paused: boolean;
  readonly buffered: { readonly length: number; start(index: number): number; end(index: number): number };
  addEventListener(type: 'timeupdate', listener: () => void): void;
}

export interface CatchUpState {
  latency: number;
  targetLatency: number | null;
  /** Seconds buffered ahead of the playhead, in its range. */
  forwardBuffer: number;
  maxRate: number;
}

/**
 * The playback rate: 1 within 50 ms of the target (or earlier than it, or with under 0.3 s
 * buffered ahead: playing faster would run into the end of the buffer), otherwise hls.js's
 * curve, 2 / (1 + e^(-0.75 * distance)) in steps of 0.05 (1.05 at 0.1 s late, 1.2 at 0.5 s,
 * 1.35 at 1 s), at most `maxRate`.
 */
export function catchUpRate(state: CatchUpState): number {
  const minForwardBuffer = 0.3;
  if (state.targetLatency === null || !Number.isFinite(state.latency) || state.forwardBuffer < minForwardBuffer) return 1;
  const distance = state.latency - state.targetLatency;
  if (!(distance > 0.05)) return 1;
  const rate = Math.round((2 / (1 + Math.exp(-0.75 * distance))) * 20) / 20;
  return Math.min(state.maxRate, Math.max(1, rate));
}

/**
 * Sets the video's rate on every `timeupdate` (a few times a second). Uses nothing from outside
 * its body but `catchUpRate`: the latency benchmark's measuring page runs both from their source
 * text, as the player page does. hls.js's own catch-up must be off (`maxLiveSyncPlaybackRate: 1`).
 */
export function catchUpWithLive(hls: LiveLatencySource, video: LiveVideo, maxRate: number): void {
  video.addEventListener('timeupdate', () => {
    if (video.paused || video.seeking) return;
    let forwardBuffer = 0;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= video.currentTime && video.currentTime <= video.buffered.end(i)) forwardBuffer = video.buffered.end(i) - video.currentTime;
    }
    // A recording (or a stream that ended) plays at 1: hls.js's latency there is the time left to its end.
    const rate = hls.latestLevelDetails?.live ? catchUpRate({ latency: hls.latency, targetLatency: hls.targetLatency, forwardBuffer, maxRate }) : 1;
    if (video.playbackRate !== rate) video.playbackRate = rate;
  });
}
