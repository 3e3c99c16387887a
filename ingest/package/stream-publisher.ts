/**
 * Publishes one live stream's CMAF output to storage, keeping the contract whatever storage
 * does: a playlist lists an object only once it is stored; segments upload in parallel but are
 * listed in order; a slow or failing store is retried without end while the upload buffer has
 * room, and when an outage outlasts it the oldest waiting segments are dropped (logged, and the
 * playlist marks the gap with EXT-X-DISCONTINUITY) instead of memory growing without bound.
 *
 * A stream is made of sessions: one per publisher connection or encoder run, each with its own
 * init segments and segment names. Media sequence numbers continue across sessions, and the
 * first segment of a later session carries EXT-X-DISCONTINUITY.
 */
import { parseMediaPlaylist, renderMediaPlaylist, targetDurationFor, type MediaSegment } from '../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { renderMpd } from '../../shared/dash/mpd.ts';
import { contentTypeFor, DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import type { PartAnnouncement } from '../../shared/low-latency.ts';
import { initSegmentFile, mediaSegmentFile, partFile, streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { StorageHttpError } from '../../shared/storage/storage-error.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { GaveUp, retryUntilStored, type BackoffOptions } from '../upload/backoff.ts';
import { ConcurrencyLimit } from '../upload/concurrency-limit.ts';
import { LatestWriter } from '../upload/latest-writer.ts';
import type { ChunkPosition, CmafChunk, CmafSegment } from './cmaf-segmenter.ts';
import { parseCmafInitSegment, type CmafTrack } from './cmaf-track.ts';
import { buildDashManifest } from './dash-manifest.ts';
import { RenditionStats } from './rendition-stats.ts';
import { buildMultivariantPlaylist, buildStreamStatus } from './stream-manifests.ts';

export interface UploadLimits {
  /** Uploads in flight at once for one stream. */
  parallelUploads: number;
  /** Bytes of segments waiting to be stored before the oldest are dropped. */
  bufferBytes: number;
  backoff: BackoffOptions;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  parallelUploads: 4,
  bufferBytes: 256 * 1024 * 1024,
  backoff: { initialDelayMs: 250, maxDelayMs: 5000 },
};

export interface StreamPublisherOptions {
  streamId: string;
  renditions: readonly Rendition[];
  store: ObjectStore;
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  /** Segments listed in a live media playlist. */
  windowSegments: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Something could not be stored and will not be (a refusal, a drop). */
  onError: (error: unknown) => void;
  /** Storage is behind: `waitingSeconds` of media wait to be stored. */
  onBacklog?: (waitingSeconds: number, waitingSegments: number) => void;
  limits?: UploadLimits;
  metrics?: IngestMetrics;
  /**
   * `window`: media that left the live window is deleted once no stored manifest lists it and a
   * window's time has passed (players may still hold an older playlist). `all`: everything is
   * kept, and the ended stream's playlists list the whole recording (VOD). Default `window`.
   */
  retention?: Retention;
  /** Written into the status document, which the edge reads before serving anything of the stream. */
  playback?: 'public' | 'signed';
  /** Publish every chunk as a low-latency HLS part too. */
  lowLatency?: LowLatencyOptions;
}

export type Retention = 'window' | 'all';

/** Where low-latency parts go the moment they are complete (the edge's live state). */
export interface PartSink {
  putPart(key: string, bytes: Uint8Array, contentType: string, announcement: PartAnnouncement): Promise<void>;
}

export interface LowLatencyOptions {
  sink: PartSink;
  /** Seconds: no chunk (part) lasts longer. */
  partTarget: number;
  /** Parts could not be announced (now and then, with a count): low-latency viewers wait longer, nothing is lost. */
  onTrouble?: (message: string) => void;
}

// Parts are worth sending only while they are new: beyond this many waiting per rendition
// (the edge is slow or down) the newest are skipped, not queued.
const MAX_PARTS_IN_FLIGHT = 4;
const PART_ERROR_LOG_INTERVAL_MS = 10_000;

type EntryState = 'uploading' | 'stored' | 'dropped';

/** An object waiting to be listed, in the order the encoder made it. */
interface Entry {
  kind: 'init' | 'segment';
  session: string;
  ref: StreamObjectRef;
  bytes: Uint8Array;
  state: EntryState;
  /** Its bytes count against the upload buffer (segments, until stored or dropped). */
  buffered: boolean;
  enqueuedAt: number;
  track: CmafTrack;
  /** Segments only. */
  segment?: { time: number; ticks: number; duration: number; programDateTime: number; samples: number; cutAt: number };
}

interface ListedSegment extends MediaSegment {
  sequence: number;
  session: string;
  /** Media time of the first sample and duration, track timescale (for DASH). */
  time: number;
  ticks: number;
}

interface RenditionState {
  rendition: Rendition;
  track?: CmafTrack;
  /** Objects not listed yet, oldest first; only the head may be listed. */
  queue: Entry[];
  /** The track of each session whose init segment is stored. */
  tracks: Map<string, CmafTrack>;
  /** The session of the newest listed segment. */
  listedSession?: string;
  /** Media is missing before the next listed segment (dropped segments). */
  gap: boolean;
  segments: ListedSegment[];
  /** With retention `all`: the segments that left the live window, oldest first. */
  recording: ListedSegment[];
  /** EXT-X-DISCONTINUITY-SEQUENCE of the recording's first segment. */
  recordingDiscontinuitySequence: number;
  nextSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  stats: RenditionStats;
  playlist: LatestWriter;
  /** The segment being cut, as low-latency parts name and number it. */
  openSegment?: { session: string; time: number; msn: number };
  partChain: Promise<void>;
  partsInFlight: number;
}

// Rewrite the multivariant playlist when the measured peak outgrows what it advertises by this much.
const BANDWIDTH_REWRITE_RATIO = 1.1;
// Say so when segments wait longer than this many target durations to be stored.
const BACKLOG_WARNING_SEGMENTS = 3;
const BACKLOG_WARNING_INTERVAL_MS = 10_000;
// Media due for deletion is looked for this often when nothing else happens.
const RETENTION_CHECK_MS = 2_000;
// A live stream's status document is refreshed this often (its `updatedAt` says it is alive).
const STATUS_REFRESH_MS = 10_000;

export class StreamPublisher {
  private readonly options: StreamPublisherOptions;
  private readonly limits: UploadLimits;
  private readonly states = new Map<string, RenditionState>();
  private readonly startedAt: number;
  private sessionCount = 0;
  /** Per session: the wall clock at its media time zero, fixed by its first chunk. */
  private readonly wallClockAtMediaZero = new Map<string, number>();
  private advertised: { bandwidth: number; signature: string } | undefined;
  /** A crashed sidecar had announced this stream live (its playlists were taken up unended): its status and MPD must still say how it goes on. */
  private announcedBeforeRestart = false;
  private readonly multivariant: LatestWriter;
  private readonly status: LatestWriter;
  private readonly mpd: LatestWriter;
  private ended = false;
  /** Listing waits for what storage held before this publisher (see restoreFromStorage). */
  private restored: Promise<void> = Promise.resolve();
  /** Sequence numbers are not known while restoring: no parts are announced. */
  private restoring = false;
  private partErrors = 0;
  private lastPartErrorLog = 0;
  private readonly uploads: ConcurrencyLimit;
  private bufferedBytes = 0;
  private lastBacklogWarning = 0;
  private statusWrittenAt = 0;
  private readonly settled = new Set<Promise<void>>();
  /** Media out of every manifest, waiting to be deleted (retention `window`). */
  private retired: { key: string; since: number }[] = [];
  private deleting = false;
  /** Runs deletions when they fall due, also when nothing new is listed (a paused or ended stream). */
  private retentionTimer: NodeJS.Timeout | undefined;
  /** Milliseconds from a segment being cut to its playlist listing it in storage, for the latest segment. */
  lastUploadLagMs: number | undefined;

  constructor(options: StreamPublisherOptions) {
    this.options = options;
    this.limits = options.limits ?? DEFAULT_UPLOAD_LIMITS;
    this.uploads = new ConcurrencyLimit(this.limits.parallelUploads);
    this.startedAt = options.now();
    const writer = (ref: StreamObjectRef, type: string) => new LatestWriter(options.store, streamObjectKey(options.streamId, ref), type, this.limits.backoff);
    this.multivariant = writer({ kind: 'multivariant' }, HLS_PLAYLIST_TYPE);
    this.status = writer({ kind: 'status' }, JSON_TYPE);
    this.mpd = writer({ kind: 'mpd' }, DASH_MPD_TYPE);
    for (const rendition of options.renditions) {
      this.states.set(rendition.name, {
        rendition,
        queue: [],
        tracks: new Map(),
        gap: false,
        segments: [],
        recording: [],
        recordingDiscontinuitySequence: 0,
        nextSequence: 0,
        discontinuitySequence: 0,
        targetDuration: Math.ceil(options.targetSegmentDuration),
        stats: new RenditionStats(),
        playlist: writer({ kind: 'media-playlist', rendition: rendition.name }, HLS_PLAYLIST_TYPE),
        partChain: Promise.resolve(),
        partsInFlight: 0,
      });
    }
  }

  /** Sessions started so far: 1 for a stream that never reconnected. */
  get sessions(): number {
    return this.sessionCount;
  }

  /**
   * Continues from what storage holds for this stream, so numbering never goes back: a live
   * playlist left by a crashed sidecar is taken up where it stopped (its next segment after a
   * discontinuity); after an ended one, a new broadcast starts a fresh window whose sequence
   * numbers continue. Nothing is listed before this is done.
   */
  restoreFromStorage(): Promise<void> {
    this.restoring = true;
    this.restored = (async () => {
      for (const state of this.states.values()) {
        const stored = await this.options.store.get(streamObjectKey(this.options.streamId, { kind: 'media-playlist', rendition: state.rendition.name }));
        if (!stored) continue;
        const playlist = parseMediaPlaylist(await new Response(stored.body).text());
        state.nextSequence = Math.max(state.nextSequence, playlist.mediaSequence + playlist.segments.length);
        if (playlist.ended) continue;
        if (playlist.segments.length > 0) this.announcedBeforeRestart = true;
        state.segments = [];
        for (const [index, segment] of playlist.segments.entries()) {
          const [session, time] = segment.uri.replace(/\.m4s$/, '').split('-');
          const track = await this.restoreTrack(state, session!);
          // A session listed before this publisher: its clock, once, from its first segment still listed.
          if (track && !this.wallClockAtMediaZero.has(session!)) {
            this.wallClockAtMediaZero.set(session!, segment.programDateTime - (Number(time) / track.timescale) * 1000);
          }
          state.segments.push({
            ...segment,
            sequence: playlist.mediaSequence + index,
            session: session!,
            time: Number(time),
            ticks: track ? Math.round(segment.duration * track.timescale) : 0,
          });
        }
        state.discontinuitySequence = playlist.discontinuitySequence;
        state.listedSession = playlist.segments.at(-1)?.uri.split('-')[0];
        state.targetDuration = Math.max(state.targetDuration, playlist.targetDuration);
      }
      // A rendition with nothing to take up (new in this ladder, or after an ended broadcast)
      // numbers on from the furthest one: renditions list the same sequence numbers, and a new
      // rung starting at 0 would hold every playlist back (the common window) for as many
      // segments as the stream ever had.
      const furthest = Math.max(...[...this.states.values()].map((state) => state.nextSequence));
      for (const state of this.states.values()) if (state.segments.length === 0) state.nextSequence = furthest;
    })()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.restoring = false;
      });
    return this.restored;
  }

  /** The track of a session listed before this publisher, from its stored init segment. */
  private async restoreTrack(state: RenditionState, session: string): Promise<CmafTrack | undefined> {
    if (state.tracks.has(session)) return state.tracks.get(session);
    const init = await this.options.store.get(streamObjectKey(this.options.streamId, { kind: 'init', rendition: state.rendition.name, session }));
    if (!init) return undefined;
    const track = parseCmafInitSegment(new Uint8Array(await new Response(init.body).arrayBuffer()));
    state.tracks.set(session, track);
    state.track ??= track;
    return track;
  }

  /**
   * Starts a session (a publisher connection or an encoder run): its media time starts again.
   * `wallClockAtMediaZero` (epoch ms) is when its media time zero was captured, the base of
   * EXT-X-PROGRAM-DATE-TIME; unknown, the arrival of its first chunk stands in.
   */
  beginSession(session: string, wallClockAtMediaZero?: number): void {
    if (this.wallClockAtMediaZero.has(session)) throw new Error(`session ${session} already begun`);
    this.sessionCount += 1;
    this.wallClockAtMediaZero.set(session, wallClockAtMediaZero ?? Number.NaN);
  }

  /** A chunk's media has just been received: anchors the ingest wall clock to the session's media time. */
  noteChunkReceived(session: string, mediaEndSeconds: number): void {
    if (Number.isNaN(this.wallClockAtMediaZero.get(session))) {
      this.wallClockAtMediaZero.set(session, this.options.now() - mediaEndSeconds * 1000);
    }
  }

  publishInit(session: string, renditionName: string, init: Uint8Array, track: CmafTrack): void {
    const state = this.state(renditionName);
    state.track = track;
    this.enqueue(state, {
      kind: 'init',
      session,
      ref: { kind: 'init', rendition: renditionName, session },
      bytes: init,
      track,
      state: 'uploading',
      buffered: false,
      enqueuedAt: this.options.now(),
    });
  }

  publishSegment(session: string, renditionName: string, segment: CmafSegment): void {
    const state = this.state(renditionName);
    const now = this.options.now();
    const timescale = segment.track.timescale;
    const anchor = this.wallClockAtMediaZero.get(session);
    if (anchor === undefined) throw new Error(`session ${session} was never begun`);
    this.enqueue(state, {
      kind: 'segment',
      session,
      ref: { kind: 'segment', rendition: renditionName, session, time: segment.startTime },
      bytes: segment.bytes,
      track: segment.track,
      state: 'uploading',
      buffered: true,
      enqueuedAt: now,
      segment: {
        time: segment.startTime,
        ticks: segment.duration,
        duration: segment.duration / timescale,
        programDateTime: (Number.isNaN(anchor) ? now : anchor) + (segment.startTime / timescale) * 1000,
        samples: segment.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0),
        cutAt: now,
      },
    });
    this.warnWhenBehind();
  }

  /**
   * Announces a chunk as a low-latency part at once (no retries: a late part is worth nothing).
   * Its segment's sequence number is the next one after every segment cut before it that is
   * not dropped; its hint names the part expected next.
   */
  publishPart(session: string, renditionName: string, chunk: CmafChunk, position: ChunkPosition, track: CmafTrack): void {
    const lowLatency = this.options.lowLatency;
    if (!lowLatency || this.ended || this.restoring) return;
    const state = this.state(renditionName);
    if (position.index === 0) {
      const waiting = state.queue.filter((entry) => entry.kind === 'segment' && entry.state !== 'dropped').length;
      state.openSegment = { session, time: position.segmentStartTime, msn: state.nextSequence + waiting };
    }
    const open = state.openSegment;
    // A segment whose first chunk was not announced (restoring then) is not announced at all.
    if (!open || open.session !== session || open.time !== position.segmentStartTime) return;
    if (state.partsInFlight >= MAX_PARTS_IN_FLIGHT) return this.partFailed(new Error(`${renditionName}: the edge is not taking parts fast enough; skipped one`));
    const next = position.reachesBoundary ? partFile(session, chunk.startTime + chunk.duration, 0) : partFile(session, open.time, position.index + 1);
    const announcement: PartAnnouncement = {
      msn: open.msn,
      duration: chunk.duration / track.timescale,
      independent: chunk.independent,
      next,
      partTarget: lowLatency.partTarget,
    };
    const ref: StreamObjectRef = { kind: 'part', rendition: renditionName, session, time: open.time, index: position.index };
    const key = streamObjectKey(this.options.streamId, ref);
    state.partsInFlight += 1;
    state.partChain = state.partChain
      .then(() => lowLatency.sink.putPart(key, chunk.bytes, contentTypeFor(ref, track.kind === 'audio'), announcement))
      .then(() => this.options.metrics?.partsAnnounced.inc())
      .catch((error: unknown) => this.partFailed(error))
      .finally(() => {
        state.partsInFlight -= 1;
      });
  }

  /** Parts are best effort: failures are counted and logged now and then, not per part. */
  private partFailed(error: unknown): void {
    this.partErrors += 1;
    this.options.metrics?.partsFailed.inc();
    const now = this.options.now();
    if (now - this.lastPartErrorLog < PART_ERROR_LOG_INTERVAL_MS) return;
    this.lastPartErrorLog = now;
    const count = this.partErrors;
    this.partErrors = 0;
    const message = `${count} low-latency part(s) not announced (latest: ${error instanceof Error ? error.message : String(error)}); segments are not affected`;
    const report = this.options.lowLatency?.onTrouble;
    if (report) report(message);
    else this.options.onError(new Error(message));
  }

  /** The publisher is gone but may come back: the playlists stay live, the status says so. */
  async pause(): Promise<void> {
    await this.idle();
    if (this.announced) await this.writeStatus('reconnecting');
  }

  /** The stream ended: once everything waiting is stored (or dropped), close every media playlist with ENDLIST. */
  async end(): Promise<void> {
    await this.idle();
    this.ended = true;
    await Promise.all(
      [...this.states.values()].map(async (state) => {
        if (state.playlist.storedOnce || state.segments.length > 0) await this.writeMediaPlaylist(state);
      }),
    );
    if (this.announced || this.mpd.storedOnce) await this.writeMpd();
    // Also a broadcast that never got past `starting`: its status must not say so for ever.
    if (this.announced || this.statusWrittenAt > 0) await this.writeStatus('ended');
  }

  /** Whether viewers were told this stream is live: by this sidecar, or by the one before a crash. */
  private get announced(): boolean {
    return this.advertised !== undefined || this.announcedBeforeRestart;
  }

  /** Resolves when every object handed over so far is stored, dropped or refused, and listed. */
  async idle(): Promise<void> {
    while (this.settled.size > 0) await Promise.all([...this.settled]);
    await this.restored;
  }

  private state(renditionName: string): RenditionState {
    const state = this.states.get(renditionName);
    if (!state) throw new Error(`unknown rendition ${renditionName}`);
    return state;
  }

  private enqueue(state: RenditionState, entry: Entry): void {
    state.queue.push(entry);
    if (entry.buffered) this.bufferedBytes += entry.bytes.length;
    this.dropOldestBeyondBuffer();
    const done = this.upload(entry)
      .then(() => this.listReady(state))
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => this.settled.delete(done));
    this.settled.add(done);
  }

  private async upload(entry: Entry): Promise<void> {
    await this.uploads.run(async () => {
      const timer = this.options.metrics?.uploadSeconds.startTimer({ object: entry.ref.kind });
      const key = streamObjectKey(this.options.streamId, entry.ref);
      const contentType = contentTypeFor(entry.ref, entry.track.kind === 'audio');
      try {
        await retryUntilStored(() => this.options.store.put(key, entry.bytes, { contentType }), this.limits.backoff, () => entry.state !== 'dropped');
        // Dropped while its last attempt was in flight: stored, but it stays out of the playlist.
        if (entry.state === 'uploading') entry.state = 'stored';
        timer?.();
      } catch (error) {
        if (!(error instanceof GaveUp)) {
          this.options.onError(error);
          this.drop(entry);
        }
      } finally {
        this.unbuffer(entry);
      }
    });
  }

  private unbuffer(entry: Entry): void {
    if (!entry.buffered) return;
    entry.buffered = false;
    this.bufferedBytes -= entry.bytes.length;
  }

  private drop(entry: Entry): void {
    if (entry.state === 'dropped') return;
    this.unbuffer(entry);
    entry.state = 'dropped';
    if (entry.kind === 'segment') this.options.metrics?.segmentsDropped.inc();
  }

  /** An outage longer than the buffer: the oldest waiting segments go, not memory without bound. */
  private dropOldestBeyondBuffer(): void {
    if (this.bufferedBytes <= this.limits.bufferBytes) return;
    const waiting = [...this.states.values()]
      .flatMap((state) => state.queue)
      .filter((entry) => entry.kind === 'segment' && entry.state === 'uploading')
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    let dropped = 0;
    for (const entry of waiting) {
      if (this.bufferedBytes <= this.limits.bufferBytes) break;
      this.drop(entry);
      dropped += 1;
    }
    if (dropped > 0) {
      this.options.onError(new Error(`storage is not keeping up: dropped the ${dropped} oldest waiting segment(s) to stay within the upload buffer; the playlist marks the gap`));
    }
  }

  private warnWhenBehind(): void {
    const now = this.options.now();
    const waiting = [...this.states.values()].flatMap((state) => state.queue.filter((entry) => entry.kind === 'segment' && entry.state === 'uploading'));
    if (waiting.length === 0) return;
    const oldest = Math.min(...waiting.map((entry) => entry.enqueuedAt));
    const behindMs = now - oldest;
    if (behindMs > BACKLOG_WARNING_SEGMENTS * this.options.targetSegmentDuration * 1000 && now - this.lastBacklogWarning > BACKLOG_WARNING_INTERVAL_MS) {
      this.lastBacklogWarning = now;
      this.options.onBacklog?.(behindMs / 1000, waiting.length);
    }
  }

  /** Lists, in order, every object at the head of the queue that is settled; then writes the playlists. */
  private async listReady(state: RenditionState): Promise<void> {
    await this.restored;
    let listed = false;
    while (state.queue[0] && state.queue[0].state !== 'uploading') {
      const entry = state.queue.shift()!;
      if (entry.kind === 'init') {
        if (entry.state === 'stored') state.tracks.set(entry.session, entry.track);
        continue;
      }
      if (entry.state === 'dropped' || !state.tracks.has(entry.session)) {
        if (entry.state === 'stored') this.options.onError(new Error(`${state.rendition.name}: segment of session ${entry.session} without its init segment; not listed`));
        state.gap = true;
        continue;
      }
      this.list(state, entry);
      listed = true;
    }
    if (!listed) return;
    // The edge serves nothing of a stream without its status document (it says who may watch):
    // it is stored before the first playlist. A new broadcast says `starting` until its
    // multivariant playlist is stored (then `live`): until then the edge serves none of the
    // previous broadcast's playlists, which storage still holds.
    if (this.statusWrittenAt === 0) await this.writeStatus(this.announced ? 'live' : 'starting');
    // This rendition may have completed a sequence number the others were held back for.
    await Promise.all([...this.states.values()].map((other) => this.writeMediaPlaylist(other)));
    await this.writeMultivariantWhenDue();
    if (this.advertised) await this.writeMpd();
    if (this.advertised && this.options.now() - this.statusWrittenAt > STATUS_REFRESH_MS) await this.writeStatus('live');
    await this.deleteRetired();
  }

  private retire(ref: StreamObjectRef): void {
    this.retired.push({ key: streamObjectKey(this.options.streamId, ref), since: this.options.now() });
    if (!this.retentionTimer) {
      this.retentionTimer = setInterval(() => void this.deleteRetired().catch((error: unknown) => this.options.onError(error)), RETENTION_CHECK_MS);
      this.retentionTimer.unref();
    }
  }

  /** A session's init segment goes once none of its segments is listed or on the way. */
  private retireUnusedInits(state: RenditionState): void {
    const inUse = new Set([...state.segments, ...state.queue].map((item) => item.session));
    if (state.listedSession) inUse.add(state.listedSession);
    for (const session of [...state.tracks.keys()]) {
      if (inUse.has(session)) continue;
      state.tracks.delete(session);
      this.retire({ kind: 'init', rendition: state.rendition.name, session });
    }
  }

  /**
   * Deletes media that has been out of the manifests for a window's time, provided every
   * manifest's newest version is stored (during an outage a stored playlist may still list it).
   */
  private async deleteRetired(): Promise<void> {
    if (this.retired.length === 0) {
      clearInterval(this.retentionTimer);
      this.retentionTimer = undefined;
    }
    if (this.deleting || this.retired.length === 0) return;
    const writers = [this.mpd, ...[...this.states.values()].map((state) => state.playlist)];
    if (!writers.every((writer) => writer.upToDate)) return;
    const graceMs = this.options.windowSegments * this.options.targetSegmentDuration * 1000;
    const cutoff = this.options.now() - graceMs;
    const due = this.retired.filter((item) => item.since <= cutoff);
    if (due.length === 0) return;
    this.retired = this.retired.filter((item) => item.since > cutoff);
    this.deleting = true;
    try {
      for (const item of due) {
        try {
          await this.uploads.run(() => this.options.store.delete(item.key));
          this.options.metrics?.objectsDeleted.inc();
        } catch (error) {
          // Storage trouble: tried again with the next batch. A refusal will not change: left stored.
          if (!(error instanceof StorageHttpError) || error.retryable) this.retired.push(item);
          this.options.onError(error);
        }
      }
    } finally {
      this.deleting = false;
    }
  }

  /** The DASH MPD over the same segments: written after the HLS playlists, never listing more than they do. */
  private async writeMpd(): Promise<void> {
    const renditions = [...this.states.values()].map((state) => ({
      name: state.rendition.name,
      kind: state.rendition.kind,
      bandwidth: state.stats.peakBitsPerSecond,
      frameRate: state.rendition.kind === 'video' ? state.stats.framesPerSecond : undefined,
      tracks: state.tracks,
      segments: this.visibleSegments(state).filter((segment) => segment.ticks > 0),
    }));
    const targetDuration = Math.max(...[...this.states.values()].map((state) => state.targetDuration));
    const windowSeconds = Math.max(...[...this.states.values()].map((state) => state.segments.reduce((sum, segment) => sum + segment.duration, 0)));
    const sessionClocks = new Map([...this.wallClockAtMediaZero].filter(([, clock]) => !Number.isNaN(clock)));
    const manifest = buildDashManifest(renditions, { sessionClocks, ended: this.ended, now: this.options.now(), targetDuration, windowSeconds });
    await this.mpd.write(renderMpd(manifest));
  }

  private list(state: RenditionState, entry: Entry): void {
    const { time, ticks, duration, programDateTime, samples, cutAt } = entry.segment!;
    const sequence = state.nextSequence++;
    state.stats.add(entry.bytes.length, duration, samples);
    const newSession = state.listedSession !== undefined && state.listedSession !== entry.session;
    state.segments.push({
      sequence,
      session: entry.session,
      time,
      ticks,
      uri: mediaSegmentFile(entry.session, (entry.ref as { time: number }).time),
      duration,
      initUri: initSegmentFile(entry.session),
      programDateTime,
      discontinuity: newSession || state.gap,
    });
    state.gap = false;
    state.listedSession = entry.session;
    let left = false;
    while (state.segments.length > this.options.windowSegments) {
      const leaving = state.segments.shift()!;
      left = true;
      if (this.options.retention === 'all') {
        if (state.recording.length === 0) state.recordingDiscontinuitySequence = state.discontinuitySequence;
        state.recording.push(leaving);
      } else {
        this.retire({ kind: 'segment', rendition: state.rendition.name, session: leaving.session, time: leaving.time });
      }
      // A discontinuity leaving the window is counted by EXT-X-DISCONTINUITY-SEQUENCE.
      if (leaving.discontinuity) state.discontinuitySequence += 1;
    }
    if (left && this.options.retention !== 'all') this.retireUnusedInits(state);
    state.targetDuration = Math.max(state.targetDuration, targetDurationFor(this.options.targetSegmentDuration, state.segments));
    this.options.metrics?.segmentsStored.inc({ kind: state.rendition.kind });
    this.lastUploadLagMs = this.options.now() - cutAt;
  }

  /**
   * The segments a playlist shows: while live, only up to the newest sequence number every
   * rendition has stored, so all media playlists (and the MPD) end at the same segment and a
   * player starting "three segments from the end" starts every rendition at the same time.
   */
  private visibleSegments(state: RenditionState): ListedSegment[] {
    if (this.ended) return [...state.recording, ...state.segments];
    const common = Math.min(...[...this.states.values()].map((other) => other.nextSequence));
    return state.segments.filter((segment) => segment.sequence < common);
  }

  private async writeMediaPlaylist(state: RenditionState): Promise<void> {
    const segments = this.visibleSegments(state);
    // An empty live playlist helps no one, and its media sequence could only be a guess.
    if (segments.length === 0 && !this.ended) return;
    await state.playlist.write(
      renderMediaPlaylist({
        targetDuration: state.targetDuration,
        mediaSequence: segments[0]?.sequence ?? state.nextSequence,
        discontinuitySequence: this.ended && state.recording.length > 0 ? state.recordingDiscontinuitySequence : state.discontinuitySequence,
        segments,
        ended: this.ended,
      }),
    );
  }

  private async writeMultivariantWhenDue(): Promise<void> {
    const states = [...this.states.values()];
    if (!states.every((state) => state.playlist.storedOnce && state.track && this.visibleSegments(state).length > 0)) return;
    const playlist = buildMultivariantPlaylist(states);
    const bandwidth = Math.max(...playlist.variants.map((variant) => variant.bandwidth));
    // What a reconnect may change (codecs, picture size): any change is advertised at once.
    const signature = JSON.stringify(playlist.variants.map((variant) => [variant.codecs, variant.resolution]));
    const previous = this.advertised;
    if (previous && previous.signature === signature && bandwidth <= previous.bandwidth * BANDWIDTH_REWRITE_RATIO) return;
    this.advertised = { bandwidth, signature };
    await this.multivariant.write(renderMultivariantPlaylist(playlist));
    if (!previous) await this.writeStatus('live');
  }

  private async writeStatus(state: StreamStatus['state']): Promise<void> {
    const now = this.options.now();
    this.statusWrittenAt = now;
    const facts = {
      streamId: this.options.streamId,
      state,
      startedAt: this.startedAt,
      now,
      targetDuration: this.options.targetSegmentDuration,
      sessions: this.sessionCount,
      playback: this.options.playback ?? 'public',
      partTarget: this.options.lowLatency?.partTarget,
    };
    await this.status.write(JSON.stringify(buildStreamStatus(facts, [...this.states.values()])));
  }
}
