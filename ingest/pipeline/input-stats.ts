/**
 * What a stream's operator sees of its input over the last seconds: bits a second from the
 * publisher, frames a second and media seconds packaged a second (1 = real time) of the one video
 * rendition that stands for the source.
 */
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { RateWindow } from './rate-window.ts';
import type { MediaRun } from './media-run.ts';

const STATS_WINDOW_MS = 10_000;

export interface InputRates {
  inputBitsPerSecond: number;
  inputFramesPerSecond: number;
  /** Media seconds packaged per wall-clock second (1 = keeping up with real time). */
  encodeSpeed: number;
}

export class InputStats {
  private readonly bytes = new RateWindow(STATS_WINDOW_MS);
  private readonly frames = new RateWindow(STATS_WINDOW_MS);
  private readonly mediaSeconds = new RateWindow(STATS_WINDOW_MS);

  received(bytes: number, now: number): void {
    this.bytes.add(bytes, now);
  }

  /**
   * A run's chunk or segment counts when it is of the reference video track: every rung carries
   * each of the source's frames (scaled, never resampled), so counting them all reported 90 fps
   * for a 30 fps source.
   */
  packaged(run: MediaRun, renditions: readonly Rendition[], track: CmafTrack, what: { frames: number } | { seconds: number }, now: number): void {
    if (track !== referenceVideoTrack(run, renditions)) return;
    if ('frames' in what) this.frames.add(what.frames, now);
    else this.mediaSeconds.add(what.seconds, now);
  }

  rates(now: number, since: number): InputRates {
    return {
      inputBitsPerSecond: Math.round(this.bytes.perSecond(now, since) * 8),
      inputFramesPerSecond: Math.round(this.frames.perSecond(now, since) * 100) / 100,
      encodeSpeed: Math.round(this.mediaSeconds.perSecond(now, since) * 100) / 100,
    };
  }
}

/** The run's track of its first video rendition (the source's picture size), once its init segment is in. */
function referenceVideoTrack(run: MediaRun, renditions: readonly Rendition[]): CmafTrack | undefined {
  for (const rendition of renditions) {
    const track = run.tracks.get(rendition.name);
    if (track?.kind === 'video') return track;
  }
  return undefined;
}
