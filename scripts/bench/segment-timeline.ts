/**
 * When each segment of a live media playlist was first listed, against when its media ended
 * (pure). A segment's media end is where it ends on the publisher's timeline: the sum of the
 * durations of every segment listed since the stream started, the first starting at the
 * publisher's first frame. nginx-rtmp's playlists carry no EXT-X-PROGRAM-DATE-TIME, so this is
 * how both servers are measured; ours carry it, and it is kept as a cross-check.
 */

export interface ListedSegment {
  uri: string;
  duration: number;
  /** EXT-X-PROGRAM-DATE-TIME, epoch ms, when the playlist has it. */
  programDateTime?: number;
}

/** The segments a media playlist lists, in order. */
export function parseMediaSegments(text: string): ListedSegment[] {
  const segments: ListedSegment[] = [];
  let duration: number | undefined;
  let programDateTime: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) programDateTime = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    else if (line !== '' && !line.startsWith('#') && duration !== undefined) {
      segments.push({ uri: line, duration, ...(programDateTime !== undefined && !Number.isNaN(programDateTime) ? { programDateTime } : {}) });
      duration = undefined;
      programDateTime = undefined;
    }
  }
  return segments;
}

export interface SegmentAvailability {
  uri: string;
  /** Index since the stream started (0: its first segment). */
  index: number;
  /** Seconds of media from the stream's start to this segment's end. */
  mediaEnd: number;
  /** Epoch ms of the first poll that saw it listed. */
  firstListedAt: number;
  programDateTime?: number;
  duration: number;
}

/** Feeds on successive polls of one media playlist, from before the stream's first segment. */
export class SegmentTimeline {
  private readonly seen = new Map<string, SegmentAvailability>();
  private mediaSeconds = 0;

  observe(text: string, atMs: number): void {
    for (const segment of parseMediaSegments(text)) {
      if (this.seen.has(segment.uri)) continue;
      this.mediaSeconds += segment.duration;
      this.seen.set(segment.uri, { uri: segment.uri, index: this.seen.size, mediaEnd: this.mediaSeconds, firstListedAt: atMs, duration: segment.duration, programDateTime: segment.programDateTime });
    }
  }

  get segments(): SegmentAvailability[] {
    return [...this.seen.values()];
  }
}

/**
 * Seconds from each segment's media end (publisher clock: its first frame's wall time plus media
 * time) to its first listing, for segments from `skipFirst` on (the first ones carry the servers'
 * start-up, reported apart).
 */
export function availabilityDelays(segments: readonly SegmentAvailability[], publisherFirstFrameAt: number, skipFirst = 0): number[] {
  return segments.filter((segment) => segment.index >= skipFirst).map((segment) => (segment.firstListedAt - (publisherFirstFrameAt + segment.mediaEnd * 1000)) / 1000);
}
