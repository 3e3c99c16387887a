/**
 * What each media playlist of one stream lists, and when. Pure: no I/O, no clock.
 *
 * A rendition lists each segment as soon as it is stored, without waiting for the others (a slow
 * encoded rung holds back no one). Numbering is per rendition and as before: the n-th segment a
 * rendition cut gets the n-th number after where it started, so renditions cut on one grid list
 * the same segment time under the same number. A segment whose media is not stored (dropped in
 * an outage, refused, without its init segment) keeps its number as an EXT-X-GAP with its
 * duration, never skipped. The DASH view stays at the common window (the newest number every
 * rendition has listed): its adaptation sets then end together, and a representation has no gap
 * marker, only holes.
 *
 * Not done: filling, with gaps, the numbers a rendition never cut (an encoder that died with one
 * segment less than the others, a rendition a crashed sidecar left behind) so that the next
 * session starts at one number everywhere. The gap then stands where the other renditions have
 * media, and hls.js 1.7 stalls at that hole in its buffer instead of seeking over it (seen in the
 * continuity e2e after an ffmpeg kill and a sidecar crash); each rendition goes on from its own
 * count instead, as it always did.
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
}

/** A media playlist of listed segments (what it renders, and what each segment is in the window). */
export interface ListedPlaylist extends MediaPlaylist {
  segments: ListedSegment[];
}

/** Where a cut segment sits: the `index`-th one its rendition cut (since this sidecar took the stream), of `session`. */
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
  /**
   * Low-latency parts are announced: the segment a crashed sidecar was cutting may have been
   * shown to viewers as parts under the number after its stored playlist, so a taken-up
   * playlist goes on after a gap for it (see takeUp).
   */
  partsAnnounced?: boolean;
}

interface RenditionWindow {
  segments: ListedSegment[];
  /** With keepRecording: the segments that left the live window, oldest first. */
  recording: ListedSegment[];
  /** EXT-X-DISCONTINUITY-SEQUENCE of the recording's first segment. */
  recordingDiscontinuitySequence: number;
  discontinuitySequence: number;
  /** The number the next listed segment gets. */
  nextSequence: number;
  /** The number of the first segment this sidecar cuts (where a taken-up playlist left off). */
  start: number;
  /** Segments cut so far. */
  cuts: number;
  targetDuration: number;
}

// The shortest duration EXTINF shows (three decimals): a number kept, no time taken.
const TAKEN_UP_GAP_SECONDS = 0.001;

export class LiveWindow {
  private readonly options: LiveWindowOptions;
  private readonly windows = new Map<string, RenditionWindow>();
  private readonly sessions = new Set<string>();

  constructor(options: LiveWindowOptions) {
    this.options = options;
    for (const name of options.renditions) {
      this.windows.set(name, { segments: [], recording: [], recordingDiscontinuitySequence: 0, discontinuitySequence: 0, nextSequence: 0, start: 0, cuts: 0, targetDuration: Math.ceil(options.targetSegmentDuration) });
    }
  }

  /**
   * Takes up a rendition's live playlist (a crashed sidecar's), or only its numbering (an ended
   * one). With parts announced, the number after the last stored segment was the segment being
   * cut when the sidecar died: viewers may hold its parts as a preload hint under that number
   * (hls.js rejects a playlist that then gives the number to other media), so it is listed as a
   * gap under the name its parts had (the end of the last stored segment). The gap lasts a
   * millisecond, not a segment: the new session starts where the stored media ends, over whatever
   * parts a player buffered, rather than after a hole in the timeline, which hls.js 1.7 stalls at
   * instead of seeking over.
   */
  takeUp(rendition: string, nextSequence: number, playlist?: TakenUpPlaylist): void {
    const window = this.window(rendition);
    window.nextSequence = Math.max(window.nextSequence, nextSequence);
    if (!playlist) return;
    window.segments = [...playlist.segments];
    window.discontinuitySequence = playlist.discontinuitySequence;
    window.targetDuration = Math.max(window.targetDuration, playlist.targetDuration);
    const last = window.segments.at(-1);
    if (!this.options.partsAnnounced || !last || last.sequence + 1 !== window.nextSequence) return;
    const duration = TAKEN_UP_GAP_SECONDS;
    const time = last.time + last.ticks;
    // Not slid yet: what it would push out leaves with the next segment (and is retired then).
    window.segments.push({
      sequence: window.nextSequence,
      session: last.session,
      initSession: last.initSession,
      time,
      ticks: last.duration > 0 ? Math.round((duration * last.ticks) / last.duration) : 0,
      uri: mediaSegmentFile(last.session, time),
      duration,
      initUri: last.initUri,
      programDateTime: last.programDateTime + last.duration * 1000,
      discontinuity: false,
      gap: true,
    });
    window.nextSequence += 1;
  }

  /**
   * Numbering goes on where each rendition's taken-up playlist left off; a rendition with nothing
   * to take up (new in this ladder, or after an ended broadcast) starts at the furthest one, so
   * that renditions list the same numbers.
   */
  numberFromTakenUp(): void {
    const furthest = Math.max(...[...this.windows.values()].map((window) => window.nextSequence));
    for (const window of this.windows.values()) {
      if (window.segments.length === 0) window.nextSequence = furthest;
      window.start = window.nextSequence;
    }
  }

  beginSession(session: string): void {
    if (this.sessions.has(session)) throw new Error(`session ${session} already begun`);
    this.sessions.add(session);
  }

  /** A rendition cut a segment: where it sits, for its listing once its upload settles. */
  cut(rendition: string, session: string): SegmentSlot {
    if (!this.sessions.has(session)) throw new Error(`session ${session} was never begun`);
    const window = this.window(rendition);
    return { session, index: window.cuts++ };
  }

  /** The number the rendition's next cut segment will have (its low-latency parts carry it). */
  nextSequence(rendition: string): number {
    const window = this.window(rendition);
    return window.start + window.cuts;
  }

  /** Lists a settled segment under its number: with its media, or as a gap when it is missing. */
  list(rendition: string, segment: SettledSegment): ListOutcome {
    const window = this.window(rendition);
    const sequence = window.start + segment.slot.index;
    if (sequence !== window.nextSequence && window.segments.length > 0) {
      return { listed: false, reason: `number ${sequence} is not the next one (${window.nextSequence})` };
    }
    const previous = window.segments.at(-1);
    if (!previous && segment.missing) {
      // The playlist starts at its first segment with media: a gap needs an init segment before it.
      window.nextSequence = sequence + 1;
      return { listed: true, left: [] };
    }
    const { session } = segment.slot;
    const initSession = segment.missing ? previous!.initSession : session;
    const listed: ListedSegment = {
      sequence,
      session,
      initSession,
      time: segment.time,
      ticks: segment.ticks,
      uri: mediaSegmentFile(session, segment.time),
      duration: segment.duration,
      initUri: initSegmentFile(initSession),
      programDateTime: segment.programDateTime,
      discontinuity: previous !== undefined && previous.session !== session,
      ...(segment.missing ? { gap: true } : {}),
    };
    return { listed: true, left: this.append(window, listed) };
  }

  /** A rendition's media playlist, or undefined for a live one with nothing to list (its media sequence could only be a guess). */
  playlist(rendition: string, ended: boolean): ListedPlaylist | undefined {
    const window = this.window(rendition);
    const segments = ended ? [...window.recording, ...window.segments] : window.segments;
    // An ended playlist stops at its last media: a gap after it keeps nothing in step.
    while (ended && segments.at(-1)?.gap) segments.pop();
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

  /** Appends to the live window and slides it; returns what left it (and is not recorded). */
  private append(window: RenditionWindow, added: ListedSegment): ListedSegment[] {
    window.segments.push(added);
    window.nextSequence = added.sequence + 1;
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
