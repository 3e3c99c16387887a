/**
 * One live stream's output: the CMAF its runs cut (init segments, segments, parts) handed to
 * storage and listed, keeping the contract whatever storage does: a playlist lists an object
 * only once it is stored (the upload queue hands each rendition's objects back in order), each
 * rendition lists its segments as they are stored without waiting for the others (the live
 * window numbers them alike and marks what one lost as a gap), and media that left every
 * manifest is deleted (retention). A thin shell: numbering and listing are the live window's,
 * manifest text the pure builders', retries and back-pressure the upload queue's.
 *
 * A stream is made of sessions: one per publisher connection or encoder run, each with its own
 * init segments and segment names. Media sequence numbers continue across sessions, and the
 * first segment of a later session carries EXT-X-DISCONTINUITY.
 */
import { contentTypeFor } from '../../shared/media-types.ts';
import { segmentClock } from '../../shared/segment-clock.ts';
import { streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import { segmentChunks, type ChunkPosition, type CmafChunk, type CmafSegment } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { DEFAULT_UPLOAD_LIMITS, UploadQueue, type Upload } from '../upload/upload-queue.ts';
import { LiveWindow, type SegmentSlot } from './live-window.ts';
import { ManifestWriter, type RenditionOutput } from './manifest-writer.ts';
import { PartAnnouncer } from './part-announcer.ts';
import { RenditionStats } from './rendition-stats.ts';
import { readStoredStream, takeUpStoredStream } from './restore.ts';
import { RetentionSweeper } from './retention.ts';
import { StreamRecorder } from '../recordings/stream-recorder.ts';
import type { StreamOutputOptions } from './stream-output-options.ts';
import { resumeRecording } from '../recordings/recording-resume.ts';

export type { LowLatencyOptions, StreamOutputOptions } from './stream-output-options.ts';

/** What an upload carries until its rendition lists it. */
type Pending =
  | { kind: 'init'; session: string; track: CmafTrack; bytes: number }
  | { kind: 'segment'; session: string; slot: SegmentSlot; time: number; ticks: number; duration: number; programDateTime: number; samples: number; cutAt: number; bytes: number };

/** Why a segment's parts are withheld, as a viewer holding its first part hears it. */
const STORAGE_BEHIND = 'storage is a segment or more behind: the segment is listed once stored, without parts';

// Say so when segments wait longer than this many target durations to be stored.
const BACKLOG_WARNING_SEGMENTS = 3;

export class StreamOutput {
  private readonly options: StreamOutputOptions;
  private readonly renditions = new Map<string, RenditionOutput>();
  private readonly window: LiveWindow;
  private readonly queue: UploadQueue<Pending>;
  private readonly manifests: ManifestWriter;
  private readonly retention: RetentionSweeper;
  private readonly parts: PartAnnouncer | undefined;
  /** Set while the stream records its broadcasts. */
  private readonly recorder: StreamRecorder | undefined;
  private sessionCount = 0;
  /** Per session: the wall clock at its media time zero, fixed by its first chunk. */
  private readonly wallClockAtMediaZero = new Map<string, number>();
  /** Listing waits for what storage held before this sidecar (see restoreFromStorage). */
  private restored: Promise<void> = Promise.resolve();
  /** Sequence numbers are not known while restoring: no parts are announced. */
  private restoring = false;
  /**
   * Sessions begun and segments cut while restoring, numbered once the taken-up playlists are in
   * the window (in the order they came): numbers go on from what storage holds, and a restore
   * that ends after the first segments were cut must not move the grid under them.
   */
  private numberAfterRestore: Array<() => void> = [];
  /** Milliseconds from a segment being cut to its playlist listing it in storage, for the latest segment. */
  lastUploadLagMs: number | undefined;

  constructor(options: StreamOutputOptions) {
    this.options = options;
    const limits = options.limits ?? DEFAULT_UPLOAD_LIMITS;
    for (const rendition of options.renditions) this.renditions.set(rendition.name, { rendition, tracks: new Map(), stats: new RenditionStats() });
    this.window = new LiveWindow({
      renditions: options.renditions.map((rendition) => rendition.name),
      windowSegments: options.windowSegments,
      targetSegmentDuration: options.targetSegmentDuration,
      keepRecording: options.retention === 'all',
      partsAnnounced: options.lowLatency !== undefined,
    });
    this.queue = new UploadQueue<Pending>({
      store: options.store,
      limits,
      now: options.now,
      backlogWarningMs: BACKLOG_WARNING_SEGMENTS * options.targetSegmentDuration * 1000,
      onError: options.onError,
      onBacklog: options.onBacklog,
      onSettled: (rendition) => this.listSettled(rendition),
      onAssemblyRefused: (key, reason) => this.parts?.assemblyRefused(key, reason),
      metrics: options.metrics,
    });
    this.manifests = new ManifestWriter({
      playbackId: options.playbackId,
      store: options.store,
      backoff: limits.backoff,
      window: this.window,
      renditions: [...this.renditions.values()],
      targetSegmentDuration: options.targetSegmentDuration,
      playback: options.playback ?? 'public',
      partTarget: options.lowLatency?.partTarget,
      startedAt: options.now(),
      now: options.now,
      sessions: () => this.sessionCount,
      sessionClocks: () => this.wallClockAtMediaZero,
      recording: () => this.recorder?.statusRecording(),
    });
    this.recorder = options.recording && new StreamRecorder({
      playbackId: options.playbackId,
      store: options.store,
      backoff: limits.backoff,
      renditions: [...this.renditions.values()],
      targetSegmentDuration: options.targetSegmentDuration,
      now: options.now,
      keepDays: options.recording.keepDays,
      onReady: options.recording.onReady,
    });
    this.retention = new RetentionSweeper({
      remove: (key) => this.queue.run(() => options.store.delete(key)),
      manifestsUpToDate: () => this.manifests.upToDate,
      graceMs: options.windowSegments * options.targetSegmentDuration * 1000,
      now: options.now,
      onError: options.onError,
      onDeleted: () => options.metrics?.objectDeleted(),
    });
    const lowLatency = options.lowLatency;
    this.parts = lowLatency && new PartAnnouncer({
      playbackId: options.playbackId,
      sink: lowLatency.sink,
      partTarget: lowLatency.partTarget,
      now: options.now,
      onTrouble: lowLatency.onTrouble ?? ((message) => options.onError(new Error(message))),
      metrics: options.metrics,
    });
  }

  /** Sessions started so far: 1 for a stream that never reconnected. */
  get sessions(): number {
    return this.sessionCount;
  }

  /**
   * Continues from what storage holds for this stream, so numbering never goes back: a live
   * playlist left by a crashed sidecar is taken up where it stopped (its next segment after a
   * discontinuity); after an ended one, a new broadcast starts a fresh window whose sequence
   * numbers continue. Nothing is listed before this is done. True: another sidecar's live
   * playlists were taken up (a takeover, see `takeOverWithinMs`).
   */
  restoreFromStorage(): Promise<boolean> {
    this.restoring = true;
    const restoring = (async () => {
      const policy = this.options.takeOverWithinMs === undefined ? undefined : { reconnectWindowMs: this.options.takeOverWithinMs, now: this.options.now() };
      const stored = await readStoredStream(this.options.store, this.options.playbackId, [...this.renditions.keys()], policy);
      if (takeUpStoredStream(stored, this.window, this.renditions, this.wallClockAtMediaZero)) {
        this.manifests.announcedBeforeRestart = true;
        // The broadcast goes on: so does its recording, under the same id.
        if (this.recorder) await resumeRecording(this.recorder, this.options.store, this.options.playbackId, stored);
      }
      return stored.takenOver === true;
    })()
      .catch((error: unknown) => {
        this.options.onError(error);
        return false;
      })
      .finally(() => {
        this.restoring = false;
        for (const number of this.numberAfterRestore.splice(0)) number();
      });
    this.restored = restoring.then(() => undefined);
    return restoring;
  }

  /**
   * Starts a session (a publisher connection or an encoder run): its media time starts again.
   * `wallClockAtMediaZero` (epoch ms) is when its media time zero was captured, the base of
   * EXT-X-PROGRAM-DATE-TIME; unknown, the arrival of its first chunk stands in.
   */
  beginSession(session: string, wallClockAtMediaZero?: number): void {
    if (this.wallClockAtMediaZero.has(session)) throw new Error(`session ${session} already begun`);
    // An earlier run's parts named as next will not come (its run ended: an encoder restart, a publisher back).
    this.parts?.withdrawHints('the run that was cutting its segment ended (a new run began)');
    this.whenNumbered(() => this.window.beginSession(session));
    this.sessionCount += 1;
    this.wallClockAtMediaZero.set(session, wallClockAtMediaZero ?? Number.NaN);
  }

  private whenNumbered(number: () => void): void {
    if (this.restoring) this.numberAfterRestore.push(number);
    else number();
  }

  /** A chunk's media has just been received: anchors the ingest wall clock to the session's media time. */
  noteChunkReceived(session: string, mediaEndSeconds: number): void {
    if (Number.isNaN(this.wallClockAtMediaZero.get(session))) {
      this.wallClockAtMediaZero.set(session, this.options.now() - mediaEndSeconds * 1000);
    }
  }

  publishInit(session: string, renditionName: string, init: Uint8Array, track: CmafTrack): void {
    this.rendition(renditionName).track = track;
    const ref: StreamObjectRef = { kind: 'init', rendition: renditionName, session };
    this.queue.enqueue(renditionName, this.upload(ref, [init], init.byteLength, track, false), { kind: 'init', session, track, bytes: init.length });
  }

  publishSegment(session: string, renditionName: string, segment: CmafSegment): void {
    this.rendition(renditionName);
    const now = this.options.now();
    const timescale = segment.track.timescale;
    const anchor = this.wallClockAtMediaZero.get(session);
    if (anchor === undefined) throw new Error(`session ${session} was never begun`);
    const start = segment.startTime / timescale;
    const { programDateTime, duration } = segmentClock(Number.isNaN(anchor) ? now : anchor, segment.startTime, segment.duration, timescale);
    // Filled in when numbered (at once, or once a restore is done); listing waits for the restore.
    const slot: SegmentSlot = { session, sequence: Number.NaN };
    this.whenNumbered(() => Object.assign(slot, this.window.cut(renditionName, { session, start, duration, programDateTime })));
    const ref: StreamObjectRef = { kind: 'segment', rendition: renditionName, session, time: segment.startTime };
    const upload = this.upload(ref, segmentChunks(segment), segment.byteLength, segment.track, true);
    // Its parts went out on the live channel: the edge stores it from them (else it is uploaded whole).
    const assemble = this.parts?.assembly(renditionName, session, segment, upload.contentType);
    this.queue.enqueue(renditionName, assemble ? { ...upload, assemble } : upload, {
      kind: 'segment',
      session,
      slot,
      time: segment.startTime,
      ticks: segment.duration,
      duration,
      programDateTime,
      samples: segment.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0),
      cutAt: now,
      bytes: segment.byteLength,
    });
  }

  /** Announces a chunk as a low-latency part at once, numbered as its segment will be. */
  publishPart(session: string, renditionName: string, chunk: CmafChunk, position: ChunkPosition, track: CmafTrack): void {
    if (!this.parts || this.manifests.ended || this.restoring) return;
    this.rendition(renditionName);
    this.parts.announce(renditionName, session, chunk, position, track, () =>
      // While storage is a segment or more behind (failing, or too slow), no new segment's parts
      // go out: the edge would list from memory what storage may never hold; low-latency viewers
      // wait for storage as everyone else does (and the part hinted in its place is withdrawn).
      // Playlists count too: a segment the edge stored from its parts is listed only once its playlist is.
      Math.max(this.queue.behindMs(), this.manifests.behindMs()) > this.options.targetSegmentDuration * 1000 ? { withheld: STORAGE_BEHIND } : this.window.sequenceAt(renditionName, session, position.segmentStartTime / track.timescale),
    );
  }

  /** The session's run stopped (its encoder failed, or is replaced): the parts its last ones named as next will not come. */
  runEnded(): void {
    this.parts?.withdrawHints('the run that was cutting its segment stopped (the encoder failed or is replaced)');
  }

  /** The publisher is gone but may come back: the playlists stay live, the status says so. */
  async pause(): Promise<void> {
    this.parts?.withdrawHints('the publisher left');
    await this.idle();
    await this.manifests.pause();
  }

  /** The stream ended: once everything waiting is stored (or dropped), close every media playlist with ENDLIST. */
  async end(): Promise<void> {
    await this.idle();
    // The recording's documents first: the ended status then says it is ready.
    await this.recorder?.complete(this.wallClockAtMediaZero).catch((error: unknown) => this.options.onError(error));
    await this.manifests.end();
  }

  /** Resolves when every object handed over so far is stored, dropped or refused, and listed. */
  async idle(): Promise<void> {
    await this.queue.idle();
    await this.restored;
  }

  private rendition(name: string): RenditionOutput {
    const output = this.renditions.get(name);
    if (!output) throw new Error(`unknown rendition ${name}`);
    return output;
  }

  private upload(ref: StreamObjectRef, chunks: readonly Uint8Array[], byteLength: number, track: CmafTrack, droppable: boolean): Upload {
    return { key: streamObjectKey(this.options.playbackId, ref), chunks, byteLength, contentType: contentTypeFor(ref, track.kind === 'audio'), droppable, label: ref.kind };
  }

  /** Lists, in order, every object at the head of the rendition's queue that is settled; then writes the manifests. */
  private async listSettled(renditionName: string): Promise<void> {
    await this.restored;
    const output = this.rendition(renditionName);
    let listed = false;
    let left = false;
    for (const item of this.queue.takeSettled(renditionName)) {
      const pending = item.value;
      if (pending.kind === 'init') {
        if (item.state === 'stored') {
          output.tracks.set(pending.session, pending.track);
          this.recorder?.initStored(renditionName, pending.session, pending.track, pending.bytes);
        }
        continue;
      }
      const stored = item.state === 'stored' && output.tracks.has(pending.session);
      if (item.state === 'stored' && !stored) this.options.onError(new Error(`${renditionName}: segment of session ${pending.session} without its init segment; listed as a gap`));
      const outcome = this.window.list(renditionName, { ...pending, missing: !stored });
      if (!outcome.listed) {
        this.options.onError(new Error(`${renditionName}: segment of session ${pending.session} not listed: ${outcome.reason}`));
        continue;
      }
      listed = true;
      // A recording keeps its media: nothing that left the live window is deleted while recording.
      if (!this.recorder) for (const segment of outcome.left) this.retire({ kind: 'segment', rendition: renditionName, session: segment.session, time: segment.time });
      left ||= outcome.left.length > 0;
      this.recorder?.segmentListed(renditionName, { session: pending.session, initSession: pending.session, time: pending.time, ticks: pending.ticks, duration: pending.duration, bytes: pending.bytes, programDateTime: pending.programDateTime, ...(stored ? {} : { gap: true }) });
      if (!stored) continue;
      output.stats.add(pending.bytes, pending.duration, pending.samples);
      this.options.metrics?.segmentStored(output.rendition.kind);
      this.lastUploadLagMs = this.options.now() - pending.cutAt;
    }
    if (!listed) return;
    if (left && !this.recorder) this.retireUnusedInits(renditionName, output);
    await this.manifests.listed(renditionName);
    await this.recorder?.checkpoint().catch((error: unknown) => this.options.onError(error));
    await this.retention.sweep();
  }

  private retire(ref: StreamObjectRef): void {
    this.retention.retire(streamObjectKey(this.options.playbackId, ref));
  }

  /** A session's init segment goes once none of its segments is listed or on the way. */
  private retireUnusedInits(renditionName: string, output: RenditionOutput): void {
    const inUse = this.window.initSessionsListed(renditionName);
    for (const item of this.queue.waiting(renditionName)) inUse.add(item.value.session);
    for (const session of [...output.tracks.keys()]) {
      if (inUse.has(session)) continue;
      output.tracks.delete(session);
      this.retire({ kind: 'init', rendition: renditionName, session });
    }
  }
}
