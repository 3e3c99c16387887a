/**
 * One run of a stream whose ladder needs ffmpeg: the publisher's FLV is put on the run's timeline
 * once (FlvRestamper); the source's H.264 and passable AAC are remuxed in-process from those tags
 * (run-plan.ts), and ffmpeg (-copyts) gets them only to make what must be encoded, writing each
 * rendition back as FLV on its own pipe. Every rendition's frames go to the same packager: parts
 * and segments cut by the same code, on the same grid (the run's media time zero), the audio cut
 * where the video made beside it is.
 *
 * Same contract as RemuxRun: one session per run, segments handed to the stream's output as they
 * are cut, drain() flushes the last ones; ffmpeg stopping on its own (a crash, a kill, a stall)
 * ends the run through onUnexpectedExit and the pipeline starts a new one (a discontinuity). When
 * the run stops, its tracks end together (run-end.ts): ffmpeg's pipes end a part apart, and the
 * in-process tracks run ahead of what ffmpeg encoded.
 */
import type { Logger } from 'pino';
import type { SegmentCuts } from '../package/cmaf-packager.ts';
import type { CmafSegmenterEvents } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { FlvRemuxer } from '../package/flv-remuxer.ts';
import type { StreamOutput } from '../publish/stream-output.ts';
import { buildFfmpegArgs } from '../transcode/ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from '../transcode/ffmpeg-process.ts';
import { FlvRestamper } from '../transcode/flv-restamper.ts';
import { flvFileHeader, flvTagPieces } from '../transcode/flv-tag-writer.ts';
import type { Rendition } from '../transcode/ladder.ts';
import type { MediaRun } from './media-run.ts';
import { renditionEvents } from './rendition-events.ts';
import { commonRunEnd } from './run-end.ts';
import type { RunPlan } from './run-plan.ts';
import { newSessionId } from './session-id.ts';

export interface LadderRunOptions {
  ffmpegPath: string;
  /** The stream's ladder for this run (what decides keyframe placement); `plan` says who makes each. */
  renditions: readonly Rendition[];
  /** Which renditions the sidecar remuxes and which ffmpeg makes (planRun). */
  plan: RunPlan;
  /** The source's picture height, when it has video (how ffmpeg threads its decoding). */
  sourceHeight?: number;
  targetSegmentDuration: number;
  /**
   * When the first media fed to this run was captured (epoch ms): its output's media time zero.
   * Unset: the arrival of the first part stands in (late by whatever was buffered before).
   */
  mediaZeroAt?: number;
  /** Seconds: the longest part (PART-TARGET). */
  chunkDuration: number;
  /** Seconds a passed-through segment may last before the source counts as missing its keyframe. */
  maxPassthroughSegmentDuration: number;
  /** How long ffmpeg may take to flush once its input ends, milliseconds. */
  drainTimeoutMs: number;
  /** ffmpeg that writes nothing for this long while media keeps arriving has stalled, milliseconds. */
  stallTimeoutMs: number;
  output: StreamOutput;
  log: Logger;
  onChunk(track: CmafTrack, sampleCount: number): void;
  onSegment(track: CmafTrack, seconds: number): void;
  /** A passed-through rendition went `maxPassthroughSegmentDuration` without a keyframe. */
  onKeyframeOverdue(rendition: string): void;
  /** ffmpeg stopped before it was asked to (crash, kill, bad input), or the source could not be remuxed any more. */
  onUnexpectedExit(reason: string): void;
}

/** Every run's packagers count segments from the run's media time zero: one grid for all renditions. */
const GRID_ORIGIN = 0;

export class LadderRun implements MediaRun {
  readonly session = newSessionId();
  readonly tracks = new Map<string, CmafTrack>();
  private readonly options: LadderRunOptions;
  private readonly restamper: FlvRestamper;
  /** The renditions remuxed in-process (the source's video, its passable audio), if any. */
  private readonly remuxer: FlvRemuxer | undefined;
  /** One per ffmpeg output. */
  private readonly outputPackagers: FlvRemuxer[] = [];
  private readonly ffmpeg: FfmpegProcess;
  /** Every ffmpeg output has been packaged to its end. */
  private readonly outputsDone: Promise<void>;
  private stopping = false;
  private failed = false;
  private lastInputAt = Date.now();
  private lastOutputAt = Date.now();
  private stalled = false;
  private readonly stallWatch: NodeJS.Timeout;

  constructor(options: LadderRunOptions) {
    this.options = options;
    options.output.beginSession(this.session, options.mediaZeroAt);
    this.restamper = new FlvRestamper((message) => options.log.warn({ session: this.session }, message));
    const { remuxed, encoded } = options.plan;
    if (encoded.length === 0) throw new Error('nothing for ffmpeg to make: a run without it is a RemuxRun');
    const video = remuxed.find((rendition) => rendition.kind === 'video');
    const audio = remuxed.find((rendition) => rendition.kind === 'audio');
    if (video && video.encoding !== 'copy') throw new Error(`rendition ${video.name} must be encoded: it cannot be remuxed`);
    this.remuxer =
      video || audio
        ? this.packagerFor({ video, audio }, (message) => options.log.warn({ session: this.session }, message), undefined, (track, rendition) =>
            options.log.info({ session: this.session, rendition: rendition.name, codec: track.codec, width: track.width, height: track.height, sampleRate: track.sampleRate }, 'remuxing the source in-process'),
          )
        : undefined;
    const passesThrough = options.renditions.some((rendition) => rendition.kind === 'video' && rendition.encoding === 'copy');
    this.ffmpeg = new FfmpegProcess({
      binary: options.ffmpegPath,
      args: buildFfmpegArgs({ renditions: encoded, keyframeInterval: options.targetSegmentDuration, keyframesFromSource: passesThrough, sourceHeight: options.sourceHeight }),
      outputCount: encoded.length,
      onStderrLine: (line) => options.log.debug({ ffmpeg: line }, 'ffmpeg'),
    });
    this.ffmpeg.input.write(flvFileHeader());
    // The audio ffmpeg writes is cut where its top video is (no few-frame audio segment after the
    // video's last); audio remuxed in-process follows the source's video beside it (FlvRemuxer).
    const top = encoded.find((rendition) => rendition.kind === 'video');
    const cuts: SegmentCuts | undefined = top && encoded.some((rendition) => rendition.kind === 'audio') ? {} : undefined;
    this.outputsDone = Promise.all(encoded.map((rendition, index) => this.packageOutput(rendition, index, rendition === top || rendition.kind === 'audio' ? cuts : undefined))).then(() => {});
    void this.ffmpeg.exited.then((exit) => {
      clearInterval(this.stallWatch);
      if (!this.stopping) this.fail(this.stalled ? `stalled: no output for ${options.stallTimeoutMs / 1000} s` : describeExit(exit));
    });
    this.stallWatch = setInterval(() => this.checkStall(), 1000);
    this.stallWatch.unref();
  }

  get pid(): number | undefined {
    return this.ffmpeg.pid;
  }

  /** A packager of frames on the run's timeline for these renditions (at most one video, one audio). */
  private packagerFor(
    renditions: { video?: Rendition; audio?: Rendition },
    onNotice: (message: string) => void,
    segmentCuts?: SegmentCuts,
    onTrack?: (track: CmafTrack, rendition: Rendition) => void,
  ): FlvRemuxer {
    const { video, audio } = renditions;
    return new FlvRemuxer({
      videoRendition: video?.name,
      audioRendition: audio?.name,
      targetSegmentDuration: this.options.targetSegmentDuration,
      partTarget: this.options.chunkDuration,
      // A passed-through source decides where keyframes are; encoded renditions have them where forced.
      maxVideoSegmentDuration: video?.kind === 'video' && video.encoding === 'copy' ? this.options.maxPassthroughSegmentDuration : undefined,
      timestamps: 'as-stamped',
      gridOrigin: GRID_ORIGIN,
      segmentCuts,
      // Its tracks end where the run's others do (run-end.ts).
      trimmable: true,
      events: (name) => this.events(name === video?.name ? video : audio!, onTrack),
      onNotice,
    });
  }

  private events(rendition: Rendition, onTrack?: (track: CmafTrack, rendition: Rendition) => void): CmafSegmenterEvents {
    return renditionEvents({ session: this.session, tracks: this.tracks, stopping: () => this.stopping }, rendition, this.options, onTrack && ((track) => onTrack(track, rendition)));
  }

  /** ffmpeg's FLV output for one rendition, read into frames and packaged as the source's are. */
  private packageOutput(rendition: Rendition, index: number, segmentCuts: SegmentCuts | undefined): Promise<void> {
    const packager = this.packagerFor(
      rendition.kind === 'video' ? { video: rendition } : { audio: rendition },
      (message) => this.options.log.warn({ session: this.session, rendition: rendition.name }, `ffmpeg's output: ${message}`),
      segmentCuts,
    );
    this.outputPackagers.push(packager);
    const output = this.ffmpeg.outputs[index]!;
    return new Promise((resolve) => {
      output.on('data', (bytes: Buffer) => {
        this.lastOutputAt = Date.now();
        try {
          packager.push(bytes);
        } catch (error) {
          this.options.log.error({ err: error, rendition: rendition.name }, 'ffmpeg output is not FLV the packager can read');
          output.removeAllListeners('data');
          output.resume();
          this.ffmpeg.kill();
        }
      });
      // Ended with the others, once every output is closed (endTogether).
      output.once('close', () => resolve());
    });
  }

  /** A hung ffmpeg never exits on its own: one that is fed but writes nothing is killed (and so restarted). */
  private checkStall(): void {
    const now = Date.now();
    const fed = now - this.lastInputAt < 2000;
    if (this.stopping || this.stalled || !fed || now - this.lastOutputAt < this.options.stallTimeoutMs) return;
    this.stalled = true;
    this.options.log.warn(`ffmpeg wrote nothing for ${Math.round((now - this.lastOutputAt) / 1000)} s while media kept arriving; killing it`);
    this.ffmpeg.kill('SIGKILL');
  }

  write(flv: Buffer): void {
    if (this.stopping) return;
    this.lastInputAt = Date.now();
    let tags;
    try {
      tags = this.restamper.push(flv);
    } catch (error) {
      this.stopping = true;
      this.ffmpeg.kill();
      // Not from inside the pipeline's own write: it restarts the run in response.
      queueMicrotask(() => this.fail(`the publisher's FLV cannot be read: ${(error as Error).message}`));
      return;
    }
    try {
      for (const tag of tags) this.remuxer?.take(tag);
    } catch (error) {
      this.stopping = true;
      this.ffmpeg.kill();
      queueMicrotask(() => this.fail(`in-process remux stopped: ${(error as Error).message}`));
      return;
    }
    // A tag goes as its header, its payload (not copied) and its size: written together.
    const input = this.ffmpeg.input;
    input.cork();
    for (const tag of tags) for (const piece of flvTagPieces(tag)) input.write(piece);
    process.nextTick(() => input.uncork());
  }

  /** Every track of the run ends at one media time (run-end.ts): the last segments are cut there and handed over. */
  private endTogether(): void {
    const packagers = [...(this.remuxer ? [this.remuxer] : []), ...this.outputPackagers];
    const cutAt = commonRunEnd(packagers.flatMap((packager) => packager.mediaEnds()), this.options.targetSegmentDuration / 2);
    for (const packager of packagers) packager.end(cutAt);
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onUnexpectedExit(reason);
  }

  /** Ends ffmpeg's input and waits until every segment is handed to the output. */
  async drain(): Promise<void> {
    this.stopping = true;
    clearInterval(this.stallWatch);
    const ffmpeg = this.ffmpeg;
    ffmpeg.endInput();
    const timer = setTimeout(() => {
      this.options.log.warn(`ffmpeg did not finish within ${this.options.drainTimeoutMs} ms; stopping it`);
      ffmpeg.kill();
    }, this.options.drainTimeoutMs);
    await ffmpeg.exited;
    await this.outputsDone;
    clearTimeout(timer);
    this.endTogether();
  }

  /** After an unexpected stop: the segments made before it are handed over. */
  async settle(): Promise<void> {
    this.stopping = true;
    clearInterval(this.stallWatch);
    this.ffmpeg.kill();
    await this.ffmpeg.exited;
    await this.outputsDone;
    this.endTogether();
  }
}

function describeExit(exit: FfmpegExit): string {
  const last = exit.stderrTail.at(-1);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return last ? `${how}: ${last}` : how;
}
