/**
 * One rendition's low-latency timeline at the edge: the newest stored (canonical) media
 * playlist, the parts of its newest segments and of the segments after it, and what the
 * playlist served from them lists. Pure state and rules: no held requests, no rendering, the
 * clock passed in.
 *
 * The segments after the stored playlist: a segment is listed whole from its parts the moment
 * the next segment's first part shows it is complete (closed), without waiting for the sidecar
 * to store it and write its playlist (which takes 0.3-1 s more: a stall at every boundary for a
 * player that follows parts). Its bytes are its parts' bytes end to end, which is what storage
 * gets under the same name, so its URI is served from the parts until storage has it. The stored
 * playlist stays the authority: once it lists a number, its entry is the one listed; when it
 * disagrees with a closed segment (another URI under that number), nothing more is closed or
 * listed from parts until the stored playlist has passed every segment already listed from
 * parts, which stay listed meanwhile: a playlist never goes back in media sequence numbers.
 * A new session's first segment needs its EXT-X-DISCONTINUITY and EXT-X-MAP from the stored
 * playlist: only segments of the stored playlist's last session are closed from parts.
 */
import { canonicalFacts, type CanonicalFacts, type ClosedSegment, type PartLine } from '../manifest/low-latency-playlist.ts';
import type { PlaylistEnd } from './blocking-decision.ts';
import type { IncomingPart } from './live-state-types.ts';
import { mediaSegmentFile } from '../../shared/storage/layout.ts';
import { addPart, durationOf, firstPartOf, listable, listedSegmentDuration, newGroup, received, segmentBytes, sessionOf, wholeBefore, type PartGroup, type StoredPart } from './part-group.ts';

interface Canonical extends CanonicalFacts {
  text: string;
  lastMsn: number;
  /** Session of the newest listed segment (a part of another session needs a discontinuity first). */
  lastSession: string | undefined;
}

/** What the served playlist adds to the stored one. */
export interface Listing {
  /** Parts of stored segments, by segment URI (the newest, within the part window). */
  segmentParts: Map<string, PartLine[]>;
  /** Segments closed from their parts, after the stored ones. */
  closed: ClosedSegment[];
  /** Parts of the segment being cut. */
  pending: readonly PartLine[];
  preloadHint?: string;
}

// Groups kept by sequence number, older than the newest listed segment: listed ones (three
// target durations hold at most three segments of at least a target duration each... or more
// when segments are short, hence a margin) and one to tell a request's part count.
const KEPT_GROUPS_BEHIND = 5;
// Listing windows meet at the boundary: floating sums of durations must not drop a segment.
const DURATION_EPSILON = 0.001;
/**
 * Segments closed from parts ahead of the stored playlist, at most. The stored playlist trails
 * by one segment, two under load; beyond three its writes have stopped (storage trouble), and a
 * viewer should wait for them rather than play on from memory that storage may never back.
 */
export const MAX_CLOSED_AHEAD = 3;

export class RenditionTimeline {
  canonical?: Canonical;
  partTarget = 0;
  /** The part the newest announcement said comes next. */
  hint?: string;
  /** The part groups of the newest segments, by media sequence number. */
  private readonly groups = new Map<number, PartGroup>();
  /** Groups no longer listed (or replaced): their parts stay fetchable a while (§6.2.2). */
  private retired: PartGroup[] = [];
  /** Segments closed from parts, numbered on from the stored playlist's last, oldest first. */
  private closed: PartGroup[] = [];
  /** The stored playlist disagreed with a closed segment: the parts' numbering is not trusted. */
  private disowned = false;
  /** Parts the sidecar said will not come (the newest few), with why: never hinted again. */
  private readonly skipped = new Map<string, string>();

  /** Number of the last segment listed whole (stored or closed from parts). */
  get lastMsn(): number {
    return this.canonical!.lastMsn + this.closed.length;
  }

  /** A stored playlist. False: older than the one held (storage writes can overtake each other). */
  acceptPlaylist(text: string): boolean {
    const facts = canonicalFacts(text);
    const lastMsn = facts.mediaSequence + facts.segmentCount - 1;
    if (this.canonical && !facts.ended && lastMsn < this.canonical.lastMsn) return false;
    // The stored playlist now lists these numbers: its entries win. One that names another
    // segment than the one closed from parts means the parts' numbering went astray.
    while (this.closed.length > 0 && this.closed[0]!.msn <= lastMsn) {
      const group = this.closed.shift()!;
      const back = lastMsn - group.msn;
      const stored = facts.tail[facts.tail.length - 1 - back];
      if (stored !== undefined && stored !== group.segmentFile) this.disowned = true;
    }
    if (this.closed.length === 0) this.disowned = false;
    this.canonical = { ...facts, text, lastMsn, lastSession: sessionOf(facts.tail.at(-1) ?? '') };
    this.closeFromParts();
    return true;
  }

  /** A part; what it tells whoever waits: the part itself, and a hinted part that will not come. */
  acceptPart(part: IncomingPart, now: number): { stored?: StoredPart; missedHint?: string } {
    this.partTarget = part.partTarget;
    const segmentFile = mediaSegmentFile(part.session, part.segmentTime);
    let group = this.groups.get(part.msn);
    if (!group || group.segmentFile !== segmentFile) {
      // Another segment under this number (a restarted sidecar's): the old parts stay fetchable.
      if (group) {
        group.unlistedAt ??= now;
        this.retired.push(group);
      }
      group = newGroup(part);
      this.groups.set(part.msn, group);
    }
    const stored = addPart(group, part);
    if (!stored) return {};
    const previousHint = this.hint;
    // A part named next that was already said not to come is not waited for.
    this.hint = this.skipped.has(part.next) ? undefined : part.next;
    this.closeFromParts();
    // A hinted part that did not come (the segment ended sooner): whoever waits for it learns now.
    const missedHint = previousHint && previousHint !== part.file && previousHint !== this.hint ? previousHint : undefined;
    return { stored, missedHint };
  }

  /** A part that will not come, and why: not hinted any more (false: it came already, or was not hinted). */
  skip(file: string, reason: string): boolean {
    this.skipped.set(file, reason);
    if (this.skipped.size > 16) this.skipped.delete(this.skipped.keys().next().value!);
    if (this.hint !== file) return false;
    this.hint = undefined;
    return true;
  }

  /** Why the sidecar said this part will not come (undefined: it never said so, or not lately). */
  skippedBecause(file: string): string | undefined {
    return this.skipped.get(file);
  }

  /** Closes every segment after the last listed one that its successor's first part shows whole. */
  private closeFromParts(): void {
    const canonical = this.canonical;
    if (!canonical || canonical.ended || this.disowned) return;
    while (this.closed.length < MAX_CLOSED_AHEAD) {
      const group = this.groups.get(this.lastMsn + 1);
      if (!this.continuesListing(group) || !wholeBefore(group, this.groups.get(group.msn + 1))) return;
      // A segment longer than the target duration would make the playlist invalid: storage's
      // playlist (with its own target duration) lists it.
      if (Math.round(durationOf(group.parts)) > canonical.targetDuration) return;
      group.closed = true;
      this.closed.push(group);
    }
  }

  /**
   * Whether `group` may be listed next, after the last listed segment: it has parts from its
   * first on, it is of the listed session (a new session waits for its discontinuity), and the
   * stored playlist agrees with the parts' numbering where they meet.
   */
  private continuesListing(group: PartGroup | undefined): group is PartGroup {
    const canonical = this.canonical!;
    if (canonical.ended || this.disowned || !listable(group) || group.session !== canonical.lastSession) return false;
    if (this.closed.length > 0) return true;
    const atEnd = this.groups.get(canonical.lastMsn);
    return !atEnd || atEnd.segmentFile === canonical.tail.at(-1);
  }

  /** The parts listed after the last whole segment: the next segment's, when nothing stands between. */
  private pendingGroup(): PartGroup | undefined {
    const group = this.groups.get(this.lastMsn + 1);
    return this.continuesListing(group) ? group : undefined;
  }

  /**
   * Whether a blocking request for `target` is answered with the playlist as it stood when its
   * segment ended (none of the next segment's parts): `target` is the last part of the newest
   * whole segment, and the next segment has less than half a target duration listed. hls.js with
   * `lowLatencyMode: false` asks for a segment's last part; shown the next segment just begun, it
   * asks at once for that one's last part, and gives up after 0.8 target durations (1.6 s at 2 s):
   * before it comes. Shown the segment's end, it asks a reload interval later. The answer holds
   * what was asked for, as every answer does; later parts are a blocking reload away.
   */
  answersAtSegmentEnd(target: { msn: number; part?: number }): boolean {
    const canonical = this.canonical;
    if (!canonical || canonical.ended || target.part === undefined || target.msn !== this.lastMsn) return false;
    const segment = this.groups.get(target.msn);
    if (!listable(segment) || target.part !== segment.parts.length - 1) return false;
    const pending = this.pendingGroup();
    return pending !== undefined && durationOf(pending.parts) < canonical.targetDuration / 2;
  }

  /**
   * Whether a plain request (no blocking directive) is answered as the playlist stood when the
   * last whole segment ended: the next segment has so little listed that a client blocking at once
   * for that segment's last part would wait past its own timeout. hls.js with `lowLatencyMode:
   * false` does exactly that on a playlist showing a segment begun, and gives up after the larger
   * of three part targets and 0.8 target durations (1.6 s at 2 s): with only the first 0.333 s part
   * listed, the last is 1.67 s away, a non-fatal timeout at start-up. Shown the segment's end, it
   * asks a reload interval later. A low-latency client shown the segment's end blocks for the
   * next part and has it at once.
   */
  answersPlainAtSegmentEnd(partTarget: number): boolean {
    const canonical = this.canonical;
    if (!canonical || canonical.ended || partTarget <= 0) return false;
    const pending = this.pendingGroup();
    if (pending === undefined) return false;
    const blockingTimeout = Math.max(3 * partTarget, 0.8 * canonical.targetDuration);
    return canonical.targetDuration - durationOf(pending.parts) > blockingTimeout;
  }

  /**
   * The listed segments whose parts the playlist lists: only those that start within three
   * target durations of the playlist's end (§6.2.2's "last three target durations"). `atSegmentEnd`:
   * without the parts after the last whole segment (answersAtSegmentEnd).
   */
  listing(atSegmentEnd = false): Listing {
    const canonical = this.canonical!;
    const listing: Listing = { segmentParts: new Map(), closed: [], pending: [] };
    if (canonical.ended) return listing;
    const pending = atSegmentEnd ? undefined : this.pendingGroup();
    listing.pending = pending?.parts ?? [];
    listing.preloadHint = this.preloadHint(pending);
    const window = 3 * canonical.targetDuration + DURATION_EPSILON;
    let fromEnd = durationOf(listing.pending);
    for (let back = this.closed.length - 1; back >= 0; back--) {
      const group = this.closed[back]!;
      const duration = listedSegmentDuration(group, this.groups.get(group.msn + 1));
      fromEnd += duration;
      listing.closed.unshift({ uri: group.segmentFile, duration, parts: fromEnd > window ? [] : group.parts });
    }
    this.dateClosed(listing.closed);
    for (let back = 0; back < canonical.tail.length; back++) {
      const at = canonical.tail.length - 1 - back;
      const uri = canonical.tail[at]!;
      fromEnd += canonical.tailDurations[at]!;
      if (fromEnd > window) break;
      // A gap has no media: its parts are not offered either (the stored playlist wins).
      if (canonical.tailGaps[at]) continue;
      const group = this.groups.get(canonical.lastMsn - back);
      if (listable(group) && group.segmentFile === uri) listing.segmentParts.set(uri, group.parts);
    }
    return listing;
  }

  /**
   * Closed segments get EXT-X-PROGRAM-DATE-TIME counted on from the stored playlist's last
   * segment (its date + durations): what a player would carry forward without one, written out so
   * every player and a delta update read the same. With durations as the sidecar stores them
   * (listedSegmentDuration) these are the dates its playlist will give them; with the parts' sum
   * (rounded part durations), up to a millisecond off them a segment.
   */
  private dateClosed(closed: ClosedSegment[]): void {
    const canonical = this.canonical!;
    if (canonical.lastProgramDateTime === undefined || canonical.tailDurations.length === 0) return;
    let date = canonical.lastProgramDateTime + canonical.tailDurations.at(-1)! * 1000;
    for (const segment of closed) {
      segment.programDateTime = Math.round(date);
      date += segment.duration * 1000;
    }
  }

  /**
   * The part after the newest one listed: the next of the segment being cut, or the first of
   * the next segment when the newest listed segment's last part said a segment starts there.
   */
  private preloadHint(pending: PartGroup | undefined): string | undefined {
    if (pending) return this.skipped.has(pending.parts.at(-1)!.next) ? undefined : pending.parts.at(-1)!.next;
    if (this.disowned) return undefined;
    const last = this.groups.get(this.lastMsn);
    const next = listable(last) ? last.parts.at(-1)!.next : undefined;
    // A listed segment is whole: a hint for another part of it would name a part that never comes.
    if (!next || !next.endsWith('.p0.m4s') || next === firstPartOf(last!) || this.skipped.has(next)) return undefined;
    // The next segment's parts came without its first (the sidecar skipped it): it never comes.
    const successor = this.groups.get(this.lastMsn + 1);
    return successor && !successor.byFile.has(next) ? undefined : next;
  }

  /** Where the playlist ends, for the blocking decision. */
  playlistEnd(): PlaylistEnd {
    const canonical = this.canonical!;
    const lastMsn = this.lastMsn;
    const next = this.groups.get(lastMsn + 1);
    return {
      ended: canonical.ended,
      lastMsn,
      partsOf: (msn) => {
        const group = this.groups.get(msn);
        return listable(group) ? group.parts.length : undefined;
      },
      partsListed: this.pendingGroup()?.parts.length ?? 0,
      // How far the next segment has come, listed or not yet.
      partsReceived: next ? received(next) : 0,
    };
  }

  /** Where the playlist ends, for rendition reports: the newest part listed, or the newest segment. */
  lastPosition(): { msn: number; part?: number } {
    const pending = this.pendingGroup();
    if (pending) return { msn: this.lastMsn + 1, part: pending.parts.length - 1 };
    const closed = this.closed.at(-1);
    if (closed) return { msn: this.lastMsn, part: closed.parts.length - 1 };
    const last = this.listing().segmentParts.get(this.canonical!.tail.at(-1) ?? '');
    return { msn: this.lastMsn, part: last ? last.length - 1 : undefined };
  }

  findPart(file: string): StoredPart | undefined {
    for (const group of this.groups.values()) {
      const found = group.byFile.get(file);
      if (found) return found;
    }
    for (const group of this.retired) {
      const found = group.byFile.get(file);
      if (found) return found;
    }
    return undefined;
  }

  /** The parts held for segment `file` (SESSION-T.m4s), whatever was listed of them: the newest group of that name. */
  partsOfSegment(file: string): ReadonlyMap<string, StoredPart> | undefined {
    for (const group of this.groups.values()) if (group.segmentFile === file) return group.byFile;
    for (let i = this.retired.length - 1; i >= 0; i--) if (this.retired[i]!.segmentFile === file) return this.retired[i]!.byFile;
    return undefined;
  }

  /** A segment listed from its parts (still listed, or not long ago), as its bytes. */
  findSegment(file: string): { bytes: Uint8Array<ArrayBuffer>; contentType: string } | undefined {
    for (const group of [...this.groups.values(), ...this.retired]) {
      if (group.closed && group.segmentFile === file) return { bytes: segmentBytes(group), contentType: group.parts[0]!.contentType };
    }
    return undefined;
  }

  /**
   * Parts that left the playlist stay fetchable for `keepMs` after (§6.2.2), whatever rolled
   * the state over (new playlists, a segment number reused, the stream's end). A segment closed
   * from parts is served from them as long as its parts are.
   */
  rollOver(now: number, keepMs: number): void {
    const canonical = this.canonical;
    if (canonical) {
      const listing = this.listing();
      const listed = new Set<string>([...listing.segmentParts.keys(), ...listing.closed.filter((segment) => segment.parts.length > 0).map((segment) => segment.uri)]);
      for (const [msn, group] of this.groups) {
        if (msn > this.lastMsn) continue;
        if (listed.has(group.segmentFile) && this.groups.get(msn) === group) group.unlistedAt = undefined;
        else group.unlistedAt ??= now;
        if (msn <= canonical.lastMsn - KEPT_GROUPS_BEHIND) {
          this.groups.delete(msn);
          this.retired.push(group);
        }
      }
    }
    this.retired = this.retired.filter((group) => now - group.unlistedAt! < keepMs);
  }
}
