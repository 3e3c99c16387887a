/** Playhead arithmetic of the player page, on plain numbers (the video element's state passed in). Pure. */

/** The video element's buffered ranges, as the DOM's TimeRanges offers them. */
export interface Ranges {
  readonly length: number;
  start(index: number): number;
  end(index: number): number;
}

/** Seconds buffered ahead of the playhead, in the range it is in (0 when it is in none). */
export function bufferedAhead(buffered: Ranges, currentTime: number): number {
  for (let i = 0; i < buffered.length; i++) {
    if (buffered.start(i) <= currentTime + 0.1 && currentTime <= buffered.end(i)) return buffered.end(i) - currentTime;
  }
  return 0;
}

/**
 * Seconds of media watched in one step of the playhead: the step itself in normal playback, 0
 * for a jump (a seek, a player catching up with live, a gap skipped), which is not watching.
 * Not video.played: dash.js's first seek from 0 to the live edge (on the wall clock) counts as played.
 */
export function watchedStep(step: number, playing: { paused: boolean; seeking: boolean }): number {
  return !playing.paused && !playing.seeking && step > 0 && step < 2 ? step : 0;
}

/**
 * Whether an ended live stream has played out here: the video says it ended, or it is stuck at
 * the end of what is buffered, not paused, with the playhead where it was at the previous look
 * (seconds ago). An abruptly cut stream can end with one track longer than the other: the media
 * source's duration is then past the last video frame and the video waits there forever instead
 * of ending.
 */
export function playedOut(video: { ended: boolean; paused: boolean; currentTime: number }, ahead: number, previousTime: number): boolean {
  return video.ended || (!video.paused && ahead <= 0.5 && video.currentTime === previousTime);
}

/** How long a playhead may stand still before the page moves it. */
export const STILL_PLAYHEAD_SECONDS = 2;

/** How far the page nudges a playhead that stands still in front of buffered media (hls.js's own step). */
export const NUDGE_SECONDS = 0.1;

/** A DASH Period as the player sees it (dash.js: its active stream). */
export interface PeriodView {
  /** Seconds on the media timeline: where the next Period starts. */
  end: number;
  /** Every segment of the Period is in the buffer. */
  finishedBuffering: boolean;
  last: boolean;
}

export interface PlayheadMove {
  /** `nudge`: a step inside buffered media; `next-period`: from a played-out Period to the next one's start. */
  kind: 'nudge' | 'next-period';
  to: number;
}

/**
 * Where to move a dash.js playhead that stands still, not paused or seeking, for
 * STILL_PLAYHEAD_SECONDS; undefined: leave it.
 *
 * - With a second or more buffered ahead: a nudge of NUDGE_SECONDS. Chromium's video, run dry at
 *   the live edge, does not always start again when the next segment lands (readyState 2, the
 *   media buffered ahead of it); a seek starts it. hls.js nudges the same way; dash.js's own
 *   stall fix steps past the media as well, and at a publisher's gap that seek never ends.
 * - At the end of a Period that is all buffered and not the last: the next Period's start. Our
 *   Periods are publish sessions, so one can end seconds before the next starts (the publisher
 *   away, up to the reconnect window); dash.js crosses such a gap only under its small-gap limit
 *   (1.5 s) or into a next Period preloaded into the same media source, which the page turns off.
 */
export function stillPlayheadMove(
  video: { paused: boolean; seeking: boolean; currentTime: number },
  buffered: Ranges,
  stillSeconds: number,
  period: PeriodView | undefined,
): PlayheadMove | undefined {
  if (video.paused || video.seeking || stillSeconds < STILL_PLAYHEAD_SECONDS) return undefined;
  const ahead = bufferedAhead(buffered, video.currentTime);
  if (ahead >= 1) return { kind: 'nudge', to: video.currentTime + NUDGE_SECONDS };
  if (!period || period.last || !period.finishedBuffering || !(period.end > video.currentTime) || ahead > 0.5) return undefined;
  return { kind: 'next-period', to: period.end };
}
