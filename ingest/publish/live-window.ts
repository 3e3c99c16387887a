/**
 * What each media playlist of one stream lists, and when. Pure: no I/O, no clock.
 *
 * A rendition lists each segment as soon as it is stored, without waiting for the others (a slow
 * encoded rung holds back no one). Each session (one run of the stream's media, one timeline)
 * numbers from its base, the number after the furthest any rendition had cut when it began, one
 * more per segment (renditions of a run cut on one grid, one segment per cell). So after a run
 * that one rendition ended short (an encoder that stalled or died while the source went on, a
 * crashed sidecar's lagging rendition) every rendition goes on at one number, and the one behind
 * lists its missed numbers as EXT-X-GAP (with the duration and clock another rendition cut them
 * with, where one did). A segment whose media is not stored (dropped in an outage, refused,
 * without its init segment) keeps its number as a gap too. The DASH view stays at the common
 * window (the newest number every rendition has listed): its adaptation sets then end together,
 * and a representation has no gap marker, only a hole in its SegmentTimeline.
 */
import { targetDurationFor, type MediaPlaylist, type MediaSegment } from '../../shared/hls/media-playlist.ts';
import { dateAfter } from '../../shared/segment-clock.ts';
import { initSegmentFile, mediaSegmentFile } from '../../shared/storage/layout.ts';
import { SegmentGrid, type GridCell } from './segment-grid.ts';

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

/** Where a cut segment sits: its session and the media sequence number the grid gave it. */
export interface SegmentSlot {
  session: string;
  sequence: number;
}

/** A segment just cut, as the grid numbers it. */
export interface CutSegment {
  session: string;
  /** Seconds from the session's media time zero to its first sample. */
  start: number;
  /** Seconds. */
  duration: number;
  /** Ingest wall clock of its first sample, epoch milliseconds. */
  programDateTime: number;
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
  /** The lowest number the next cut segment may get (the one after the last cut, or where a taken-up playlist left off). */
  nextCut: number;
  targetDuration: number;
}

// The shortest duration EXTINF shows (three decimals): a number kept, no time taken.
const TAKEN_UP_GAP_SECONDS = 0.001;

export class LiveWindow {
  private readonly options: LiveWindowOptions;
  private readonly windows = new Map<string, RenditionWindow>();
  private readonly grid: SegmentGrid;

  constructor(options: LiveWindowOptions) {
    this.options = options;
    this.grid = new SegmentGrid();
    for (const name of options.renditions) {
      this.windows.set(name, { segments: [], recording: [], recordingDiscontinuitySequence: 0, discontinuitySequence: 0, nextSequence: 0, nextCut: 0, targetDuration: Math.ceil(options.targetSegmentDuration) });
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
    for (const segment of playlist.segments) this.noteCell(segment.sequence, segment);
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
      programDateTime: dateAfter(last.programDateTime, last.duration),
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
      window.nextCut = window.nextSequence;
    }
  }

  /** A session (a run: one timeline) begins: its grid starts after the furthest number any rendition cut. */
  beginSession(session: string): void {
    this.grid.begin(session, Math.max(...[...this.windows.values()].map((window) => window.nextCut)));
  }

  /** A rendition cut a segment: its number on the grid, for its listing once its upload settles. */
  cut(rendition: string, segment: CutSegment): SegmentSlot {
    const sequence = this.sequenceAt(rendition, segment.session, segment.start);
    this.window(rendition).nextCut = sequence + 1;
    this.noteCell(sequence, segment);
    return { session: segment.session, sequence };
  }

  /**
   * The number the rendition's next segment of the session will have (its low-latency parts
   * carry it): the session's base for its first, then one more for each. Within a session
   * renditions cut on one grid, one segment per cell, so counting keeps them on the same numbers;
   * a number taken from the media time instead flips between two cells with a source whose
   * keyframes sit near a cell's edge (a millisecond of jitter made a gap that was not). `start`
   * (seconds of media time) is the segment's, for the record.
   */
  sequenceAt(rendition: string, session: string, _start: number): number {
    return Math.max(this.grid.base(session), this.window(rendition).nextCut);
  }

  /** Lists a settled segment under its number: with its media, or as a gap when it is missing. */
  list(rendition: string, segment: SettledSegment): ListOutcome {
    const window = this.window(rendition);
    const sequence = segment.slot.sequence;
    if (sequence < window.nextSequence && window.segments.length > 0) {
      return { listed: false, reason: `number ${sequence} is not the next one (${window.nextSequence})` };
    }
    const left: ListedSegment[] = [];
    // Numbers this rendition never cut (the others did): gaps, so that it lists what they list under the same numbers.
    if (window.segments.length > 0) while (window.nextSequence < sequence) left.push(...this.append(window, this.missedCell(window)));
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
    left.push(...this.append(window, listed));
    return { listed: true, left };
  }

  /** The gap for the rendition's next number, which it never cut: timed as whoever cut it, else a millisecond after its last. */
  private missedCell(window: RenditionWindow): ListedSegment {
    const previous = window.segments.at(-1)!;
    const sequence = window.nextSequence;
    const cell = this.grid.cell(sequence);
    const duration = cell?.duration ?? TAKEN_UP_GAP_SECONDS;
    const time = previous.time + previous.ticks;
    return {
      sequence,
      session: previous.session,
      initSession: previous.initSession,
      time,
      ticks: previous.duration > 0 ? Math.round((duration * previous.ticks) / previous.duration) : 0,
      uri: mediaSegmentFile(previous.session, time),
      duration,
      initUri: previous.initUri,
      programDateTime: cell?.programDateTime ?? dateAfter(previous.programDateTime, previous.duration),
      discontinuity: false,
      gap: true,
    };
  }

  private noteCell(sequence: number, cell: GridCell): void {
    this.grid.note(sequence, cell, Math.min(...[...this.windows.values()].map((window) => window.nextSequence)) - this.options.windowSegments);
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
    const common = this.dashEnd();
    return window.segments.filter((segment) => segment.sequence < common && withMedia(segment));
  }

  /** The number after the newest segment every rendition has listed: where the live MPD's listing ends. */
  dashEnd(): number {
    return Math.min(...[...this.windows.values()].map((window) => window.nextSequence));
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
