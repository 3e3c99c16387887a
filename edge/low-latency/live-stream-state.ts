/**
 * One live stream's low-latency state at the edge: for each rendition, the newest canonical
 * media playlist (as stored), the parts of its newest segments and of the segment being cut,
 * and the viewers' requests waiting for a playlist or part that does not exist yet.
 *
 * Runtime-neutral: a Durable Object holds one on Workers, a map of them serves Node and Deno.
 * Everything here is in memory and may be lost (an evicted object, a restarted edge): segments
 * and playlists stay in storage, and the parts of the next segment rebuild it.
 */
import type { PartAnnouncement } from '../../shared/low-latency.ts';
import { PLAYLIST_FILE } from '../../shared/storage/layout.ts';
import { HeldRequests } from './held-requests.ts';
import { canonicalFacts, deltaUpdate, renderLowLatencyPlaylist, skipBoundary, type CanonicalFacts, type PartLine, type RenditionReport } from '../manifest/low-latency-playlist.ts';

export interface IncomingPart extends PartAnnouncement {
  /** File name, `SESSION-T.pN.m4s`. */
  file: string;
  session: string;
  /** Its segment's media time (the segment's name). */
  segmentTime: number;
  index: number;
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/** `_HLS_msn` and `_HLS_part` of a blocking playlist reload. */
export interface BlockingTarget {
  msn: number;
  part?: number;
}

export interface PlaylistRequest {
  rendition: string;
  block?: BlockingTarget;
  /** `_HLS_skip=YES`: a delta update, when the playlist offers one. */
  skip: boolean;
}

export type PlaylistAnswer =
  /** The low-latency playlist (before any per-viewer rewriting), and the facts its caching depends on. */
  | { kind: 'playlist'; text: string; targetDuration: number; ended: boolean }
  /** No live state for this rendition: storage's playlist is the answer (a non-blocking request). */
  | { kind: 'unknown' }
  | { kind: 'too-far'; reason: string }
  /** The target did not appear within the hold limit. */
  | { kind: 'timeout' };

export type PartAnswer = { kind: 'part'; bytes: Uint8Array<ArrayBuffer>; contentType: string } | { kind: 'missing' };

export interface LiveStreamStateOptions {
  /** Reads a rendition's stored media playlist, when the state starts without it (a restarted edge). */
  loadPlaylist?: (rendition: string) => Promise<string | undefined>;
  /** How long a request may be held; the spec's limit is three target durations. */
  holdMs?: (targetDuration: number) => number;
}

interface StoredPart extends PartLine {
  file: string;
  /** The part its announcement said comes next. */
  next: string;
  index: number;
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

interface PartGroup {
  segmentFile: string;
  session: string;
  parts: StoredPart[];
  /** A part went missing: the group is not listed (its segment still is, whole). */
  broken: boolean;
}

interface Canonical extends CanonicalFacts {
  text: string;
  lastMsn: number;
  /** Session of the newest listed segment (a part of another session needs a discontinuity first). */
  lastSession: string | undefined;
}

interface RenditionLive {
  canonical?: Canonical;
  groups: Map<number, PartGroup>;
  partTarget: number;
  hint?: string;
  loading?: Promise<void>;
}

// Segments whose parts are listed, besides the one being cut: the spec asks for parts within
// the last three target durations only. One more is kept for requests already on their way.
const LISTED_PART_SEGMENTS = 3;
const KEPT_PART_SEGMENTS = LISTED_PART_SEGMENTS + 1;
// The spec's Advance Part Limit: a request more than this many parts ahead is refused at once.
const ADVANCE_PART_LIMIT = 3;

function defaultHoldMs(targetDuration: number): number {
  return 3 * targetDuration * 1000;
}

/** `SESSION-T.m4s` → session. */
function sessionOf(segmentUri: string): string | undefined {
  return /^([a-z0-9]+)-\d+\.m4s$/.exec(segmentUri)?.[1];
}

export class LiveStreamState {
  private readonly renditions = new Map<string, RenditionLive>();
  private readonly options: LiveStreamStateOptions;
  /** Per distinct request (rendition, target, skip): the viewers holding it. */
  private readonly playlistWaiters = new HeldRequests<PlaylistAnswer, PlaylistRequest>();
  /** By part file name. */
  private readonly partWaiters = new HeldRequests<PartAnswer>();
  /** Rendered playlists of the current state, by request shape; cleared on every change. */
  private readonly rendered = new Map<string, string>();
  lastChangeAt = Date.now();

  constructor(options: LiveStreamStateOptions = {}) {
    this.options = options;
  }

  /** Requests held right now (playlists and parts). */
  get held(): number {
    return this.playlistWaiters.size + this.partWaiters.size;
  }

  private rendition(name: string): RenditionLive {
    let live = this.renditions.get(name);
    if (!live) {
      live = { groups: new Map(), partTarget: 0 };
      this.renditions.set(name, live);
    }
    return live;
  }

  /** A new canonical playlist was stored: the parts it now lists as segments stay listed beside them. */
  acceptPlaylist(renditionName: string, text: string): void {
    const live = this.rendition(renditionName);
    const facts = canonicalFacts(text);
    const lastMsn = facts.mediaSequence + facts.segmentCount - 1;
    // Storage writes can overtake each other: a playlist never goes back.
    if (live.canonical && !facts.ended && lastMsn < live.canonical.lastMsn) return;
    live.canonical = { ...facts, text, lastMsn, lastSession: sessionOf(facts.tail.at(-1) ?? '') };
    for (const msn of live.groups.keys()) if (msn <= lastMsn - KEPT_PART_SEGMENTS) live.groups.delete(msn);
    this.changed();
  }

  /** A part, the moment it is complete. Parts of a segment arrive in order; a gap breaks the group. */
  acceptPart(renditionName: string, part: IncomingPart): void {
    const live = this.rendition(renditionName);
    live.partTarget = part.partTarget;
    const segmentFile = `${part.session}-${part.segmentTime}.m4s`;
    let group = live.groups.get(part.msn);
    if (!group || group.segmentFile !== segmentFile) {
      group = { segmentFile, session: part.session, parts: [], broken: false };
      live.groups.set(part.msn, group);
    }
    if (part.index !== group.parts.length) {
      group.broken = true;
    } else {
      group.parts.push({ uri: part.file, file: part.file, next: part.next, index: part.index, duration: part.duration, independent: part.independent, bytes: part.bytes, contentType: part.contentType });
    }
    const previousHint = live.hint;
    live.hint = part.next;
    const newest = live.canonical?.lastMsn;
    if (newest !== undefined) for (const msn of live.groups.keys()) if (msn <= newest - KEPT_PART_SEGMENTS) live.groups.delete(msn);
    if (!live.canonical && !live.loading && this.options.loadPlaylist) {
      const load = this.options.loadPlaylist;
      live.loading = load(renditionName)
        .then((text) => {
          if (text && !live.canonical) this.acceptPlaylist(renditionName, text);
        })
        .catch(() => undefined);
    }
    this.partWaiters.release(part.file, { kind: 'part', bytes: part.bytes, contentType: part.contentType });
    // A hinted part that did not come (the segment ended sooner): whoever waits for it learns now.
    if (previousHint && previousHint !== part.file && previousHint !== live.hint) this.partWaiters.release(previousHint, { kind: 'missing' });
    this.changed();
  }

  /** The playlist, at once or when it holds the blocking target; too far ahead is refused. */
  async playlist(request: PlaylistRequest): Promise<PlaylistAnswer> {
    const live = this.renditions.get(request.rendition);
    if (!request.block) {
      if (!live?.canonical) return { kind: 'unknown' };
      return this.answer(request);
    }
    if (live?.canonical) {
      const decision = this.decide(live, request.block);
      if (decision === 'ready') return this.answer(request);
      if (decision !== 'wait') return { kind: 'too-far', reason: decision };
    }
    const key = `${request.rendition}|${request.block.msn}|${request.block.part ?? ''}|${request.skip ? 1 : 0}`;
    return this.playlistWaiters.hold(key, request, this.holdMs(live), { kind: 'timeout' });
  }

  /** A part's bytes; the hinted part is waited for. */
  async part(renditionName: string, file: string): Promise<PartAnswer> {
    const live = this.renditions.get(renditionName);
    if (!live) return { kind: 'missing' };
    for (const group of live.groups.values()) {
      const found = group.parts.find((part) => part.file === file);
      if (found) return { kind: 'part', bytes: found.bytes, contentType: found.contentType };
    }
    if (live.hint !== file) return { kind: 'missing' };
    return this.partWaiters.hold(file, undefined, this.holdMs(live), { kind: 'missing' });
  }

  /** Answers every held request with `missing`/`timeout` (the state is going away). */
  close(): void {
    this.playlistWaiters.releaseAll({ kind: 'timeout' });
    this.partWaiters.releaseAll({ kind: 'missing' });
  }

  private holdMs(live: RenditionLive | undefined): number {
    return (this.options.holdMs ?? defaultHoldMs)(live?.canonical?.targetDuration || 2);
  }

  private changed(): void {
    this.lastChangeAt = Date.now();
    this.rendered.clear();
    for (const [key, request] of this.playlistWaiters.waiting()) {
      const live = this.renditions.get(request.rendition);
      if (!live?.canonical) continue;
      const decision = this.decide(live, request.block!);
      if (decision === 'wait') continue;
      this.playlistWaiters.release(key, decision === 'ready' ? this.answer(request) : { kind: 'too-far', reason: decision });
    }
  }

  /** The parts listed after the last segment: the next segment's, when nothing stands between. */
  private pendingGroup(live: RenditionLive): PartGroup | undefined {
    const canonical = live.canonical!;
    const group = live.groups.get(canonical.lastMsn + 1);
    // A part of a new session would need EXT-X-DISCONTINUITY and its EXT-X-MAP first: it waits for its segment's listing.
    if (!group || group.broken || group.parts.length === 0 || group.session !== canonical.lastSession) return undefined;
    return group;
  }

  /**
   * The part after the newest one listed: the next of the segment being cut, or the first of
   * the next segment when the newest listed segment's last part said a segment starts there.
   */
  private preloadHint(live: RenditionLive, pending: PartGroup | undefined): string | undefined {
    if (pending) return pending.parts.at(-1)!.next;
    const last = live.groups.get(live.canonical!.lastMsn);
    const next = last && !last.broken ? last.parts.at(-1)?.next : undefined;
    return next && next.endsWith('.p0.m4s') ? next : undefined;
  }

  /** Where the playlist ends: the newest part listed, or the newest segment. */
  private lastPosition(live: RenditionLive): { msn: number; part?: number } {
    const canonical = live.canonical!;
    const pending = this.pendingGroup(live);
    if (pending) return { msn: canonical.lastMsn + 1, part: pending.parts.length - 1 };
    const last = live.groups.get(canonical.lastMsn);
    return { msn: canonical.lastMsn, part: last && !last.broken && last.parts.length > 0 ? last.parts.length - 1 : undefined };
  }

  /** Whether a blocking request is answered now, waits, or is refused (the reason). */
  private decide(live: RenditionLive, target: BlockingTarget): 'ready' | 'wait' | string {
    const canonical = live.canonical!;
    if (canonical.ended) return 'ready';
    // A segment listed whole holds all its parts.
    if (canonical.lastMsn >= target.msn) return 'ready';
    const pending = this.pendingGroup(live);
    const pendingParts = pending?.parts.length ?? 0;
    if (target.part !== undefined && target.msn === canonical.lastMsn + 1 && pendingParts > target.part) return 'ready';
    if (target.msn > canonical.lastMsn + 2) {
      return `_HLS_msn=${target.msn} is more than two segments past the playlist's last (${canonical.lastMsn})`;
    }
    if (target.part !== undefined) {
      const partsAhead = target.msn === canonical.lastMsn + 1 ? target.part - (pendingParts - 1) : target.part + 1;
      if (partsAhead > ADVANCE_PART_LIMIT) {
        return `_HLS_part=${target.part} of segment ${target.msn} is more than ${ADVANCE_PART_LIMIT} parts past the playlist's last`;
      }
    }
    return 'wait';
  }

  private answer(request: PlaylistRequest): PlaylistAnswer {
    const canonical = this.renditions.get(request.rendition)!.canonical!;
    return { kind: 'playlist', text: this.render(request), targetDuration: canonical.targetDuration, ended: canonical.ended };
  }

  private render(request: PlaylistRequest): string {
    const live = this.renditions.get(request.rendition)!;
    const canonical = live.canonical!;
    const canSkipUntil = skipBoundary(canonical.targetDuration);
    const offersSkip = canonical.totalDuration > canSkipUntil;
    const key = `${request.rendition}|${request.skip && offersSkip ? 1 : 0}`;
    const cached = this.rendered.get(key);
    if (cached !== undefined) return cached;
    // A rendition without parts yet (or ended): its stored playlist as it is.
    if (live.partTarget === 0 || canonical.ended) {
      this.rendered.set(key, canonical.text);
      return canonical.text;
    }
    const segmentParts = new Map<string, PartLine[]>();
    for (let msn = canonical.lastMsn - LISTED_PART_SEGMENTS + 1; msn <= canonical.lastMsn; msn += 1) {
      const group = live.groups.get(msn);
      if (group && !group.broken && canonical.tail.includes(group.segmentFile)) segmentParts.set(group.segmentFile, group.parts);
    }
    const pending = this.pendingGroup(live);
    const reports: RenditionReport[] = [];
    for (const [name, other] of this.renditions) {
      if (name === request.rendition || !other.canonical || other.canonical.ended) continue;
      const position = this.lastPosition(other);
      reports.push({ uri: `../${name}/${PLAYLIST_FILE}`, lastMsn: position.msn, lastPart: position.part });
    }
    let text = renderLowLatencyPlaylist(canonical.text, {
      partTarget: live.partTarget,
      segmentParts,
      pendingParts: pending?.parts ?? [],
      preloadHint: this.preloadHint(live, pending),
      reports,
      canSkipUntil: offersSkip ? canSkipUntil : undefined,
    });
    if (request.skip && offersSkip) text = deltaUpdate(text, canSkipUntil);
    this.rendered.set(key, text);
    return text;
  }
}
