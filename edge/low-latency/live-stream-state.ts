/**
 * One live stream's low-latency state at the edge: each rendition's timeline (the newest stored
 * media playlist, the parts of its newest segments, the segments closed from parts after it and
 * the segment being cut: rendition-timeline.ts), the viewers' requests waiting for a playlist or
 * part that does not exist yet, and the playlists rendered from them.
 *
 * Runtime-neutral: a Durable Object holds one on Workers, a map of them serves Node and Deno.
 * Everything here is in memory and may be lost (an evicted object, a restarted edge): segments
 * and playlists stay in storage, and the parts of the next segment rebuild it.
 */
import { PLAYLIST_FILE } from '../../shared/storage/layout.ts';
import { decideBlocking, type BlockingDecision } from './blocking-decision.ts';
import { HeldCounter, HeldRequests, type HeldLimits } from './held-requests.ts';
import { decidePart, PART_DID_NOT_COME, partWillNotCome } from './part-decision.ts';
import type { Busy, IncomingPart, PartAnswer, PlaylistAnswer, PlaylistRequest, RefusalCounts, SegmentAnswer } from './live-state-types.ts';
import { RenditionTimeline } from './rendition-timeline.ts';
import { deltaUpdate, renderLowLatencyPlaylist, skipBoundary, type RenditionReport } from '../manifest/low-latency-playlist.ts';

export type { BlockingTarget } from './blocking-decision.ts';
export type { Busy, IncomingPart, PartAnswer, PlaylistAnswer, PlaylistRequest, RefusalCounts, SegmentAnswer, StreamFacts } from './live-state-types.ts';

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

interface RenditionLive {
  timeline: RenditionTimeline;
  loading?: Promise<void>;
  /** Held playlist requests of this rendition, by (target, skip, facts): only its changes rescan them. */
  waiters: HeldRequests<PlaylistAnswer, PlaylistRequest>;
}

function defaultHoldMs(targetDuration: number): number {
  return 3 * targetDuration * 1000;
}

/** How long parts stay fetchable after they leave the playlist: three target durations (§6.2.2), and a second for requests on their way. */
function retainMs(targetDuration: number): number {
  return (3 * targetDuration + 1) * 1000;
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
      live = { timeline: new RenditionTimeline(), waiters: new HeldRequests() };
      this.renditions.set(name, live);
    }
    return live;
  }

  /** A new canonical playlist was stored: the parts it now lists as segments stay listed beside them. */
  acceptPlaylist(renditionName: string, text: string): void {
    const live = this.rendition(renditionName);
    if (live.timeline.acceptPlaylist(text)) this.changed(renditionName, live);
  }

  /**
   * A part, the moment it is complete. Parts of a segment arrive in order; a gap breaks the group.
   * The first part of a segment may close the one before it (listed whole at once).
   */
  acceptPart(renditionName: string, part: IncomingPart): void {
    const live = this.rendition(renditionName);
    const { stored, missedHint } = live.timeline.acceptPart(part, this.now());
    if (!stored) return;
    if (!live.timeline.canonical && !live.loading && this.options.loadPlaylist) this.load(renditionName, live);
    this.partWaiters.release(partKey(renditionName, part.file), { kind: 'part', bytes: stored.bytes, contentType: stored.contentType });
    if (missedHint) this.partWaiters.release(partKey(renditionName, missedHint), { kind: 'missing', reason: partWillNotCome(missedHint, `${part.file} came instead (its segment ended sooner)`) });
    this.changed(renditionName, live);
  }

  /**
   * A part the sidecar will not send (dropped, or named next and withheld: see the protocol's
   * `skipped`): whoever waits for it gets a 404 now with the reason, a request for it later gets
   * the same at once, and it is hinted no more.
   */
  partSkipped(renditionName: string, file: string, reason: string): void {
    const live = this.renditions.get(renditionName);
    if (!live) return;
    const wasHinted = live.timeline.skip(file, reason);
    this.partWaiters.release(partKey(renditionName, file), { kind: 'missing', reason: partWillNotCome(file, reason) });
    if (wasHinted) this.changed(renditionName, live);
  }

  /** No hinted part comes any more (the sidecar's channel closed, the stream ended): `reason` says which. */
  partsStopped(reason: string): void {
    for (const [name, live] of this.renditions) if (live.timeline.hint) this.partSkipped(name, live.timeline.hint, reason);
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
    if (!live.timeline.canonical && this.options.loadPlaylist) await (live.loading ?? this.load(request.rendition, live));
    if (!request.block) return live.timeline.canonical ? this.answer(request) : { kind: 'unknown' };
    if (live.timeline.canonical) {
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
    const found = live.timeline.findPart(file);
    const decision = decidePart(file, { held: found !== undefined, hint: live.timeline.hint, withdrawn: live.timeline.skippedBecause(file) });
    if (decision.kind === 'serve') return { kind: 'part', bytes: found!.bytes, contentType: found!.contentType };
    if (decision.kind === 'missing') return decision;
    const admission = this.admit(client);
    if (!admission.ok) return admission.busy;
    try {
      return await this.partWaiters.hold(partKey(renditionName, file), undefined, this.holdMs(live), { kind: 'missing', reason: PART_DID_NOT_COME });
    } finally {
      admission.release();
    }
  }

  /**
   * A segment listed from its parts before storage has it (the segment route asks on a storage
   * miss): its parts' bytes end to end. Never held: a segment is listed only once whole.
   */
  segment(renditionName: string, file: string): SegmentAnswer {
    const found = this.renditions.get(renditionName)?.timeline.findSegment(file);
    return found ? { kind: 'segment', ...found } : { kind: 'missing' };
  }

  /**
   * The bytes of a segment the sidecar names by its parts (the protocol's `segment`), to be
   * stored: exactly those parts of that rendition must be held (no other part of the segment,
   * none missing), of its content type, `byteLength` bytes together. The chunks are the parts'
   * own bytes, in order (not joined here: the store writes them end to end).
   */
  segmentFromParts(renditionName: string, file: string, parts: readonly string[], byteLength: number, contentType: string): { ok: true; chunks: Uint8Array<ArrayBuffer>[] } | { ok: false; reason: string } {
    const held = this.renditions.get(renditionName)?.timeline.partsOfSegment(file);
    if (!held) return { ok: false, reason: `no part of ${renditionName}/${file} is held here` };
    if (held.size !== parts.length) return { ok: false, reason: `${held.size} part(s) of ${renditionName}/${file} are held here, not the ${parts.length} named` };
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    let total = 0;
    for (const name of parts) {
      const part = held.get(name);
      if (!part) return { ok: false, reason: `part ${renditionName}/${name} is not held here` };
      if (part.contentType !== contentType) return { ok: false, reason: `part ${renditionName}/${name} is ${part.contentType}, not ${contentType}` };
      chunks.push(part.bytes);
      total += part.bytes.byteLength;
    }
    if (total !== byteLength) return { ok: false, reason: `the parts held of ${renditionName}/${file} are ${total} bytes, not the ${byteLength} named` };
    return { ok: true, chunks };
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
        if (text && !live.timeline.canonical) this.acceptPlaylist(renditionName, text);
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
    return (this.options.holdMs ?? defaultHoldMs)(live.timeline.canonical?.targetDuration || 2);
  }

  /** One rendition changed: its held requests are looked at again (no other rendition's). */
  private changed(renditionName: string, live: RenditionLive): void {
    const now = this.now();
    this.lastChangeAt = now;
    this.rendered.clear();
    const timeline = live.timeline;
    timeline.rollOver(now, retainMs(timeline.canonical?.targetDuration || 2));
    if (!timeline.canonical) return;
    for (const [key, request] of live.waiters.waiting()) {
      const decision = this.decide(live, request);
      if (decision.kind === 'wait') continue;
      live.waiters.release(key, decision.kind === 'ready' ? this.answer(request) : { kind: 'too-far', reason: decision.reason });
    }
  }

  private decide(live: RenditionLive, request: PlaylistRequest): BlockingDecision {
    return decideBlocking(live.timeline.playlistEnd(), request.block!, request.facts?.partTarget ?? live.timeline.partTarget);
  }

  private answer(request: PlaylistRequest): PlaylistAnswer {
    const canonical = this.renditions.get(request.rendition)!.timeline.canonical!;
    return { kind: 'playlist', text: this.render(request), targetDuration: canonical.targetDuration, ended: canonical.ended };
  }

  private render(request: PlaylistRequest): string {
    const timeline = this.renditions.get(request.rendition)!.timeline;
    const canonical = timeline.canonical!;
    const partTarget = request.facts?.partTarget ?? timeline.partTarget;
    // Without the stream's facts (a caller that has none) and without parts: the stored playlist.
    if (canonical.ended || partTarget === 0) return canonical.text;
    const canSkipUntil = skipBoundary(request.facts?.targetDuration ?? canonical.targetDuration);
    const atSegmentEnd = request.block !== undefined ? timeline.answersAtSegmentEnd(request.block) : timeline.answersPlainAtSegmentEnd(partTarget);
    const key = `${request.rendition}|${request.skip ? 1 : 0}|${partTarget}|${canSkipUntil}|${atSegmentEnd ? 1 : 0}`;
    const cached = this.rendered.get(key);
    if (cached !== undefined) return cached;
    const listing = timeline.listing(atSegmentEnd);
    const reports: RenditionReport[] = [];
    for (const [name, other] of this.renditions) {
      if (name === request.rendition || !other.timeline.canonical || other.timeline.canonical.ended) continue;
      const position = other.timeline.lastPosition();
      reports.push({ uri: `../${name}/${PLAYLIST_FILE}`, lastMsn: position.msn, lastPart: position.part });
    }
    let text = renderLowLatencyPlaylist(canonical.text, {
      partTarget,
      segmentParts: listing.segmentParts,
      closedSegments: listing.closed,
      pendingParts: listing.pending,
      preloadHint: listing.preloadHint,
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
