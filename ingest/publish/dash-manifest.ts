/** The DASH view of a stream's live windows: one Period per session, in wall-clock order. Pure. */
import type { DashAdaptationSet, DashManifest, DashPeriod } from '../../shared/dash/mpd.ts';
import { initSegmentFile } from '../../shared/storage/layout.ts';
import { TIME_PATH } from '../../shared/time-api.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';

export interface WindowSegment {
  session: string;
  /** Media time of the first sample, track timescale. */
  time: number;
  /** Duration in track timescale units. */
  ticks: number;
  /** Ingest wall clock of the first sample, epoch milliseconds. */
  programDateTime: number;
}

export interface RenditionWindow {
  name: string;
  kind: 'video' | 'audio';
  bandwidth: number;
  frameRate?: number;
  /** The track of each session (from its init segment). */
  tracks: ReadonlyMap<string, CmafTrack>;
  segments: readonly WindowSegment[];
}

export interface DashManifestOptions {
  /**
   * Per session, the wall clock at its media time zero (epoch ms): a Period's start. It must be
   * the same in every version of the MPD, whatever part of the session the window still holds.
   */
  sessionClocks: ReadonlyMap<string, number>;
  ended: boolean;
  /** `wall-clock` for the live stream's MPD (also once ended), `first-period` for a recording (see DashManifest). */
  timeline: DashManifest['timeline'];
  now: number;
  /** Seconds. */
  targetDuration: number;
  windowSeconds: number;
}

export function buildDashManifest(renditions: readonly RenditionWindow[], options: DashManifestOptions): DashManifest {
  // Sessions in the order their media was ingested; a Period starts at its session's media time zero.
  const sessions = new Map<string, number>();
  for (const rendition of renditions) {
    for (const segment of rendition.segments) {
      const clock = options.sessionClocks.get(segment.session);
      if (!sessions.has(segment.session) && clock !== undefined && rendition.tracks.has(segment.session)) sessions.set(segment.session, clock);
    }
  }
  const periods: DashPeriod[] = [];
  let previousEnd = 0;
  for (const [session, firstWallClock] of [...sessions].sort((a, b) => a[1] - b[1])) {
    // Periods never overlap, even when a restarted encoder's clock says a little earlier.
    const startMs = Math.max(firstWallClock, previousEnd);
    const sets = new Map<'video' | 'audio', DashAdaptationSet>();
    for (const rendition of renditions) {
      const track = rendition.tracks.get(session);
      const segments = rendition.segments.filter((segment) => segment.session === session);
      if (!track || segments.length === 0) continue;
      const last = segments.at(-1)!;
      // The media time shown at the Period start (0, unless the Period had to start later than its clock).
      const presentationTimeOffset = Math.max(0, Math.round(((startMs - firstWallClock) / 1000) * track.timescale));
      let set = sets.get(rendition.kind);
      if (!set) sets.set(rendition.kind, (set = { contentType: rendition.kind, representations: [] }));
      set.representations.push({
        id: rendition.name,
        bandwidth: rendition.bandwidth,
        codecs: track.codec,
        width: track.width,
        height: track.height,
        frameRate: rendition.frameRate,
        audioSamplingRate: track.sampleRate,
        channels: track.channels,
        timescale: track.timescale,
        presentationTimeOffset,
        initialization: `${rendition.name}/${initSegmentFile(session)}`,
        media: `${rendition.name}/${session}-$Time$.m4s`,
        segments: segments.map((segment) => ({ time: segment.time, duration: segment.ticks })),
      });
      previousEnd = Math.max(previousEnd, startMs + ((last.time + last.ticks - presentationTimeOffset) / track.timescale) * 1000);
    }
    if (sets.size > 0) periods.push({ id: session, start: startMs / 1000, adaptationSets: [...sets.values()] });
  }
  return {
    type: options.ended ? 'static' : 'dynamic',
    timeline: options.timeline,
    publishTime: options.now,
    minimumUpdatePeriod: options.targetDuration,
    timeShiftBufferDepth: options.windowSeconds,
    suggestedPresentationDelay: options.targetDuration * 3,
    maxSegmentDuration: options.targetDuration,
    minBufferTime: options.targetDuration * 2,
    // The edge serving the MPD serves its clock too (an absolute path: whatever host the MPD came from).
    timeUrl: TIME_PATH,
    periods,
  };
}
