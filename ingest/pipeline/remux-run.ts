/**
 * A run with nothing to encode: the source's H.264 and AAC are repackaged in-process, and no
 * ffmpeg runs for the stream. Same contract as LadderRun: one session per publisher connection
 * (a new session id and new init segments each time), segments handed to the stream's output
 * as they are cut, drain() flushes the last one. Where a LadderRun's ffmpeg would exit
 * unexpectedly, this run stops at what it cannot take (a codec configuration that changes
 * mid-run, a codec it does not remux) and says why through onUnexpectedExit: the pipeline then
 * starts a new run from a fresh probe, which picks ffmpeg if the source no longer fits.
 */
import type { CmafSegmenterEvents } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { FlvRemuxer } from '../package/flv-remuxer.ts';
import type { Rendition } from '../transcode/ladder.ts';
import type { LadderRunOptions } from './ladder-run.ts';
import { renditionEvents } from './rendition-events.ts';
import type { MediaRun } from './media-run.ts';
import { newSessionId } from './session-id.ts';

/** What the pipeline needs of a run, whoever makes its CMAF (ffmpeg, or the sidecar itself). */
export type { MediaRun };

export type RemuxRunOptions = Pick<
  LadderRunOptions,
  'renditions' | 'targetSegmentDuration' | 'mediaZeroAt' | 'chunkDuration' | 'maxPassthroughSegmentDuration' | 'output' | 'log' | 'onChunk' | 'onSegment' | 'onKeyframeOverdue' | 'onUnexpectedExit'
>;

export class RemuxRun implements MediaRun {
  readonly session = newSessionId();
  readonly tracks = new Map<string, CmafTrack>();
  readonly pid = undefined;
  private readonly options: RemuxRunOptions;
  private readonly remuxer: FlvRemuxer;
  private stopped = false;

  constructor(options: RemuxRunOptions) {
    this.options = options;
    options.output.beginSession(this.session, options.mediaZeroAt);
    const video = options.renditions.find((rendition) => rendition.kind === 'video');
    if (video && video.encoding !== 'copy') throw new Error(`rendition ${video.name} must be encoded: not a run without ffmpeg`);
    const audio = options.renditions.find((rendition) => rendition.kind === 'audio');
    this.remuxer = new FlvRemuxer({
      videoRendition: video?.name,
      audioRendition: audio?.name,
      targetSegmentDuration: options.targetSegmentDuration,
      partTarget: options.chunkDuration,
      maxVideoSegmentDuration: options.maxPassthroughSegmentDuration,
      events: (name) => this.events(options.renditions.find((rendition) => rendition.name === name)!),
      onNotice: (message) => options.log.warn({ session: this.session }, message),
    });
  }

  private events(rendition: Rendition): CmafSegmenterEvents {
    return renditionEvents({ session: this.session, tracks: this.tracks, stopping: () => this.stopped }, rendition, this.options, (track) =>
      this.options.log.info({ session: this.session, rendition: rendition.name, codec: track.codec, width: track.width, height: track.height, sampleRate: track.sampleRate }, 'remuxing the source in-process'),
    );
  }

  write(flv: Buffer): void {
    if (this.stopped) return;
    try {
      this.remuxer.push(flv);
    } catch (error) {
      this.stop();
      const reason = `in-process remux stopped: ${(error as Error).message}`;
      // Not from inside the pipeline's own write: it restarts the run in response.
      queueMicrotask(() => this.options.onUnexpectedExit(reason));
    }
  }

  /** Everything up to the last frame becomes segments (nothing waits on a process to flush). */
  drain(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  settle(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.remuxer.end();
  }
}
