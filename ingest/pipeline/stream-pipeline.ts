/**
 * One live stream from publish to end: FLV in, one ffmpeg, one CMAF segmenter per rendition,
 * and the publisher that stores segments and playlists in order.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import { CmafSegmenter } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { StreamPublisher } from '../package/stream-publisher.ts';
import { buildFfmpegArgs } from '../transcode/ffmpeg-args.ts';
import { FfmpegProcess, type FfmpegExit } from '../transcode/ffmpeg-process.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { RateWindow } from './rate-window.ts';
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
  /** A publisher that sends nothing for this long is disconnected, milliseconds. */
  idleTimeoutMs: number;
}

export interface StreamPipelineOptions extends PipelineSettings {
  streamId: string;
  store: ObjectStore;
  log: Logger;
  metrics: IngestMetrics;
  now?: () => number;
  /** The stream cannot go on (ffmpeg stopped, the publisher went silent): disconnect the publisher. */
  onFailure(reason: string): void;
}

export interface RenditionInfo {
  name: string;
  kind: 'video' | 'audio';
  codec: string;
  width?: number;
  height?: number;
}

export interface PipelineStats {
  session: string;
  since: number;
  state: 'live' | 'ending';
  renditions: RenditionInfo[];
  inputBitsPerSecond: number;
  inputFramesPerSecond: number;
  /** Media seconds packaged per wall-clock second (1 = keeping up with real time). */
  encodeSpeed: number;
  uploadLagMs: number | undefined;
}

const STATS_WINDOW_MS = 10_000;

export class StreamPipeline {
  readonly session: string;
  private readonly options: StreamPipelineOptions;
  private readonly now: () => number;
  private readonly ffmpeg: FfmpegProcess;
  private readonly publisher: StreamPublisher;
  private readonly outputsDone: Promise<void>;
  private finishing: Promise<void> | undefined;
  private readonly startedAt: number;
  private lastInputAt: number;
  private readonly inputBytes = new RateWindow(STATS_WINDOW_MS);
  private readonly videoFrames = new RateWindow(STATS_WINDOW_MS);
  private readonly videoSeconds = new RateWindow(STATS_WINDOW_MS);
  private readonly tracks = new Map<string, CmafTrack>();
  private readonly idleWatch: NodeJS.Timeout;
  private failed = false;

  constructor(options: StreamPipelineOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.session = newSessionId();
    this.startedAt = this.lastInputAt = this.now();
    const log = options.log;
    this.publisher = new StreamPublisher({
      streamId: options.streamId,
      session: this.session,
      renditions: options.renditions,
      store: options.store,
      targetSegmentDuration: options.targetSegmentDuration,
      windowSegments: options.windowSegments,
      now: this.now,
      metrics: options.metrics,
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
      if (this.finishing) return;
      const reason = `ffmpeg stopped while the stream was live: ${describeExit(exit)}`;
      log.error({ stderr: exit.stderrTail }, reason);
      options.metrics.ffmpegFailures.inc();
      this.fail(reason);
    });
    this.idleWatch = setInterval(() => {
      const silentFor = this.now() - this.lastInputAt;
      if (!this.finishing && silentFor > options.idleTimeoutMs) {
        log.warn(`no media from the publisher for ${Math.round(silentFor / 1000)} s; disconnecting it`);
        this.fail('publisher idle');
      }
    }, Math.min(1000, options.idleTimeoutMs));
    this.idleWatch.unref();
  }

  private segment(rendition: Rendition, index: number): Promise<void> {
    const segmenter = new CmafSegmenter(
      { targetSegmentDuration: this.options.targetSegmentDuration },
      {
        onInit: (init, track) => {
          this.tracks.set(rendition.name, track);
          void this.publisher.publishInit(rendition.name, init, track);
        },
        onChunk: (chunk, track) => {
          this.publisher.noteChunkReceived((chunk.startTime + chunk.duration) / track.timescale);
          if (track.kind === 'video') this.videoFrames.add(chunk.sampleCount, this.now());
        },
        onSegment: (segment) => {
          if (segment.track.kind === 'video') this.videoSeconds.add(segment.duration / segment.track.timescale, this.now());
          void this.publisher.publishSegment(rendition.name, segment);
        },
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

  private fail(reason: string): void {
    if (this.failed) return;
    this.failed = true;
    this.options.onFailure(reason);
  }

  /** FLV bytes from the publisher. */
  write(flv: Buffer): void {
    if (this.finishing) return;
    const now = this.now();
    this.lastInputAt = now;
    this.inputBytes.add(flv.length, now);
    this.options.metrics.bytesIn.inc(flv.length);
    this.ffmpeg.input.write(flv);
  }

  stats(): PipelineStats {
    const now = this.now();
    return {
      session: this.session,
      since: this.startedAt,
      state: this.finishing ? 'ending' : 'live',
      renditions: this.options.renditions.flatMap((rendition) => {
        const track = this.tracks.get(rendition.name);
        return track ? [{ name: rendition.name, kind: track.kind, codec: track.codec, width: track.width, height: track.height }] : [];
      }),
      inputBitsPerSecond: Math.round(this.inputBytes.perSecond(now, this.startedAt) * 8),
      inputFramesPerSecond: Math.round(this.videoFrames.perSecond(now, this.startedAt) * 100) / 100,
      encodeSpeed: Math.round(this.videoSeconds.perSecond(now, this.startedAt) * 100) / 100,
      uploadLagMs: this.publisher.lastUploadLagMs,
    };
  }

  /** The publisher left: flush ffmpeg, store the last segments, end the playlists. */
  finish(): Promise<void> {
    this.finishing ??= this.drainAndEnd();
    return this.finishing;
  }

  private async drainAndEnd(): Promise<void> {
    clearInterval(this.idleWatch);
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
