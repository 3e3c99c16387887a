/**
 * One live stream from first publish to end. It outlives its encoder runs: a publisher that
 * reconnects within the reconnect window, or an ffmpeg that crashes and is restarted, continues
 * the same stream (same numbering, a discontinuity at the join) instead of starting a new one.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import type { OutputMetrics } from '../publish/output-metrics.ts';
import type { Retention } from '../publish/retention.ts';
import { StreamOutput } from '../publish/stream-output.ts';
import type { LiveChannelSink } from '../upload/part-sink.ts';
import type { UploadLimits } from '../upload/upload-queue.ts';
import { SourceProbe } from '../media/source-probe.ts';
import { planLadder, SOURCE_RENDITION, withEncodedTop, type LadderConfig, type Rendition, type SourceFacts } from '../transcode/ladder.ts';
import type { PublishControl, PublishHandler } from '../rtmp/rtmp-server.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { EncoderRun } from './encoder-run.ts';
import { RemuxRun, type MediaRun } from './remux-run.ts';
import { chooseRun } from './run-choice.ts';
import { RateWindow } from './rate-window.ts';
import { storageTroubleReporter } from '../upload/storage-trouble.ts';
import type { StreamThumbnailer, Thumbnails } from '../thumbnails/stream-thumbnails.ts';
import type { Connect, OutputStatus } from '../restream/restream-output.ts';
import type { RestreamTarget } from '../restream/restream-target.ts';
import { StreamRestreamer } from '../restream/stream-restreamer.ts';

export interface PipelineSettings {
  ffmpegPath: string;
  ladder: LadderConfig;
  /** Seconds. */
  targetSegmentDuration: number;
  /** Seconds: the longest chunk, and the low-latency part target. */
  chunkDuration: number;
  /** Where low-latency parts go; unset: segments only. */
  partSink?: LiveChannelSink;
  windowSegments: number;
  retention: Retention;
  /** How long ffmpeg may take to flush after its input ends, milliseconds. */
  drainTimeoutMs: number;
  /** A publisher that sends nothing for this long is disconnected, milliseconds. */
  idleTimeoutMs: number;
  /** How long a stream waits for its publisher to come back before it ends, milliseconds (0: it ends at once). */
  reconnectWindowMs: number;
  /** ffmpeg that writes nothing for this long while fed is killed and restarted, milliseconds. */
  stallTimeoutMs: number;
  uploadLimits?: UploadLimits;
  /** Where streams are stored, for messages (never a secret), e.g. "edge write API at https://…". */
  storageName?: string;
  /** Makes the streams' thumbnails from their keyframes; unset: none. */
  thumbnails?: Thumbnails;
  /** Opens a restream output's connection (ingest/restream/ffmpeg-connection.ts); unset: no restreaming. */
  restreamConnect?: Connect;
}

export interface StreamPipelineOptions extends PipelineSettings {
  streamId: string;
  store: ObjectStore;
  log: Logger;
  metrics: IngestMetrics;
  now?: () => number;
  /** Whether viewers need a playback token (written into the stream's status document). */
  playback: 'public' | 'signed';
  /** The stream's renditions when they are already known (a stream taken up after a restart). */
  renditions?: readonly Rendition[];
  /** A new publish: another sidecar's live playlists are continued only within this (StreamOutputOptions.takeOverWithinMs). */
  takeOverWithinMs?: number;
  /** Where the stream is restreamed to, from its first publish (ingest/restream/). */
  outputs?: readonly RestreamTarget[];
  /** The stream's renditions were chosen (from its first publisher's source). */
  onLadder?(renditions: readonly Rendition[]): void;
  /** The stream has ended and everything is stored. */
  onEnded(): void;
  /** Something went wrong that a platform's operator hears of (a stream.errored webhook); logged as well. */
  onProblem?(code: StreamProblemCode, message: string): void;
}

/** Why a stream is in trouble (shared/webhooks.ts WEBHOOK_ERROR_CODES). */
export type StreamProblemCode = 'unsupported-source' | 'gop-out-of-range' | 'encoder-failing' | 'storage-failing';

export type PipelineState = 'live' | 'reconnecting' | 'ending' | 'ended';

export interface RenditionInfo {
  name: string;
  kind: 'video' | 'audio';
  codec: string;
  width?: number;
  height?: number;
}

export interface PipelineStats {
  session: string | undefined;
  since: number;
  state: PipelineState;
  /** Publish sessions after the first: publisher reconnects and encoder restarts. */
  restarts: number;
  renditions: RenditionInfo[];
  inputBitsPerSecond: number;
  inputFramesPerSecond: number;
  /** Media seconds packaged per wall-clock second (1 = keeping up with real time). */
  encodeSpeed: number;
  uploadLagMs: number | undefined;
  /** The restream outputs and their states (keys redacted). */
  outputs: OutputStatus[];
}

const STATS_WINDOW_MS = 10_000;
// ffmpeg restarts: backoff doubles from the first delay; too many within the period gives up.
const RESTART_FIRST_DELAY_MS = 250;
const RESTART_MAX_DELAY_MS = 8_000;
const RESTART_PERIOD_MS = 60_000;
const RESTARTS_PER_PERIOD = 5;
// The source probe: how much beyond one segment of media, and how long in wall time, it waits for
// a second keyframe; and the most it buffers meanwhile.
const PROBE_EXTRA_MEDIA_SECONDS = 0.2;
const PROBE_WALL_EXTRA_MS = 3_000;
const PROBE_MAX_BYTES = 32 * 1024 * 1024;

/** Seconds a passed-through segment may run without a keyframe: as long as its rounded EXTINF stays within the target duration. */
export function maxPassthroughSegmentDuration(targetSegmentDuration: number): number {
  return Math.min(Math.ceil(targetSegmentDuration) + 0.45, targetSegmentDuration + 0.5);
}

export class StreamPipeline {
  private readonly options: StreamPipelineOptions;
  private readonly now: () => number;
  /** Where the runs' CMAF goes: storage, manifests, parts. */
  private output: StreamOutput | undefined;
  /** The stream's ladder, fixed by its first source (later runs only change how the top is made). */
  private renditions: readonly Rendition[] | undefined;
  /** Why the top rendition is encoded for the rest of the stream (its source's keyframes did not fit). */
  private encodeTopFromNowOn: string | undefined;
  private probe: SourceProbe | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly startedAt: number;
  private stateValue: PipelineState = 'live';
  private control: PublishControl | undefined;
  private run: MediaRun | undefined;
  private lastRun: MediaRun | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly restarts: number[] = [];
  private finishing: Promise<void> | undefined;
  private lastInputAt: number;
  private readonly inputBytes = new RateWindow(STATS_WINDOW_MS);
  private readonly videoFrames = new RateWindow(STATS_WINDOW_MS);
  private readonly videoSeconds = new RateWindow(STATS_WINDOW_MS);
  private readonly idleWatch: NodeJS.Timeout;
  /** One per stream, so that a refused credential is reported once per stream, not per write. */
  private readonly reportStorageTrouble: (error: unknown) => void;
  private readonly thumbnails: StreamThumbnailer | undefined;
  private readonly restreamer: StreamRestreamer | undefined;

  constructor(options: StreamPipelineOptions) {
    const storageTrouble = storageTroubleReporter({ log: options.log, storage: options.storageName ?? 'storage' });
    this.reportStorageTrouble = (error) => {
      storageTrouble(error);
      options.onProblem?.('storage-failing', `storing the stream failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300));
    };
    this.options = options;
    this.now = options.now ?? Date.now;
    this.startedAt = this.lastInputAt = this.now();
    if (options.renditions) this.adoptLadder(options.renditions);
    this.thumbnails = options.thumbnails?.forStream({ streamId: options.streamId, store: options.store, log: options.log });
    if (options.outputs?.length && options.restreamConnect) {
      this.restreamer = new StreamRestreamer({
        targets: options.outputs,
        connect: options.restreamConnect,
        // The status holds the URL with the key redacted, and the reason redacted.
        onChange: ({ id, url, state, reason }) => options.log[state === 'live' || state === 'connecting' ? 'info' : 'warn']({ output: id, url }, `restream output ${state}${reason ? `: ${reason}` : ''}`),
        onProblem: (message) => options.log.warn(message),
      });
    }
    this.idleWatch = setInterval(() => this.checkIdle(), Math.min(1000, options.idleTimeoutMs));
    this.idleWatch.unref();
  }

  private adoptLadder(renditions: readonly Rendition[]): StreamOutput {
    const options = this.options;
    this.renditions = renditions;
    const output = new StreamOutput({
      streamId: options.streamId,
      renditions,
      store: options.store,
      targetSegmentDuration: options.targetSegmentDuration,
      windowSegments: options.windowSegments,
      retention: options.retention,
      playback: options.playback,
      lowLatency: options.partSink
        ? { sink: options.partSink, partTarget: options.chunkDuration, onTrouble: (message) => options.log.warn(message) }
        : undefined,
      now: this.now,
      metrics: outputMetrics(options.metrics),
      onError: this.reportStorageTrouble,
      onBacklog: (seconds, segments) =>
        options.log.warn(`storage is slower than real time: ${segments} segment(s) waiting, the oldest for ${seconds.toFixed(1)} s`),
      limits: options.uploadLimits,
      takeOverWithinMs: options.takeOverWithinMs,
    });
    this.output = output;
    void output.restoreFromStorage().then((takenOver) => {
      if (takenOver) options.log.warn('took the stream over from platform state: its stored live playlists continue after a discontinuity (their sidecar stopped without ending them)');
    });
    return output;
  }

  /** Taken up after a sidecar restart: the stream waits for its publisher as after a disconnect. */
  awaitReconnect(): void {
    if (this.control || this.stateValue !== 'live') return;
    this.waitForReconnect();
  }

  get state(): PipelineState {
    return this.stateValue;
  }

  get hasPublisher(): boolean {
    return this.control !== undefined;
  }

  /** The ffmpeg of the current run (for tests that make it crash, and for operators). */
  get ffmpegPid(): number | undefined {
    return this.run?.pid;
  }

  /** A publisher starts (or resumes) the stream. */
  attach(control: PublishControl): PublishHandler {
    if (this.stateValue !== 'live' && this.stateValue !== 'reconnecting') throw new Error(`cannot attach a publisher to a stream that is ${this.stateValue}`);
    if (this.control) throw new Error('the stream already has a publisher');
    clearTimeout(this.reconnectTimer);
    if (this.stateValue === 'reconnecting') this.options.log.info('publisher reconnected; the stream continues after a discontinuity');
    this.stateValue = 'live';
    this.control = control;
    this.lastInputAt = this.now();
    this.beginProbe();
    this.restreamer?.publisherAttached();
    return { onData: (flv) => this.write(flv), onEnd: () => void this.publisherLeft(control) };
  }

  /** Disconnects the publisher; the stream waits for it to come back (with a valid key) as after a drop. */
  dropPublisher(): void {
    this.control?.disconnect();
  }

  /** Disconnects the publisher and ends the stream without waiting for a reconnect. */
  end(): Promise<void> {
    this.control?.disconnect();
    return this.finish();
  }

  /** Ends the stream now: flush the current run, close the playlists. */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.stateValue = 'ending';
      this.thumbnails?.end();
      this.restreamer?.end();
      clearTimeout(this.reconnectTimer);
      clearInterval(this.idleWatch);
      this.endProbe();
      const run = this.run;
      this.run = undefined;
      await run?.drain();
      await this.output?.end();
      this.stateValue = 'ended';
      this.options.metrics.encodeSpeed.remove({ stream: this.options.streamId });
      this.options.onEnded();
    })();
    return this.finishing;
  }

  /** The next run starts once the source's first seconds show what its ladder must be. */
  private beginProbe(): void {
    this.endProbe();
    const probe = new SourceProbe({ maxMediaSeconds: this.options.targetSegmentDuration + PROBE_EXTRA_MEDIA_SECONDS, maxBytes: PROBE_MAX_BYTES });
    this.probe = probe;
    this.probeTimer = setTimeout(() => this.probeSettled(probe, probe.facts()), this.options.targetSegmentDuration * 1000 + PROBE_WALL_EXTRA_MS);
  }

  private endProbe(): void {
    clearTimeout(this.probeTimer);
    this.probe = undefined;
  }

  private probeSettled(probe: SourceProbe, facts: SourceFacts): void {
    if (this.probe !== probe) return;
    this.endProbe();
    const log = this.options.log;
    if (probe.problem || (!facts.video && !facts.audio)) {
      log.error(`the publisher's stream cannot be read (${probe.problem ?? 'no audio or video arrived'}); disconnecting it`);
      this.options.onProblem?.('unsupported-source', `the publisher's stream cannot be read (${probe.problem ?? 'no audio or video arrived'})`);
      this.control?.disconnect();
      return;
    }
    const renditions = this.renditionsFor(facts);
    const run = this.startRun(renditions, probe.mediaZeroAt, probe.buffered);
    for (const chunk of probe.buffered) run.write(chunk);
  }

  /** This run's renditions: the stream's ladder, with the top passed through when this source allows it. */
  private renditionsFor(facts: SourceFacts): readonly Rendition[] {
    const log = this.options.log;
    const plan = planLadder(facts, this.options.ladder, this.options.targetSegmentDuration);
    const source = facts.video ? `${facts.video.width}x${facts.video.height}` : 'no video';
    const top = this.encodeTopFromNowOn ?? plan.encodeReason;
    if (!this.renditions) {
      log.info({ ladder: plan.renditions.map((rendition) => rendition.name), source }, `ladder chosen${top ? `; the top rendition is encoded: ${top}` : '; the source passes through'}`);
      this.adoptLadder(plan.renditions);
      this.options.onLadder?.(plan.renditions);
      return plan.renditions;
    }
    const planned = new Map(plan.renditions.map((rendition) => [rendition.name, rendition]));
    if ([...planned.keys()].join() !== this.renditions.map((rendition) => rendition.name).join()) {
      log.warn({ ladder: this.renditions.map((rendition) => rendition.name), source }, 'the source changed since the stream started; keeping its ladder');
    }
    const renditions = this.renditions.map((rendition) => (rendition.name === SOURCE_RENDITION ? (planned.get(SOURCE_RENDITION) ?? rendition) : rendition));
    if (top) log.info(`the top rendition is encoded: ${top}`);
    return this.encodeTopFromNowOn ? withEncodedTop(renditions, this.options.ladder, facts.video?.height ?? 0) : renditions;
  }

  /** `mediaZeroAt`: when the first media fed to this run was captured (epoch ms), the clock of its playlists. */
  private startRun(renditions: readonly Rendition[], mediaZeroAt: number | undefined, buffered: readonly Buffer[]): MediaRun {
    const output = this.output!;
    // Nothing to encode and audio that passes as it is: no ffmpeg for this run.
    const choice = chooseRun(renditions, buffered);
    const run: MediaRun = new (choice.kind === 'remux' ? RemuxRun : EncoderRun)({
      ffmpegPath: this.options.ffmpegPath,
      renditions,
      targetSegmentDuration: this.options.targetSegmentDuration,
      mediaZeroAt,
      maxPassthroughSegmentDuration: maxPassthroughSegmentDuration(this.options.targetSegmentDuration),
      chunkDuration: this.options.chunkDuration,
      drainTimeoutMs: this.options.drainTimeoutMs,
      stallTimeoutMs: this.options.stallTimeoutMs,
      output,
      log: this.options.log,
      // One video rendition stands for the source: every rung carries each of its frames
      // (scaled, never resampled), so counting them all reported 90 fps for a 30 fps source.
      onChunk: (track, samples) => {
        if (track === referenceVideoTrack(run, renditions)) this.videoFrames.add(samples, this.now());
      },
      onSegment: (track, seconds) => {
        if (track === referenceVideoTrack(run, renditions)) this.videoSeconds.add(seconds, this.now());
      },
      onKeyframeOverdue: () => void this.keyframeOverdue(run),
      onUnexpectedExit: (reason) => void this.runFailed(run, reason),
    });
    this.run = this.lastRun = run;
    this.options.log.info(
      { session: run.session, renditions: renditions.map((rendition) => `${rendition.name}:${rendition.encoding}`) },
      choice.kind === 'remux' ? 'remux started (no ffmpeg)' : `encoder started (ffmpeg: ${choice.reason})`,
    );
    return run;
  }

  /**
   * A passed-through source went too long without a keyframe (an irregular GOP): its segment was
   * cut short, and the stream continues, after a discontinuity, with the top rendition encoded.
   */
  private async keyframeOverdue(run: MediaRun): Promise<void> {
    if (run !== this.run || this.encodeTopFromNowOn) return;
    const limit = maxPassthroughSegmentDuration(this.options.targetSegmentDuration);
    this.encodeTopFromNowOn = `the source went more than ${limit} s without a keyframe`;
    this.options.log.warn(`${this.encodeTopFromNowOn}; encoding the top rendition from now on`);
    this.options.onProblem?.('gop-out-of-range', this.encodeTopFromNowOn);
    this.run = undefined;
    await run.drain();
    if (!this.control || this.run || this.probe || this.finishing) return;
    this.beginProbe();
    this.control.resubscribe();
  }

  private async publisherLeft(control: PublishControl): Promise<void> {
    if (control !== this.control) return;
    this.control = undefined;
    this.endProbe();
    if (this.finishing) return;
    const run = this.run;
    this.run = undefined;
    await run?.drain();
    if (this.finishing || this.control) return;
    if (this.options.reconnectWindowMs <= 0) {
      await this.finish();
      return;
    }
    this.options.log.info('publisher left');
    this.waitForReconnect();
  }

  private waitForReconnect(): void {
    this.stateValue = 'reconnecting';
    this.options.log.info(`the stream waits ${this.options.reconnectWindowMs / 1000} s for its publisher to reconnect`);
    void this.output?.pause();
    this.reconnectTimer = setTimeout(() => {
      if (this.stateValue !== 'reconnecting') return;
      this.options.log.info('no reconnect within the window; ending the stream');
      void this.finish();
    }, this.options.reconnectWindowMs);
  }

  private async runFailed(run: MediaRun, reason: string): Promise<void> {
    if (run !== this.run) return;
    this.run = undefined;
    const log = this.options.log;
    log.error(`${run.pid === undefined ? 'the run' : 'ffmpeg'} stopped while the stream was live: ${reason}`);
    this.options.metrics.ffmpegFailures.inc();
    await run.settle();
    const now = this.now();
    while (this.restarts.length > 0 && this.restarts[0]! < now - RESTART_PERIOD_MS) this.restarts.shift();
    if (this.restarts.length >= RESTARTS_PER_PERIOD) {
      log.error(`ffmpeg failed ${this.restarts.length + 1} times within ${RESTART_PERIOD_MS / 1000} s; disconnecting the publisher`);
      this.options.onProblem?.('encoder-failing', `ffmpeg failed ${this.restarts.length + 1} times within ${RESTART_PERIOD_MS / 1000} s: ${reason}`.slice(0, 300));
      this.control?.disconnect();
      return;
    }
    const delay = Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** this.restarts.length);
    this.restarts.push(now);
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (!this.control || this.run || this.probe || this.finishing) return;
    log.warn(`restarting ffmpeg (restart ${this.restarts.length} within ${RESTART_PERIOD_MS / 1000} s, after ${delay} ms)`);
    this.options.metrics.ffmpegRestarts.inc();
    this.beginProbe();
    // A fresh FLV stream for the new ffmpeg: header, codec configuration, the current GOP.
    this.control.resubscribe();
  }

  private checkIdle(): void {
    const silentFor = this.now() - this.lastInputAt;
    if (this.stateValue === 'live' && this.control && silentFor > this.options.idleTimeoutMs) {
      this.options.log.warn(`no media from the publisher for ${Math.round(silentFor / 1000)} s; disconnecting it`);
      this.control.disconnect();
    }
  }

  /** FLV bytes from the publisher. */
  private write(flv: Buffer): void {
    const now = this.now();
    this.lastInputAt = now;
    this.inputBytes.add(flv.length, now);
    this.options.metrics.bytesIn.inc(flv.length);
    this.thumbnails?.write(flv);
    this.restreamer?.write(flv);
    if (this.probe) {
      const facts = this.probe.push(flv, now);
      if (facts) this.probeSettled(this.probe, facts);
      return;
    }
    this.run?.write(flv);
  }

  stats(): PipelineStats {
    const now = this.now();
    const tracks = this.lastRun?.tracks;
    return {
      session: this.run?.session,
      since: this.startedAt,
      state: this.stateValue,
      restarts: Math.max(0, (this.output?.sessions ?? 0) - 1),
      renditions: (this.renditions ?? []).flatMap((rendition) => {
        const track = tracks?.get(rendition.name);
        return track ? [{ name: rendition.name, kind: track.kind, codec: track.codec, width: track.width, height: track.height }] : [];
      }),
      inputBitsPerSecond: Math.round(this.inputBytes.perSecond(now, this.startedAt) * 8),
      inputFramesPerSecond: Math.round(this.videoFrames.perSecond(now, this.startedAt) * 100) / 100,
      encodeSpeed: Math.round(this.videoSeconds.perSecond(now, this.startedAt) * 100) / 100,
      uploadLagMs: this.output?.lastUploadLagMs,
      outputs: this.restreamer?.status() ?? [],
    };
  }
}

/** The sidecar's metrics as a stream's output counts into them. */
function outputMetrics(metrics: IngestMetrics): OutputMetrics {
  return {
    timeUpload: (object) => {
      const end = metrics.uploadSeconds.startTimer({ object });
      return () => void end();
    },
    segmentDropped: () => metrics.segmentsDropped.inc(),
    segmentStored: (kind) => metrics.segmentsStored.inc({ kind }),
    partAnnounced: () => metrics.partsAnnounced.inc(),
    partFailed: () => metrics.partsFailed.inc(),
    objectDeleted: () => metrics.objectsDeleted.inc(),
  };
}

/** The run's track of its first video rendition (the source's picture size), once its init segment is in. */
function referenceVideoTrack(run: MediaRun, renditions: readonly Rendition[]): CmafTrack | undefined {
  for (const rendition of renditions) {
    const track = run.tracks.get(rendition.name);
    if (track?.kind === 'video') return track;
  }
  return undefined;
}
