/**
 * What each media playlist of one stream lists, and when. Pure: no I/O, no clock.
 *
 * Numbering: a segment's media sequence number is its place in its session (the n-th segment a
 * rendition cut in that session) after every earlier session's longest run of segments, so the
 * same segment time has the same number in every rendition whatever order renditions store them
 * in. A rendition lists each segment as soon as it is stored, without waiting for the others (a
 * slow encoded rung holds back no one); a number it has no media for (a segment dropped in an
 * outage, one lost when its encoder died, one a crashed sidecar never listed) is listed as an
 * EXT-X-GAP with the duration the other renditions give it, never skipped. The DASH view stays
 * at the common window (the newest number every rendition has listed): its adaptation sets then
 * end together, and a representation has no gap marker, only holes.
 */
import { targetDurationFor, type MediaPlaylist, type MediaSegment } from '../../shared/hls/media-playlist.ts';
import { initSegmentFile, mediaSegmentFile } from '../../shared/storage/layout.ts';

export interface ListedSegment extends MediaSegment {
  sequence: number;
  session: string;
  /** The session whose init segment it is listed with (a gap borrows the one before it). */
  initSession: string;
  /** Media time of the first sample and duration, track timescale (its name; DASH). */
  time: number;
  ticks: number;
  /** A gap for a number this rendition never cut: nothing was ever written under its name. */
  filled?: boolean;
}

/** A media playlist of listed segments (what it renders, and what each segment is in the window). */
export interface ListedPlaylist extends MediaPlaylist {
  segments: ListedSegment[];
}

/** Where a cut segment sits in the stream: the `index`-th one its rendition cut in `session`. */
export interface SegmentSlot {
  session: string;
  index: number;
}

/** A segment whose upload settled, to be listed in its rendition's playlist. */
export interface SettledSegment {
  slot: SegmentSlot;
  time: number;
  ticks: number;
  /** Seconds. */
  duration: number;
  /** Ingest wall clock of its first sample, epoch milliseconds. */
  programDateTime: number;
  /** Its media is not stored (dropped in an outage, refused, no init segment): listed as a gap. */
  missing: boolean;
}

export type ListOutcome =
  /** `left`: segments that left the live window (not kept for a recording): their objects may go. */
  | { listed: true; left: ListedSegment[] }
  | { listed: false; reason: string };

/** A rendition's playlist as a crashed sidecar left it, to be taken up. */
export interface TakenUpPlaylist {
  segments: ListedSegment[];
  discontinuitySequence: number;
  targetDuration: number;
}

export interface LiveWindowOptions {
  renditions: readonly string[];
  /** Segments listed in a live media playlist. */
  windowSegments: number;
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  /** Segments that leave the live window are kept for the ended stream's playlists (retention `all`). */
  keepRecording: boolean;
}

interface RenditionWindow {
  segments: ListedSegment[];
  /** With keepRecording: the segments that left the live window, oldest first. */
  recording: ListedSegment[];
  /** EXT-X-DISCONTINUITY-SEQUENCE of the recording's first segment. */
  recordingDiscontinuitySequence: number;
  discontinuitySequence: number;
  /** The number the next listed segment gets, at the earliest. */
  nextSequence: number;
  targetDuration: number;
}

interface SessionRun {
  id: string;
  /** Segments each rendition cut in this session. */
  cuts: Map<string, number>;
  /** Its length (the most any rendition cut) once a later session was numbered: it cannot grow. */
  frozenLength?: number;
}

export class LiveWindow {
  private readonly options: LiveWindowOptions;
  private readonly windows = new Map<string, RenditionWindow>();
  private readonly sessions: SessionRun[] = [];
  /** The number of the first session's first segment. */
  private base = 0;

  constructor(options: LiveWindowOptions) {
    this.options = options;
    for (const name of options.renditions) {
      this.windows.set(name, { segments: [], recording: [], recordingDiscontinuitySequence: 0, discontinuitySequence: 0, nextSequence: 0, targetDuration: Math.ceil(options.targetSegmentDuration) });
    }
  }

  /** Takes up a rendition's live playlist (a crashed sidecar's), or only its numbering (an ended one). */
  takeUp(rendition: string, nextSequence: number, playlist?: TakenUpPlaylist): void {
    const window = this.window(rendition);
    window.nextSequence = Math.max(window.nextSequence, nextSequence);
    if (!playlist) return;
    window.segments = [...playlist.segments];
    window.discontinuitySequence = playlist.discontinuitySequence;
    window.targetDuration = Math.max(window.targetDuration, playlist.targetDuration);
  }

  /**
   * New sessions number on from the furthest rendition taken up. A rendition with nothing to
   * take up (new in this ladder, or after an ended broadcast) starts there too; one taken up
   * short of it fills the numbers between with gaps when it lists its next segment.
   */
  numberFromTakenUp(): void {
    this.base = Math.max(this.base, ...[...this.windows.values()].map((window) => window.nextSequence));
    for (const window of this.windows.values()) if (window.segments.length === 0) window.nextSequence = Math.max(window.nextSequence, this.base);
  }

  beginSession(session: string): void {
    if (this.sessions.some((run) => run.id === session)) throw new Error(`session ${session} already begun`);
    this.sessions.push({ id: session, cuts: new Map() });
  }

  /** A rendition cut a segment: its slot, or undefined if its session was already closed by a later one being numbered. */
  cut(rendition: string, session: string): SegmentSlot | undefined {
    const run = this.sessions.find((candidate) => candidate.id === session);
    if (!run) throw new Error(`session ${session} was never begun`);
    const index = run.cuts.get(rendition) ?? 0;
    // A frozen session's length decided later sessions' numbers: a segment beyond it has no number.
    if (run.frozenLength !== undefined && index >= run.frozenLength) return undefined;
    run.cuts.set(rendition, index + 1);
    return { session, index };
  }

  /** The number the rendition's next segment of `session` will have (its low-latency parts carry it). */
  nextSequence(rendition: string, session: string): number | undefined {
    const first = this.firstSequence(session);
    const run = this.sessions.find((candidate) => candidate.id === session);
    return first === undefined || !run ? undefined : first + (run.cuts.get(rendition) ?? 0);
  }

  /** Lists a settled segment (stored, or missing: a gap), after gaps for any numbers the rendition skipped. */
  list(rendition: string, segment: SettledSegment): ListOutcome {
    const window = this.window(rendition);
    const first = this.firstSequence(segment.slot.session);
    if (first === undefined) return { listed: false, reason: `session ${segment.slot.session} was never begun` };
    const sequence = first + segment.slot.index;
    if (sequence < window.nextSequence) return { listed: false, reason: `number ${sequence} is listed already (the rendition is at ${window.nextSequence})` };
    const last = window.segments.at(-1);
    if (!last) {
      // The playlist starts at its first segment with media: a gap needs an init segment before it.
      window.nextSequence = segment.missing ? sequence + 1 : sequence;
      if (segment.missing) return { listed: true, left: [] };
    }
    const added: ListedSegment[] = [];
    for (let number = window.nextSequence; number < sequence; number++) added.push(this.filler(rendition, number, added.at(-1) ?? last!));
    const previous = added.at(-1) ?? last;
    const { session } = segment.slot;
    added.push({
      sequence,
      session,
      initSession: segment.missing ? previous!.initSession : session,
      time: segment.time,
      ticks: segment.ticks,
      uri: mediaSegmentFile(session, segment.time),
      duration: segment.duration,
      initUri: initSegmentFile(segment.missing ? previous!.initSession : session),
      programDateTime: segment.programDateTime,
      discontinuity: previous !== undefined && previous.session !== session,
      ...(segment.missing ? { gap: true } : {}),
    });
    return { listed: true, left: this.append(window, added) };
  }

  /** A rendition's media playlist, or undefined for a live one with nothing to list (its media sequence could only be a guess). */
  playlist(rendition: string, ended: boolean): ListedPlaylist | undefined {
    const window = this.window(rendition);
    const segments = ended ? [...window.recording, ...window.segments] : window.segments;
    if (segments.length === 0 && !ended) return undefined;
    return {
      targetDuration: window.targetDuration,
      mediaSequence: segments[0]?.sequence ?? window.nextSequence,
      discontinuitySequence: ended && window.recording.length > 0 ? window.recordingDiscontinuitySequence : window.discontinuitySequence,
      segments,
      ended,
    };
  }

  /** Whether the rendition's live playlist lists anything yet. */
  hasListed(rendition: string): boolean {
    return this.window(rendition).segments.length > 0;
  }

  /**
   * The segments with media a DASH representation lists: while live, only up to the newest
   * number every rendition has listed, so that every representation ends at the same time.
   */
  dashSegments(rendition: string, ended: boolean): ListedSegment[] {
    const window = this.window(rendition);
    const withMedia = (segment: ListedSegment) => !segment.gap && segment.ticks > 0;
    if (ended) return [...window.recording, ...window.segments].filter(withMedia);
    const common = Math.min(...[...this.windows.values()].map((other) => other.nextSequence));
    return window.segments.filter((segment) => segment.sequence < common && withMedia(segment));
  }

  /** The longest target duration of any rendition, seconds. */
  targetDuration(): number {
    return Math.max(...[...this.windows.values()].map((window) => window.targetDuration));
  }

  /** Seconds the longest live window spans. */
  windowSeconds(): number {
    return Math.max(...[...this.windows.values()].map((window) => window.segments.reduce((sum, segment) => sum + segment.duration, 0)));
  }

  /** Sessions whose init segment the rendition's live playlist references. */
  initSessionsListed(rendition: string): Set<string> {
    return new Set(this.window(rendition).segments.map((segment) => segment.initSession));
  }

  private window(rendition: string): RenditionWindow {
    const window = this.windows.get(rendition);
    if (!window) throw new Error(`unknown rendition ${rendition}`);
    return window;
  }

  /** The first number of a session; numbering it closes every earlier session for good. */
  private firstSequence(session: string): number | undefined {
    let sequence = this.base;
    for (const run of this.sessions) {
      if (run.id === session) return sequence;
      run.frozenLength ??= Math.max(0, ...run.cuts.values());
      sequence += run.frozenLength;
    }
    return undefined;
  }

  /**
   * A gap for a number the rendition never cut, timed like the segment another rendition listed
   * under it (or a nominal segment after `previous`). Its name follows `previous` in its media
   * time when in the same session: a name this rendition will never store anything under.
   */
  private filler(rendition: string, sequence: number, previous: ListedSegment): ListedSegment {
    const other = this.listedElsewhere(rendition, sequence);
    const session = other?.session ?? previous.session;
    const duration = other?.duration ?? this.options.targetSegmentDuration;
    const ticks = previous.duration > 0 ? Math.round((duration * previous.ticks) / previous.duration) : 0;
    const time = session === previous.session ? previous.time + previous.ticks : (other?.time ?? 0);
    return {
      sequence,
      session,
      initSession: previous.initSession,
      time,
      ticks,
      uri: mediaSegmentFile(session, time),
      duration,
      initUri: initSegmentFile(previous.initSession),
      programDateTime: other?.programDateTime ?? previous.programDateTime + previous.duration * 1000,
      discontinuity: session !== previous.session,
      gap: true,
      filled: true,
    };
  }

  private listedElsewhere(rendition: string, sequence: number): ListedSegment | undefined {
    for (const [name, window] of this.windows) {
      if (name === rendition) continue;
      const found = window.segments.find((segment) => segment.sequence === sequence) ?? window.recording.find((segment) => segment.sequence === sequence);
      if (found && !found.filled) return found;
    }
    return undefined;
  }

  /** Appends to the live window and slides it; returns what left it (and is not recorded). */
  private append(window: RenditionWindow, added: ListedSegment[]): ListedSegment[] {
    window.segments.push(...added);
    window.nextSequence = added.at(-1)!.sequence + 1;
    const left: ListedSegment[] = [];
    while (window.segments.length > this.options.windowSegments) {
      const leaving = window.segments.shift()!;
      if (this.options.keepRecording) {
        if (window.recording.length === 0) window.recordingDiscontinuitySequence = window.discontinuitySequence;
        window.recording.push(leaving);
      } else {
        left.push(leaving);
      }
      // A discontinuity leaving the window is counted by EXT-X-DISCONTINUITY-SEQUENCE.
      if (leaving.discontinuity) window.discontinuitySequence += 1;
    }
    window.targetDuration = Math.max(window.targetDuration, targetDurationFor(this.options.targetSegmentDuration, window.segments));
    return left;
  }
}
