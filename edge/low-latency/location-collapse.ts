/**
 * Low-latency viewers fanned out at the edge location: blocking playlist reloads and held part
 * requests reach the stream's live state (its Durable Object on Workers) about once per
 * (isolate, rendition, part), however many viewers ask. In front of any coordinator, the same on
 * Workers, Node and Deno:
 *
 * 1. identical concurrent requests in this isolate are joined into one call (joined-waits.ts):
 *    the canonical answer is plain data, shared before any per-viewer work (token check before,
 *    token rewrite after, both in the routes);
 * 2. a blocking answer and a part, once they exist, are kept in the location's cache
 *    (answer-cache.ts), so other isolates of the location answer from it.
 *
 * Limits, counted here because a joined call stands for many viewers: per client address, every
 * viewer waiting here counts (the same fifty as the live state's), so one address cannot hold
 * more by asking the same thing; per stream, the viewers this isolate holds (joiners cost it a
 * promise each, no call). The call itself carries no address: it stands for all of them, and one
 * address's limit must not refuse the others. The live state's per-stream limit then counts
 * calls (one per isolate and wait), which is what the Durable Object spends.
 */
import type { Context } from 'hono';
import type { LeaseRequest } from '../../shared/live-channel-protocol.ts';
import type { ResponseCache } from '../cache/cached-object-store.ts';
import { AnswerCache, partAnswerKey, playlistAnswerKey } from './answer-cache.ts';
import type { LowLatencyCoordinator, ViewerCall } from './coordinator.ts';
import { HeldCounter, type HeldLimits } from './held-requests.ts';
import { JoinedWaits, type KeepAlive } from './joined-waits.ts';
import type { Busy, IncomingPart, PartAnswer, PlaylistAnswer, PlaylistRequest, SegmentAnswer } from './live-state-types.ts';

export interface LocationCollapseOptions {
  /** The location's cache (Workers: caches.default); absent: joining in this process only. */
  cache?: ResponseCache;
  /** Viewers held here at once, per stream and per client address. */
  limits?: Partial<HeldLimits>;
  /** Joinable calls at once in this isolate (distinct waits); beyond, calls are made alone. */
  maxCalls?: number;
  /** Workers: joiners look for the answer this often on timers of their own (joined-waits.ts); unset: they await the call. */
  pollMs?: number;
  /** Where refusals are reported, at most once a minute (default: console.warn). */
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * Per address: the live state's fifty (one hls.js viewer holds about four). Per stream: what
 * one process holds cheaply (the in-process benchmark held 10 000 on one stream).
 */
export const LOCATION_HELD_LIMITS: HeldLimits = { perStream: 20_000, perAddress: 50 };
const MAX_CALLS = 10_000;
/**
 * How often a joiner on Workers looks for the answer: it answers at most this much after the
 * viewer whose call it joined (a part is a third of a second), at a timer callback per look.
 */
export const WORKERS_JOIN_POLL_MS = 25;
const REPORT_INTERVAL_MS = 60_000;
// The live state holds a request three target durations; a joiner waits that and a margin.
const HOLD_TARGET_DURATIONS = 3;
const PATIENCE_MARGIN_MS = 2_000;
// A plain (non-blocking) request is answered at once: a joiner waits this long at most.
const PLAIN_PATIENCE_MS = 5_000;

export class LocationCollapse implements LowLatencyCoordinator {
  private readonly inner: LowLatencyCoordinator;
  private readonly answers: AnswerCache | undefined;
  private readonly playlists: JoinedWaits<PlaylistAnswer>;
  private readonly parts: JoinedWaits<PartAnswer>;
  private readonly limits: HeldLimits;
  private readonly counters = new Map<string, HeldCounter>();
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly reported = { refusals: 0, at: Number.NEGATIVE_INFINITY };
  /**
   * Answers just made, until the location's cache has them: a viewer asking between the call's end
   * and the cache write's would otherwise make a call of its own. Only what the cache keeps (a
   * playlist answering a blocking request, a part): neither changes once it exists.
   */
  private readonly recentPlaylists = new Map<string, PlaylistAnswer>();
  private readonly recentParts = new Map<string, PartAnswer>();
  private refusals = 0;

  constructor(inner: LowLatencyCoordinator, options: LocationCollapseOptions = {}) {
    this.inner = inner;
    this.answers = options.cache ? new AnswerCache(options.cache) : undefined;
    this.limits = { ...LOCATION_HELD_LIMITS, ...options.limits };
    this.log = options.log ?? console.warn;
    this.now = options.now ?? Date.now;
    const joined = { maxCalls: options.maxCalls ?? MAX_CALLS, pollMs: options.pollMs, now: this.now };
    this.playlists = new JoinedWaits<PlaylistAnswer>(joined);
    this.parts = new JoinedWaits<PartAnswer>(joined);
  }

  /** Calls made to the live state and requests answered by another's (tests; an operator's look). */
  get stats() {
    return { playlists: { ...this.playlists.stats }, parts: { ...this.parts.stats }, refusals: this.refusals };
  }

  acceptPart(playbackId: string, rendition: string, part: IncomingPart): Promise<void> {
    return this.inner.acceptPart(playbackId, rendition, part);
  }

  acceptPlaylist(playbackId: string, rendition: string, text: string): Promise<void> {
    return this.inner.acceptPlaylist(playbackId, rendition, text);
  }

  openChannel(playbackId: string, lease: LeaseRequest, c: Context): Promise<Response> {
    return this.inner.openChannel(playbackId, lease, c);
  }

  segment(playbackId: string, rendition: string, file: string): Promise<SegmentAnswer> {
    return this.inner.segment(playbackId, rendition, file);
  }

  async playlist(playbackId: string, request: PlaylistRequest, viewer: ViewerCall = {}): Promise<PlaylistAnswer> {
    const { client, ...canonical } = request;
    const key = playlistAnswerKey(playbackId, canonical);
    const targetDuration = canonical.facts?.targetDuration ?? viewer.targetDuration;
    if (!canonical.block) return this.playlists.run(key, () => this.inner.playlist(playbackId, canonical), { keepAlive: viewer.keepAlive, patienceMs: PLAIN_PATIENCE_MS });
    const admission = this.admit(playbackId, client);
    if (!admission.ok) return admission.busy;
    try {
      return await this.playlists.run(key, () => this.canonicalPlaylist(playbackId, key, canonical, viewer.keepAlive), { keepAlive: viewer.keepAlive, patienceMs: patienceFor(targetDuration) });
    } finally {
      admission.release();
    }
  }

  async part(playbackId: string, rendition: string, file: string, client?: string, viewer: ViewerCall = {}): Promise<PartAnswer> {
    const admission = this.admit(playbackId, client);
    if (!admission.ok) return admission.busy;
    const key = partAnswerKey(playbackId, rendition, file);
    const targetDuration = viewer.targetDuration ?? 2;
    try {
      return await this.parts.run(key, () => this.canonicalPart(playbackId, key, rendition, file, targetDuration, viewer.keepAlive), { keepAlive: viewer.keepAlive, patienceMs: patienceFor(targetDuration) });
    } finally {
      admission.release();
    }
  }

  /** From the location's cache, else one call (whose answer the cache then keeps, after the viewers have it). */
  private async canonicalPlaylist(playbackId: string, key: string, request: Omit<PlaylistRequest, 'client'>, keepAlive: KeepAlive | undefined): Promise<PlaylistAnswer> {
    const recent = this.recentPlaylists.get(key);
    if (recent) return recent;
    const cached = await this.answers?.playlist(key);
    if (cached) return cached;
    const answer = await this.inner.playlist(playbackId, request);
    if (this.answers) keep(this.kept(this.recentPlaylists, key, answer, answer.kind === 'playlist', this.answers.keepPlaylist(key, answer)), keepAlive);
    return answer;
  }

  private async canonicalPart(playbackId: string, key: string, rendition: string, file: string, targetDuration: number, keepAlive: KeepAlive | undefined): Promise<PartAnswer> {
    const recent = this.recentParts.get(key);
    if (recent) return recent;
    const cached = await this.answers?.part(key);
    if (cached) return cached;
    const answer = await this.inner.part(playbackId, rendition, file);
    if (this.answers) keep(this.kept(this.recentParts, key, answer, answer.kind === 'part', this.answers.keepPart(key, answer, targetDuration)), keepAlive);
    return answer;
  }

  /** `answer` is served from `recent` until its cache write has settled (written or failed). */
  private kept<T>(recent: Map<string, T>, key: string, answer: T, cacheable: boolean, write: Promise<void>): Promise<void> {
    if (!cacheable || recent.size >= MAX_CALLS) return write;
    recent.set(key, answer);
    return write.finally(() => {
      if (recent.get(key) === answer) recent.delete(key);
    });
  }

  private admit(playbackId: string, client: string | undefined): { ok: true; release: () => void } | { ok: false; busy: Busy } {
    let counter = this.counters.get(playbackId);
    if (!counter) {
      counter = new HeldCounter(this.limits);
      this.counters.set(playbackId, counter);
    }
    const admission = counter.admit(client);
    if (admission.ok) {
      const held = counter;
      return {
        ok: true,
        release: () => {
          admission.release();
          if (held.held === 0 && this.counters.get(playbackId) === held) this.counters.delete(playbackId);
        },
      };
    }
    this.refusals += 1;
    this.report();
    const reason =
      admission.limit === 'stream'
        ? `this edge holds ${this.limits.perStream} waiting requests for this stream already (the limit): ask again shortly`
        : `this address holds ${this.limits.perAddress} waiting requests on this stream already (the limit): ask again shortly`;
    return { ok: false, busy: { kind: 'busy', reason, retryAfterSeconds: 1 } };
  }

  /** Refusals, in the log at most once a minute (a flood must not flood the log). */
  private report(): void {
    const now = this.now();
    if (now - this.reported.at < REPORT_INTERVAL_MS) return;
    this.log(`edge: ${this.refusals - this.reported.refusals} low-latency requests refused beyond this edge's held limits since the last report (per stream ${this.limits.perStream}, per address ${this.limits.perAddress})`);
    this.reported.at = now;
    this.reported.refusals = this.refusals;
  }
}

function patienceFor(targetDuration: number | undefined): number {
  return HOLD_TARGET_DURATIONS * (targetDuration || 2) * 1000 + PATIENCE_MARGIN_MS;
}

/** Work after the answer (a cache write): kept alive past the response where the runtime needs it. */
function keep(work: Promise<void>, keepAlive: KeepAlive | undefined): void {
  if (keepAlive) keepAlive(work);
  else void work;
}

/** The request's keep-alive on Workers (its execution context's waitUntil); none on Node and Deno, or under `app.request` without one. */
export function keepAliveOf(c: Context): KeepAlive | undefined {
  let context: { waitUntil(work: Promise<unknown>): void };
  try {
    context = c.executionCtx;
  } catch {
    return undefined;
  }
  return (work) => context.waitUntil(work);
}
