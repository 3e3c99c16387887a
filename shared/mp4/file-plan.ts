/**
 * Where everything lands in a recording's MP4 file, from the stored sizes and durations alone
 * (no segment read): the merged init, each media segment (interleaved by start time), the
 * closing index; each segment's first fragment sequence number; and where each session (a
 * reconnect's init segment and timeline) starts on its track. This is what lets the file be
 * served from any byte offset: a segment's rewritten bytes depend only on the plan and its own
 * bytes (and, for a later session, the first decode time of that session and of the first).
 * Pure and runtime-neutral.
 */

export interface PlannedTrack {
  segments: readonly { durationSeconds: number; bytes: number; init?: number }[];
}

export interface SegmentSlot {
  track: number;
  segment: number;
  /** Seconds from the track's start, summed from the stored durations. */
  start: number;
}

export interface PlannedSegment extends SegmentSlot {
  /** Its first byte's offset in the file. */
  offset: number;
  bytes: number;
  /** The sequence number its first fragment gets (its later fragments count on, below the next segment's). */
  firstSequenceNumber: number;
}

export interface FilePlan {
  segments: PlannedSegment[];
  /** Where the index (mfra) starts, and its length (0 without one). */
  indexOffset: number;
  indexLength: number;
  contentLength: number;
  /** Per track, per session (init index): the segment index its first segment has in the track, undefined if none. */
  sessionFirstSegment: (number | undefined)[][];
  /** Per track, per session: seconds from the track's start to that first segment, by the stored durations. */
  sessionStartSeconds: (number | undefined)[][];
}

/**
 * Fragments a segment may hold: sequence numbers are given per segment in blocks this large, so a
 * segment's do not depend on how many fragments the segments before it had (a byte range of
 * the file is made without reading them). Increasing is what ISO BMFF asks of them, not consecutive.
 */
export const FRAGMENTS_PER_SEGMENT = 1024;

/** Every segment of every track, ordered by start time (ties: the earlier track first). */
export function interleaveSegments(tracks: readonly { segments: readonly { durationSeconds: number }[] }[]): SegmentSlot[] {
  const slots: SegmentSlot[] = [];
  tracks.forEach((track, trackIndex) => {
    let start = 0;
    track.segments.forEach((segment, segmentIndex) => {
      slots.push({ track: trackIndex, segment: segmentIndex, start });
      start += segment.durationSeconds;
    });
  });
  return slots.sort((a, b) => a.start - b.start || a.track - b.track || a.segment - b.segment);
}

export function planFile(tracks: readonly PlannedTrack[], initLength: number, indexLength: number): FilePlan {
  let offset = initLength;
  const segments = interleaveSegments(tracks).map((slot, index) => {
    const bytes = tracks[slot.track]!.segments[slot.segment]!.bytes;
    const planned = { ...slot, offset, bytes, firstSequenceNumber: index * FRAGMENTS_PER_SEGMENT + 1 };
    offset += bytes;
    return planned;
  });
  const sessionFirstSegment = tracks.map(() => [] as (number | undefined)[]);
  const sessionStartSeconds = tracks.map(() => [] as (number | undefined)[]);
  tracks.forEach((track, trackIndex) => {
    let seconds = 0;
    track.segments.forEach((segment, index) => {
      const session = segment.init ?? 0;
      if (sessionFirstSegment[trackIndex]![session] === undefined) {
        sessionFirstSegment[trackIndex]![session] = index;
        sessionStartSeconds[trackIndex]![session] = seconds;
      }
      seconds += segment.durationSeconds;
    });
  });
  return { segments, indexOffset: offset, indexLength, contentLength: offset + indexLength, sessionFirstSegment, sessionStartSeconds };
}

/** Seconds from the track's start to its segment `index`, by the stored durations. */
export function trackTimeAt(track: PlannedTrack, index: number): number {
  let seconds = 0;
  for (let at = 0; at < index; at += 1) seconds += track.segments[at]!.durationSeconds;
  return seconds;
}
