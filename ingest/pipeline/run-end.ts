/**
 * Where a run's tracks end together (pure). When a run stops (its input ended, its ffmpeg died or
 * was killed as stalled), its tracks hold media up to different times: ffmpeg's pipes end a part
 * apart, and the source remuxed in-process runs ahead of what ffmpeg encoded. Ended each at its
 * own last frame, the shorter tracks would leave a hole before the next run's media (a player
 * buffers a video and an audio track side by side, and places the next run by its clock).
 *
 * The tracks that kept up (ending within `lagAllowance` seconds of the furthest) end at the
 * earliest of their ends; a track further behind (an encoder that stalled) is not waited for: it
 * ends where it stopped, and the segments it missed are listed as gaps (live-window.ts).
 */
export function commonRunEnd(ends: readonly number[], lagAllowance: number): number | undefined {
  if (ends.length === 0) return undefined;
  const furthest = Math.max(...ends);
  return Math.min(...ends.filter((end) => end >= furthest - lagAllowance));
}
