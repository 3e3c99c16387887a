/**
 * A segment's EXT-X-PROGRAM-DATE-TIME and EXTINF as the playlists list them: both whole
 * milliseconds, read off one millisecond clock of the session's media time, so that a segment's
 * date plus its EXTINF is exactly the next segment's date. Players that place segments by their
 * dates check them against the sum of the durations before: Shaka Player 5.2 moves a segment to
 * its date when the two disagree by a millisecond or more. Each rounded on its own (the date from
 * the wall clock, the EXTINF to the nearest millisecond), they disagreed by a millisecond at about
 * one segment boundary in three (48 kHz audio segments of 2.00533 s listed 2.005, dated 2.006
 * apart); the same segment then came out a millisecond or two apart in two playlist updates, both
 * references stayed in Shaka's segment index, every position after them shifted by one, and Shaka
 * skipped the rest of the segment it was fetching and the first part of the next: a 2 s hole and a
 * stall (the player matrix's Shaka rows, one run in five). A segment the edge lists from its parts
 * before the sidecar's playlist does gets the EXTINF the sidecar will store (part-group.ts).
 */

export interface SegmentClock {
  /** Epoch milliseconds, a whole number. */
  programDateTime: number;
  /** Seconds, a whole number of milliseconds: the next segment's date minus this one's. */
  duration: number;
}

/**
 * `anchorMs`: epoch milliseconds of the session's media time zero; `startTicks`, `durationTicks`:
 * the segment's media time in `timescale` units. The same ticks always give the same milliseconds
 * (integer arithmetic up to one division), so where one segment ends the next one starts.
 */
export function segmentClock(anchorMs: number, startTicks: number, durationTicks: number, timescale: number): SegmentClock {
  const base = Math.round(anchorMs);
  const startMs = mediaMilliseconds(startTicks, timescale);
  const endMs = mediaMilliseconds(startTicks + durationTicks, timescale);
  return { programDateTime: base + startMs, duration: (endMs - startMs) / 1000 };
}

/** Media time `ticks` in whole milliseconds: the one rounding both the sidecar's dates and the edge's closed segments use. */
export function mediaMilliseconds(ticks: number, timescale: number): number {
  return Math.round((ticks * 1000) / timescale);
}

/**
 * The date of the segment after one dated `programDateTime` lasting `durationSeconds`: whole
 * milliseconds, as every date is (a float sum would be truncated when printed, 2004.9999 ms as 2004).
 */
export function dateAfter(programDateTime: number, durationSeconds: number): number {
  return Math.round(programDateTime + durationSeconds * 1000);
}
