/**
 * One live stream from first publish to end. It outlives its encoder runs: a publisher that
 * reconnects within the reconnect window, or an ffmpeg that crashes and is restarted, continues
 * the same stream (same numbering, a discontinuity at the join) instead of starting a new one.
 */
import type { StreamOutput } from '../publish/stream-output.ts';
import type { SourceProbe } from '../media/source-probe.ts';
import type { Rendition, SourceFacts } from '../transcode/ladder.ts';
import type { PublishControl, PublishHandler } from '../rtmp/rtmp-server.ts';
import { LadderRun, type LadderRunOptions } from './ladder-run.ts';
import type { PipelineState, PipelineStats, StreamPipelineOptions } from './pipeline-types.ts';
import { RemuxRun, type MediaRun } from './remux-run.ts';
import { RestartBudget } from './restart-budget.ts';
import { setUpStreamOutput } from './stream-output-setup.ts';
import { runRenditions } from './run-renditions.ts';
import { chooseRun } from './run-choice.ts';
import { InputStats } from './input-stats.ts';
import { ProbeWindow } from './probe-window.ts';
import { storageTroubleReporter } from '../upload/storage-trouble.ts';
import type { StreamThumbnailer } from '../thumbnails/stream-thumbnails.ts';
import { restreamerForStream, type StreamRestreamer } from '../restream/stream-restreamer.ts';
import type { OutputStatus } from '../restream/restream-output.ts';

export type { PipelineSettings, PipelineState, PipelineStats, RenditionInfo, StreamPipelineOptions, StreamProblemCode } from './pipeline-types.ts';

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
  private readonly probe: ProbeWindow;
  private readonly startedAt: number;
  private stateValue: PipelineState = 'live';
  private control: PublishControl | undefined;
  private run: MediaRun | undefined;
  private lastRun: MediaRun | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly restartBudget = new RestartBudget();
  private finishing: Promise<void> | undefined;
  private lastInputAt: number;
  private readonly input = new InputStats();
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
    this.probe = new ProbeWindow({ targetSegmentDuration: options.targetSegmentDuration, noMediaLimitMs: options.idleTimeoutMs }, (probe, facts) => this.probeSettled(probe, facts));
    if (options.renditions) this.adoptLadder(options.renditions);
    this.thumbnails = options.thumbnails?.forStream({ playbackId: options.playbackId, store: options.store, log: options.log });
    this.restreamer = restreamerForStream(options.outputs, options.restreamConnect, options.log);
    this.idleWatch = setInterval(() => this.checkIdle(), Math.min(1000, options.idleTimeoutMs));
    this.idleWatch.unref();
  }

  private adoptLadder(renditions: readonly Rendition[]): StreamOutput {
    this.renditions = renditions;
    this.output = setUpStreamOutput(this.options, renditions, this.now, this.reportStorageTrouble);
    return this.output;
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
      this.probe.close();
      const run = this.run;
      this.run = undefined;
      await run?.drain();
      await this.output?.end();
      this.stateValue = 'ended';
      this.options.metrics.encodeSpeed.remove({ stream: this.options.playbackId });
      this.options.onEnded();
    })();
    return this.finishing;
  }

  /** The next run starts once the source's first seconds show what its ladder must be. */
  private beginProbe(): void {
    this.probe.begin();
  }

  private probeSettled(probe: SourceProbe, facts: SourceFacts): void {
    const log = this.options.log;
    if (probe.problem || (!facts.video && !facts.audio)) {
      log.error(`the publisher's stream cannot be read (${probe.problem ?? 'no audio or video arrived'}); disconnecting it`);
      this.options.onProblem?.('unsupported-source', `the publisher's stream cannot be read (${probe.problem ?? 'no audio or video arrived'})`);
      this.control?.disconnect();
      return;
    }
    const renditions = this.renditionsFor(facts);
    const run = this.startRun(renditions, probe.mediaZeroAt, probe.buffered, facts.video?.height);
    for (const chunk of probe.buffered) run.write(chunk);
  }

  /** This run's renditions: the stream's ladder, with the top passed through when this source allows it. */
  private renditionsFor(facts: SourceFacts): readonly Rendition[] {
    const { ladder, targetSegmentDuration, log } = this.options;
    const decided = runRenditions({ facts, ladder, targetSegmentDuration, streamLadder: this.renditions, encodeTopFromNowOn: this.encodeTopFromNowOn });
    for (const note of decided.notes) log[note.level](note.fields ?? {}, note.message);
    if (decided.chosenLadder) {
      this.adoptLadder(decided.chosenLadder);
      this.options.onLadder?.(decided.chosenLadder);
    }
    return decided.renditions;
  }

  /** `mediaZeroAt`: when the first media fed to this run was captured (epoch ms), the clock of its playlists. */
  private startRun(renditions: readonly Rendition[], mediaZeroAt: number | undefined, buffered: readonly Buffer[], sourceHeight: number | undefined): MediaRun {
    const output = this.output!;
    // Nothing to encode and audio that passes as it is: no ffmpeg for this run.
    const choice = chooseRun(renditions, buffered);
    const settings: Omit<LadderRunOptions, 'ffmpegPath' | 'plan'> = {
      renditions,
      targetSegmentDuration: this.options.targetSegmentDuration,
      mediaZeroAt,
      maxPassthroughSegmentDuration: maxPassthroughSegmentDuration(this.options.targetSegmentDuration),
      chunkDuration: this.options.chunkDuration,
      drainTimeoutMs: this.options.drainTimeoutMs,
      stallTimeoutMs: this.options.stallTimeoutMs,
      output,
      log: this.options.log,
      onChunk: (track, frames) => this.input.packaged(run, renditions, track, { frames }, this.now()),
      onSegment: (track, seconds) => this.input.packaged(run, renditions, track, { seconds }, this.now()),
      onKeyframeOverdue: () => void this.keyframeOverdue(run),
      onUnexpectedExit: (reason: string) => void this.runFailed(run, reason),
    };
    // With ffmpeg, only what the sidecar cannot take is encoded (choice.plan); every rendition is packaged here.
    const run: MediaRun = choice.kind === 'remux' ? new RemuxRun(settings) : new LadderRun({ ...settings, ffmpegPath: this.options.ffmpegPath, plan: choice.plan, sourceHeight });
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
    // Viewers holding the part its last one named learn now, not when the next run begins.
    this.output?.runEnded();
    if (!this.control || this.run || this.probe.open || this.finishing) return;
    this.beginProbe();
    this.control.resubscribe();
  }

  private async publisherLeft(control: PublishControl): Promise<void> {
    if (control !== this.control) return;
    this.control = undefined;
    this.probe.close();
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
    this.output?.runEnded();
    const decision = this.restartBudget.next(this.now());
    if (decision.giveUp) {
      log.error(`ffmpeg failed ${decision.failures} times within ${decision.periodSeconds} s; disconnecting the publisher`);
      this.options.onProblem?.('encoder-failing', `ffmpeg failed ${decision.failures} times within ${decision.periodSeconds} s: ${reason}`.slice(0, 300));
      this.control?.disconnect();
      return;
    }
    const delay = decision.delayMs;
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (!this.control || this.run || this.probe.open || this.finishing) return;
    log.warn(`restarting ffmpeg (restart ${decision.restart} within ${decision.periodSeconds} s, after ${delay} ms)`);
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
    this.input.received(flv.length, now);
    this.options.metrics.bytesIn.inc(flv.length);
    this.thumbnails?.write(flv);
    this.restreamer?.write(flv);
    if (this.probe.push(flv, now)) return;
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
      ...this.input.rates(now, this.startedAt),
      uploadLagMs: this.output?.lastUploadLagMs,
      outputs: this.outputStatus(),
    };
  }

  /** How each restream output is doing (none: the stream is not restreamed). */
  outputStatus(): OutputStatus[] {
    return this.restreamer?.status() ?? [];
  }
}
