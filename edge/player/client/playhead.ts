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

/** How long a playhead may stand still inside buffered media before the page moves it. */
export const STUCK_PLAYHEAD_SECONDS = 4;

/**
 * Where to move a playhead stuck inside buffered media: not paused, not seeking, not moved for
 * STUCK_PLAYHEAD_SECONDS, a second or more buffered ahead of it (so not a player waiting for
 * data) and a later buffered range to go to; undefined: leave it. Seen with dash.js 5.2 across
 * a Period whose picture size or rendition changed: it starts preloading the next Period once
 * the last segment is fetched, not appended, so that segment can land after the new init
 * segment, cannot be decoded, and the video waits in front of it for good with media buffered on
 * both sides. The viewer loses the rest of that range, not the stream.
 */
export function stuckPlayheadTarget(
  video: { paused: boolean; seeking: boolean; currentTime: number },
  buffered: Ranges,
  stillSeconds: number,
): number | undefined {
  if (video.paused || video.seeking || stillSeconds < STUCK_PLAYHEAD_SECONDS) return undefined;
  if (bufferedAhead(buffered, video.currentTime) < 1) return undefined;
  for (let i = 0; i < buffered.length; i++) {
    if (buffered.start(i) > video.currentTime + 0.1) return buffered.start(i);
  }
  return undefined;
}
