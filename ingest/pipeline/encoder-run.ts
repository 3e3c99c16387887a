/**
 * One encoder run of a stream: one ffmpeg fed FLV, one CMAF segmenter per rendition, all of it
 * handed to the stream's output under one session. A stream has a new run for every
 * publisher connection and every ffmpeg restart.
 */
import type { Logger } from 'pino';
import { CmafSegmenter } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { StreamOutput } from '../publish/stream-output.ts';
import { buildFfmpegArgs } from '../transcode/ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from '../transcode/ffmpeg-process.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { renditionEvents } from './rendition-events.ts';
import { newSessionId } from './session-id.ts';

export interface EncoderRunOptions {
  ffmpegPath: string;
  renditions: readonly Rendition[];
  targetSegmentDuration: number;
  /**
   * When the first media fed to this run was captured (epoch ms): its output's media time zero.
   * Unset: the arrival of ffmpeg's first output stands in (late by whatever was buffered before).
   */
  mediaZeroAt?: number;
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
  /** ffmpeg stopped before it was asked to (crash, kill, bad input). */
  onUnexpectedExit(reason: string): void;
}

export class EncoderRun {
  readonly session = newSessionId();
  readonly tracks = new Map<string, CmafTrack>();
  private readonly options: EncoderRunOptions;
  private readonly ffmpeg: FfmpegProcess;
  /** Every segmenter has flushed its last segment to the output. */
  private readonly outputsDone: Promise<void>;
  private stopping = false;
  private lastInputAt = Date.now();
  private lastOutputAt = Date.now();
  private stalled = false;
  private readonly stallWatch: NodeJS.Timeout;

  constructor(options: EncoderRunOptions) {
    this.options = options;
    options.output.beginSession(this.session, options.mediaZeroAt);
    this.ffmpeg = new FfmpegProcess({
      binary: options.ffmpegPath,
      args: buildFfmpegArgs({ renditions: options.renditions, chunkDuration: options.chunkDuration, keyframeInterval: options.targetSegmentDuration }),
      outputCount: options.renditions.length,
      onStderrLine: (line) => options.log.debug({ ffmpeg: line }, 'ffmpeg'),
    });
    this.outputsDone = Promise.all(options.renditions.map((rendition, index) => this.segment(rendition, index))).then(() => {});
    void this.ffmpeg.exited.then((exit) => {
      clearInterval(this.stallWatch);
      if (!this.stopping) options.onUnexpectedExit(this.stalled ? `stalled: no output for ${options.stallTimeoutMs / 1000} s` : describeExit(exit));
    });
    this.stallWatch = setInterval(() => this.checkStall(), 1000);
    this.stallWatch.unref();
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

  get pid(): number | undefined {
    return this.ffmpeg.pid;
  }

  private segment(rendition: Rendition, index: number): Promise<void> {
    const segmenter = new CmafSegmenter(
      {
        targetSegmentDuration: this.options.targetSegmentDuration,
        // A passed-through source decides where keyframes are; encoded renditions have them where forced.
        maxSegmentDuration: rendition.kind === 'video' && rendition.encoding === 'copy' ? this.options.maxPassthroughSegmentDuration : undefined,
      },
      renditionEvents({ session: this.session, tracks: this.tracks, stopping: () => this.stopping }, rendition, this.options),
    );
    const output = this.ffmpeg.outputs[index]!;
    return new Promise((resolve) => {
      output.on('data', (bytes: Buffer) => {
        this.lastOutputAt = Date.now();
        try {
          segmenter.push(bytes);
        } catch (error) {
          this.options.log.error({ err: error, rendition: rendition.name }, 'ffmpeg output is not CMAF the packager can read');
          output.removeAllListeners('data');
          output.resume();
          this.ffmpeg.kill();
        }
      });
      output.once('close', () => {
        segmenter.end();
        resolve();
      });
    });
  }

  write(flv: Buffer): void {
    if (this.stopping) return;
    this.lastInputAt = Date.now();
    this.ffmpeg.input.write(flv);
  }

  /** Ends ffmpeg's input and waits until every segment it made is handed to the output. */
  async drain(): Promise<void> {
    this.stopping = true;
    clearInterval(this.stallWatch);
    this.ffmpeg.endInput();
    const timer = setTimeout(() => {
      this.options.log.warn(`ffmpeg did not finish within ${this.options.drainTimeoutMs} ms; stopping it`);
      this.ffmpeg.kill();
    }, this.options.drainTimeoutMs);
    await this.ffmpeg.exited;
    await this.outputsDone;
    clearTimeout(timer);
  }

  /** After an unexpected exit: waits for the segments made before it. */
  async settle(): Promise<void> {
    this.stopping = true;
    await this.ffmpeg.exited;
    await this.outputsDone;
  }
}

function describeExit(exit: FfmpegExit): string {
  const last = exit.stderrTail.at(-1);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return last ? `${how}: ${last}` : how;
}
