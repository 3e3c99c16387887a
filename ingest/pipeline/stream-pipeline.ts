/**
 * One live stream from publish to end: FLV in, one ffmpeg, one CMAF segmenter per rendition,
 * and the publisher that stores segments and playlists in order.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { CmafSegmenter } from '../package/cmaf-segmenter.ts';
import { StreamPublisher } from '../package/stream-publisher.ts';
import { buildFfmpegArgs } from '../transcode/ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from '../transcode/ffmpeg-process.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { newSessionId } from './session-id.ts';

export interface PipelineSettings {
  ffmpegPath: string;
  renditions: readonly Rendition[];
  /** Seconds. */
  targetSegmentDuration: number;
  /** Seconds. */
  chunkDuration: number;
  windowSegments: number;
  /** How long ffmpeg may take to flush after the publisher leaves, milliseconds. */
  drainTimeoutMs: number;
}

export interface StreamPipelineOptions extends PipelineSettings {
  streamId: string;
  store: ObjectStore;
  log: Logger;
  now?: () => number;
  /** ffmpeg stopped on its own while the publisher was still there. */
  onFailure(reason: string): void;
}

export class StreamPipeline {
  readonly session: string;
  private readonly options: StreamPipelineOptions;
  private readonly ffmpeg: FfmpegProcess;
  private readonly publisher: StreamPublisher;
  private readonly outputsDone: Promise<void>;
  private finishing: Promise<void> | undefined;

  constructor(options: StreamPipelineOptions) {
    this.options = options;
    this.session = newSessionId();
    const log = options.log;
    this.publisher = new StreamPublisher({
      streamId: options.streamId,
      session: this.session,
      renditions: options.renditions,
      store: options.store,
      targetSegmentDuration: options.targetSegmentDuration,
      windowSegments: options.windowSegments,
      now: options.now ?? Date.now,
      onError: (error) => log.error({ err: error }, 'storing stream output failed'),
    });
    this.ffmpeg = new FfmpegProcess({
      binary: options.ffmpegPath,
      args: buildFfmpegArgs({ renditions: options.renditions, chunkDuration: options.chunkDuration }),
      outputCount: options.renditions.length,
      onStderrLine: (line) => log.debug({ ffmpeg: line }, 'ffmpeg'),
    });
    this.outputsDone = Promise.all(options.renditions.map((rendition, index) => this.segment(rendition, index))).then(() => {});
    void this.ffmpeg.exited.then((exit) => {
      if (!this.finishing) {
        const reason = describeExit(exit);
        log.error({ stderr: exit.stderrTail }, `ffmpeg stopped while the stream was live: ${reason}`);
        options.onFailure(reason);
      }
    });
  }

  private segment(rendition: Rendition, index: number): Promise<void> {
    const segmenter = new CmafSegmenter(
      { targetSegmentDuration: this.options.targetSegmentDuration },
      {
        onInit: (init, track) => void this.publisher.publishInit(rendition.name, init, track),
        onChunk: (chunk, track) => this.publisher.noteChunkReceived((chunk.startTime + chunk.duration) / track.timescale),
        onSegment: (segment) => void this.publisher.publishSegment(rendition.name, segment),
      },
    );
    const output = this.ffmpeg.outputs[index]!;
    return new Promise((resolve) => {
      output.on('data', (bytes: Buffer) => {
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

  /** FLV bytes from the publisher. */
  write(flv: Buffer): void {
    if (!this.finishing) this.ffmpeg.input.write(flv);
  }

  /** The publisher left: flush ffmpeg, store the last segments, end the playlists. */
  finish(): Promise<void> {
    this.finishing ??= this.drainAndEnd();
    return this.finishing;
  }

  private async drainAndEnd(): Promise<void> {
    this.ffmpeg.endInput();
    const timer = setTimeout(() => {
      this.options.log.warn(`ffmpeg did not finish within ${this.options.drainTimeoutMs} ms; stopping it`);
      this.ffmpeg.kill();
    }, this.options.drainTimeoutMs);
    await this.ffmpeg.exited;
    await this.outputsDone;
    clearTimeout(timer);
    await this.publisher.end();
  }
}

function describeExit(exit: FfmpegExit): string {
  const last = exit.stderrTail.at(-1);
  const how = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
  return last ? `${how}: ${last}` : how;
}
