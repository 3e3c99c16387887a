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
import { decideBlocking, type BlockingDecision, type BlockingTarget, type PlaylistEnd } from './blocking-decision.ts';
import { HeldCounter, HeldRequests, type HeldLimits } from './held-requests.ts';
import { canonicalFacts, deltaUpdate, renderLowLatencyPlaylist, skipBoundary, type CanonicalFacts, type PartLine, type RenditionReport } from '../manifest/low-latency-playlist.ts';

export type { BlockingTarget } from './blocking-decision.ts';

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

/**
 * Facts of the stream fixed when it starts (its status document): EXT-X-SERVER-CONTROL and
 * EXT-X-PART-INF are computed from these only, so they read the same in every reload of every
 * rendition for the stream's life, whatever the live state holds (§6.2.1, §6.2.4).
 */
export interface StreamFacts {
  /** Nominal segment duration, seconds. */
  targetDuration: number;
  /** PART-TARGET, seconds. */
  partTarget: number;
}

export interface PlaylistRequest {
  rendition: string;
  block?: BlockingTarget;
  /** `_HLS_skip=YES`: a delta update, when the playlist offers one. */
  skip: boolean;
  /** The stream's status lists this rendition (a rendition with live state is known too). */
  listed?: boolean;
  facts?: StreamFacts;
  /** The viewer's address, when the runtime tells it: held requests per address are limited. */
  client?: string;
}

/** A held request refused for the limits: 503 with Retry-After. */
export interface Busy {
  kind: 'busy';
  reason: string;
  retryAfterSeconds: number;
}

export type PlaylistAnswer =
  /** The low-latency playlist (before any per-viewer rewriting), and the facts its caching depends on. */
  | { kind: 'playlist'; text: string; targetDuration: number; ended: boolean }
  /** No live state for this rendition: storage's playlist is the answer (a non-blocking request). */
  | { kind: 'unknown' }
  /** The stream has no such rendition (neither live state nor its status lists it): 404 at once. */
  | { kind: 'no-such-rendition' }
  | { kind: 'too-far'; reason: string }
  /** The target did not appear within the hold limit. */
  | { kind: 'timeout' }
  | Busy;

export type PartAnswer = { kind: 'part'; bytes: Uint8Array<ArrayBuffer>; contentType: string } | { kind: 'missing' } | Busy;

/** Requests refused so far, by why (exposed for metrics and tests). */
export interface RefusalCounts {
  unknownRendition: number;
  streamLimit: number;
  addressLimit: number;
}

export interface LiveStreamStateOptions {
  /** Reads a rendition's stored media playlist, when the state starts without it (a restarted edge). */
  loadPlaylist?: (rendition: string) => Promise<string | undefined>;
  /** How long a request may be held; the spec's limit is three target durations. */
  holdMs?: (targetDuration: number) => number;
  /** Held requests allowed at once (playlists and parts together). */
  limits?: Partial<HeldLimits>;
  /** Where refusals are reported, at most once a minute (default: console.warn). */
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * Defaults of the held-request limits. Per stream: a Durable Object measured 4.6 s to release
 * 2 000 held viewers (TOOLCHAIN.md), so a few thousand is already more than one object answers in
 * time; a CDN in front collapses identical requests long before. Per address: one hls.js viewer
 * holds about four (a playlist per followed rendition, a hinted part each): fifty lets a
 * household or small office share an address, not one client take the stream's share.
 */
export const DEFAULT_HELD_LIMITS: HeldLimits = { perStream: 4000, perAddress: 50 };

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
  /** Parts 0, 1, … without a gap: what may be listed. */
  parts: StoredPart[];
  /** Every part received for the segment (a part after a gap too), by file name: what is served. */
  byFile: Map<string, StoredPart>;
  /** A part went missing: the group is not listed (its segment still is, whole). */
  broken: boolean;
  /** When its parts left the playlist (undefined: maybe still listed). */
  unlistedAt?: number;
}

interface Canonical extends CanonicalFacts {
  text: string;
  lastMsn: number;
  /** Session of the newest listed segment (a part of another session needs a discontinuity first). */
  lastSession: string | undefined;
}

interface RenditionLive {
  canonical?: Canonical;
  /** The part groups of the newest segments, by media sequence number. */
  groups: Map<number, PartGroup>;
  /** Groups no longer listed (or replaced): their parts stay fetchable a while (§6.2.2). */
  retired: PartGroup[];
  partTarget: number;
  /** The part the newest announcement said comes next. */
  hint?: string;
  loading?: Promise<void>;
  /** Held playlist requests of this rendition, by (target, skip, facts): only its changes rescan them. */
  waiters: HeldRequests<PlaylistAnswer, PlaylistRequest>;
}

// Groups kept by sequence number, older than the newest listed segment: listed ones (three
// target durations hold at most three segments of at least a target duration each... or more
// when segments are short, hence a margin) and one to tell a request's part count.
const KEPT_GROUPS_BEHIND = 5;
// Listing windows meet at the boundary: floating sums of durations must not drop a segment.
const DURATION_EPSILON = 0.001;

function defaultHoldMs(targetDuration: number): number {
  return 3 * targetDuration * 1000;
}

/** How long parts stay fetchable after they leave the playlist: three target durations (§6.2.2), and a second for requests on their way. */
function retainMs(targetDuration: number): number {
  return (3 * targetDuration + 1) * 1000;
}

/** `SESSION-T.m4s` → session. */
function sessionOf(segmentUri: string): string | undefined {
  return /^([a-z0-9]+)-\d+\.m4s$/.exec(segmentUri)?.[1];
}

function sum(parts: readonly PartLine[]): number {
  let total = 0;
  for (const part of parts) total += part.duration;
  return total;
}

const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class LiveStreamState {
  private readonly renditions = new Map<string, RenditionLive>();
  private readonly options: LiveStreamStateOptions;
  private readonly limits: HeldLimits;
  private readonly counter: HeldCounter;
  /** By rendition and part file name: renditions share part names. */
  private readonly partWaiters = new HeldRequests<PartAnswer>();
  /** Rendered playlists of the current state, by request shape; cleared on every change. */
  private readonly rendered = new Map<string, string>();
  private readonly now: () => number;
  private readonly refusalCounts: RefusalCounts = { unknownRendition: 0, streamLimit: 0, addressLimit: 0 };
  private refusalsLogged = 0;
  private lastRefusalLog = Number.NEGATIVE_INFINITY;
  lastChangeAt: number;

  constructor(options: LiveStreamStateOptions = {}) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.limits = { ...DEFAULT_HELD_LIMITS, ...options.limits };
    this.counter = new HeldCounter(this.limits);
    this.lastChangeAt = this.now();
  }

  /** Requests held right now (playlists and parts). */
  get held(): number {
    return this.counter.held;
  }

  /** Requests refused so far: for a rendition the stream does not have, and beyond the held limits. */
  get refusals(): Readonly<RefusalCounts> {
    return { ...this.refusalCounts };
  }

  private rendition(name: string): RenditionLive {
    let live = this.renditions.get(name);
    if (!live) {
      live = { groups: new Map(), retired: [], partTarget: 0, waiters: new HeldRequests() };
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
    this.changed(renditionName, live);
  }

  /** A part, the moment it is complete. Parts of a segment arrive in order; a gap breaks the group. */
  acceptPart(renditionName: string, part: IncomingPart): void {
    const live = this.rendition(renditionName);
    live.partTarget = part.partTarget;
    const segmentFile = `${part.session}-${part.segmentTime}.m4s`;
    let group = live.groups.get(part.msn);
    if (!group || group.segmentFile !== segmentFile) {
      // Another segment under this number (a restarted sidecar's): the old parts stay fetchable.
      if (group) this.retire(live, group);
      group = { segmentFile, session: part.session, parts: [], byFile: new Map(), broken: false };
      live.groups.set(part.msn, group);
    }
    // A part is never replaced: the same name always serves the same bytes.
    if (group.byFile.has(part.file)) return;
    const stored: StoredPart = { uri: part.file, file: part.file, next: part.next, index: part.index, duration: part.duration, independent: part.independent, bytes: part.bytes, contentType: part.contentType };
    group.byFile.set(part.file, stored);
    if (part.index !== group.parts.length) group.broken = true;
    else if (!group.broken) group.parts.push(stored);
    const previousHint = live.hint;
    live.hint = part.next;
    if (!live.canonical && !live.loading && this.options.loadPlaylist) this.load(renditionName, live);
    this.partWaiters.release(partKey(renditionName, part.file), { kind: 'part', bytes: part.bytes, contentType: part.contentType });
    // A hinted part that did not come (the segment ended sooner): whoever waits for it learns now.
    if (previousHint && previousHint !== part.file && previousHint !== live.hint) this.partWaiters.release(partKey(renditionName, previousHint), { kind: 'missing' });
    this.changed(renditionName, live);
  }

  /** The playlist, at once or when it holds the blocking target; too far ahead is refused. */
  async playlist(request: PlaylistRequest): Promise<PlaylistAnswer> {
    let live = this.renditions.get(request.rendition);
    if (!live && !request.listed) {
      this.refused('unknownRendition');
      return { kind: 'no-such-rendition' };
    }
    live ??= this.rendition(request.rendition);
    // A rendition without a playlist yet (a restarted edge): storage's, read once, is the start.
    if (!live.canonical && this.options.loadPlaylist) await (live.loading ?? this.load(request.rendition, live));
    if (!request.block) return live.canonical ? this.answer(request) : { kind: 'unknown' };
    if (live.canonical) {
      const decision = this.decide(live, request);
      if (decision.kind === 'ready') return this.answer(request);
      if (decision.kind === 'refuse') return { kind: 'too-far', reason: decision.reason };
    }
    const admission = this.admit(request.client);
    if (!admission.ok) return admission.busy;
    const facts = request.facts;
    const key = `${request.block.msn}|${request.block.part ?? ''}|${request.skip ? 1 : 0}|${facts ? `${facts.targetDuration}|${facts.partTarget}` : ''}`;
    try {
      return await live.waiters.hold(key, request, this.holdMs(live), { kind: 'timeout' });
    } finally {
      admission.release();
    }
  }

  /** A part's bytes; the hinted part is waited for. */
  async part(renditionName: string, file: string, client?: string): Promise<PartAnswer> {
    const live = this.renditions.get(renditionName);
    if (!live) return { kind: 'missing' };
    const found = this.findPart(live, file);
    if (found) return { kind: 'part', bytes: found.bytes, contentType: found.contentType };
    if (live.hint !== file) return { kind: 'missing' };
    const admission = this.admit(client);
    if (!admission.ok) return admission.busy;
    try {
      return await this.partWaiters.hold(partKey(renditionName, file), undefined, this.holdMs(live), { kind: 'missing' });
    } finally {
      admission.release();
    }
  }

  /** Answers every held request with `missing`/`timeout` (the state is going away). */
  close(): void {
    for (const live of this.renditions.values()) live.waiters.releaseAll({ kind: 'timeout' });
    this.partWaiters.releaseAll({ kind: 'missing' });
  }

  private load(renditionName: string, live: RenditionLive): Promise<void> {
    const load = this.options.loadPlaylist!;
    live.loading = load(renditionName)
      .then((text) => {
        if (text && !live.canonical) this.acceptPlaylist(renditionName, text);
      })
      .catch(() => undefined);
    return live.loading;
  }

  private admit(client: string | undefined): { ok: true; release: () => void } | { ok: false; busy: Busy } {
    const admission = this.counter.admit(client);
    if (admission.ok) return admission;
    this.refused(admission.limit === 'stream' ? 'streamLimit' : 'addressLimit');
    const reason =
      admission.limit === 'stream'
        ? `this stream holds ${this.limits.perStream} waiting requests already (the limit): ask again shortly`
        : `this address holds ${this.limits.perAddress} waiting requests on this stream already (the limit): ask again shortly`;
    return { ok: false, busy: { kind: 'busy', reason, retryAfterSeconds: 1 } };
  }

  /** Counts a refusal; says so in the log at most once a minute (a flood must not flood the log). */
  private refused(why: keyof RefusalCounts): void {
    this.refusalCounts[why] += 1;
    const now = this.now();
    if (now - this.lastRefusalLog < REFUSAL_LOG_INTERVAL_MS) return;
    this.lastRefusalLog = now;
    const { unknownRendition, streamLimit, addressLimit } = this.refusalCounts;
    const total = unknownRendition + streamLimit + addressLimit;
    (this.options.log ?? console.warn)(
      `edge: low-latency requests refused: ${total - this.refusalsLogged} since the last report (so far: ${unknownRendition} for renditions the stream does not have, ${streamLimit} beyond the stream's ${this.limits.perStream} held, ${addressLimit} beyond an address's ${this.limits.perAddress} held)`,
    );
    this.refusalsLogged = total;
  }

  private holdMs(live: RenditionLive): number {
    return (this.options.holdMs ?? defaultHoldMs)(live.canonical?.targetDuration || 2);
  }

  private findPart(live: RenditionLive, file: string): StoredPart | undefined {
    for (const group of live.groups.values()) {
      const found = group.byFile.get(file);
      if (found) return found;
    }
    for (const group of live.retired) {
      const found = group.byFile.get(file);
      if (found) return found;
    }
    return undefined;
  }

  private retire(live: RenditionLive, group: PartGroup): void {
    group.unlistedAt ??= this.now();
    live.retired.push(group);
  }

  /** One rendition changed: its held requests are looked at again (no other rendition's). */
  private changed(renditionName: string, live: RenditionLive): void {
    this.lastChangeAt = this.now();
    this.rendered.clear();
    this.rollOver(live);
    if (!live.canonical) return;
    for (const [key, request] of live.waiters.waiting()) {
      const decision = this.decide(live, request);
      if (decision.kind === 'wait') continue;
      live.waiters.release(key, decision.kind === 'ready' ? this.answer(request) : { kind: 'too-far', reason: decision.reason });
    }
  }

  /**
   * Parts that left the playlist stay fetchable for three target durations after (§6.2.2),
   * whatever rolled the state over (new playlists, a segment number reused, the stream's end).
   */
  private rollOver(live: RenditionLive): void {
    const canonical = live.canonical;
    const now = this.now();
    if (canonical) {
      const listed = new Set(this.listedGroups(live).values());
      for (const [msn, group] of live.groups) {
        if (msn > canonical.lastMsn) continue;
        if (listed.has(group)) group.unlistedAt = undefined;
        else group.unlistedAt ??= now;
        if (msn <= canonical.lastMsn - KEPT_GROUPS_BEHIND) {
          live.groups.delete(msn);
          this.retire(live, group);
        }
      }
    }
    const keepMs = retainMs(canonical?.targetDuration || 2);
    live.retired = live.retired.filter((group) => now - group.unlistedAt! < keepMs);
  }

  /** The parts listed after the last segment: the next segment's, when nothing stands between. */
  private pendingGroup(live: RenditionLive): PartGroup | undefined {
    const canonical = live.canonical!;
    const group = live.groups.get(canonical.lastMsn + 1);
    // A part of a new session would need EXT-X-DISCONTINUITY and its EXT-X-MAP first: it waits for its segment's listing.
    if (canonical.ended || !group || group.broken || group.parts.length === 0 || group.session !== canonical.lastSession) return undefined;
    return group;
  }

  /**
   * The listed segments whose parts the playlist lists, by segment URI: only those that start
   * within three target durations of the playlist's end (§6.2.2's "last three target durations").
   */
  private listedGroups(live: RenditionLive): Map<string, PartGroup> {
    const canonical = live.canonical!;
    const listed = new Map<string, PartGroup>();
    if (canonical.ended) return listed;
    const window = 3 * canonical.targetDuration + DURATION_EPSILON;
    let fromEnd = sum(this.pendingGroup(live)?.parts ?? []);
    for (let back = 0; back < canonical.tail.length; back++) {
      const uri = canonical.tail[canonical.tail.length - 1 - back]!;
      fromEnd += canonical.tailDurations[canonical.tailDurations.length - 1 - back]!;
      if (fromEnd > window) break;
      const group = live.groups.get(canonical.lastMsn - back);
      if (group && !group.broken && group.parts.length > 0 && group.segmentFile === uri) listed.set(uri, group);
    }
    return listed;
  }

  /**
   * The part after the newest one listed: the next of the segment being cut, or the first of
   * the next segment when the newest listed segment's last part said a segment starts there.
   */
  private preloadHint(live: RenditionLive, pending: PartGroup | undefined): string | undefined {
    if (pending) return pending.parts.at(-1)!.next;
    const last = live.groups.get(live.canonical!.lastMsn);
    const next = last && !last.broken ? last.parts.at(-1)?.next : undefined;
    // A listed segment is whole: a hint for another part of it would name a part that never comes.
    return next && next.endsWith('.p0.m4s') && `${next.slice(0, -'.p0.m4s'.length)}.m4s` !== last!.segmentFile ? next : undefined;
  }

  /** Where the playlist ends, for the blocking decision. */
  private playlistEnd(live: RenditionLive): PlaylistEnd {
    const canonical = live.canonical!;
    const next = live.groups.get(canonical.lastMsn + 1);
    return {
      ended: canonical.ended,
      lastMsn: canonical.lastMsn,
      partsOf: (msn) => {
        const group = live.groups.get(msn);
        return group && !group.broken && group.parts.length > 0 ? group.parts.length : undefined;
      },
      partsListed: this.pendingGroup(live)?.parts.length ?? 0,
      // How far the next segment has come, listed or not yet.
      partsReceived: next ? received(next) : 0,
    };
  }

  /** Where the playlist ends, for rendition reports: the newest part listed, or the newest segment. */
  private lastPosition(live: RenditionLive): { msn: number; part?: number } {
    const canonical = live.canonical!;
    const pending = this.pendingGroup(live);
    if (pending) return { msn: canonical.lastMsn + 1, part: pending.parts.length - 1 };
    const last = this.listedGroups(live).get(canonical.tail.at(-1) ?? '');
    return { msn: canonical.lastMsn, part: last ? last.parts.length - 1 : undefined };
  }

  private decide(live: RenditionLive, request: PlaylistRequest): BlockingDecision {
    return decideBlocking(this.playlistEnd(live), request.block!, request.facts?.partTarget ?? live.partTarget);
  }

  private answer(request: PlaylistRequest): PlaylistAnswer {
    const canonical = this.renditions.get(request.rendition)!.canonical!;
    return { kind: 'playlist', text: this.render(request), targetDuration: canonical.targetDuration, ended: canonical.ended };
  }

  private render(request: PlaylistRequest): string {
    const live = this.renditions.get(request.rendition)!;
    const canonical = live.canonical!;
    const partTarget = request.facts?.partTarget ?? live.partTarget;
    // Without the stream's facts (a caller that has none) and without parts: the stored playlist.
    if (canonical.ended || partTarget === 0) return canonical.text;
    const canSkipUntil = skipBoundary(request.facts?.targetDuration ?? canonical.targetDuration);
    const key = `${request.rendition}|${request.skip ? 1 : 0}|${partTarget}|${canSkipUntil}`;
    const cached = this.rendered.get(key);
    if (cached !== undefined) return cached;
    const segmentParts = new Map<string, PartLine[]>();
    for (const [uri, group] of this.listedGroups(live)) segmentParts.set(uri, group.parts);
    const pending = this.pendingGroup(live);
    const reports: RenditionReport[] = [];
    for (const [name, other] of this.renditions) {
      if (name === request.rendition || !other.canonical || other.canonical.ended) continue;
      const position = this.lastPosition(other);
      reports.push({ uri: `../${name}/${PLAYLIST_FILE}`, lastMsn: position.msn, lastPart: position.part });
    }
    let text = renderLowLatencyPlaylist(canonical.text, {
      partTarget,
      segmentParts,
      pendingParts: pending?.parts ?? [],
      preloadHint: this.preloadHint(live, pending),
      reports,
      // Always offered, from facts known at the start: the header never changes (§6.2.4). A skip
      // request on a playlist shorter than the boundary gets the whole playlist (nothing to skip).
      canSkipUntil,
    });
    if (request.skip) text = deltaUpdate(text, canSkipUntil);
    this.rendered.set(key, text);
    return text;
  }
}

function partKey(rendition: string, file: string): string {
  return `${rendition}/${file}`;
}

/** One past the newest part index received: how far the segment has come, gaps or not. */
function received(group: PartGroup): number {
  let count = 0;
  for (const part of group.byFile.values()) count = Math.max(count, part.index + 1);
  return count;
}
