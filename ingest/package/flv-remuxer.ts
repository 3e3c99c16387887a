/**
 * A publisher's FLV -> CMAF tracks, in-process: the source's H.264 and its AAC-LC, repackaged
 * without decoding, one CmafTrackPackager per rendition. What it cannot take throws (an
 * UnsupportedSourceError, or a SourceChangedError when a codec configuration changes after its
 * track began: a track has one init segment), so the caller can start over (a new session, or
 * ffmpeg).
 */
import { UnsupportedSourceError, type AacConfig } from '../media/aac-config.ts';
import { AS_STAMPED, FlvFrameReader, type AvcConfig } from '../media/flv-frames.ts';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, FlvTagReader, type FlvTag } from '../media/flv-tag-reader.ts';
import type { CmafSegmenterEvents } from './cmaf-segmenter.ts';
import { CmafTrackPackager, type SegmentCuts } from './cmaf-packager.ts';
import { AacClock, VIDEO_TIMESCALE, videoSample } from './frame-timing.ts';

export class SourceChangedError extends UnsupportedSourceError {
  override name = 'SourceChangedError';
}

export interface FlvRemuxerOptions {
  /** The rendition the source's video becomes; unset: video is ignored. */
  videoRendition?: string;
  /** The rendition the source's audio becomes; unset: audio is ignored. */
  audioRendition?: string;
  /** Seconds. */
  targetSegmentDuration: number;
  /** Seconds: the longest part. */
  partTarget: number;
  /** Seconds a video segment may run without a keyframe before it is cut (see CmafTrackPackager). */
  maxVideoSegmentDuration?: number;
  /**
   * `continuous` (default): the publisher's timestamps, made continuous from zero at the first
   * frame (FlvTimeline). `as-stamped`: the FLV is already on the run's timeline (restamped by the
   * sidecar, or written back by ffmpeg from it): taken as it is, so renditions line up.
   */
  timestamps?: 'continuous' | 'as-stamped';
  /** Media time (seconds) the segment grid counts from; unset: each track's first keyframe (see CmafTrackPackager). */
  gridOrigin?: number;
  /**
   * Where a run's video cuts its segments and its audio follows (CmafPackagerOptions.followCuts),
   * shared with the run's other packagers; unset: shared by this remuxer's own two tracks.
   */
  segmentCuts?: SegmentCuts;
  /** Each track can end earlier than its last frame (CmafPackagerOptions.trimmable): `end(cutAt)`. */
  trimmable?: boolean;
  /** Events of each rendition's packager. */
  events(rendition: string): CmafSegmenterEvents;
  /** A timestamp correction, in words, for the log. */
  onNotice(message: string): void;
}

export class FlvRemuxer {
  private readonly options: FlvRemuxerOptions;
  private readonly tags = new FlvTagReader();
  private readonly frames: FlvFrameReader;
  private video: { config: AvcConfig; packager: CmafTrackPackager } | undefined;
  private audio: { config: AacConfig; packager: CmafTrackPackager; clock: AacClock } | undefined;
  private videoStarted = false;
  /** With both tracks, the audio is cut where the video is (see CmafPackagerOptions.followCuts). */
  private readonly cuts: SegmentCuts | undefined;
  private audioStarted = false;

  constructor(options: FlvRemuxerOptions) {
    this.options = options;
    this.cuts = options.segmentCuts ?? (options.videoRendition !== undefined && options.audioRendition !== undefined ? {} : undefined);
    this.frames = new FlvFrameReader(options.onNotice, ...(options.timestamps === 'as-stamped' ? [AS_STAMPED] : []));
  }

  /** FLV bytes, in any pieces. */
  push(flv: Uint8Array): void {
    for (const tag of this.tags.push(flv)) this.take(tag);
  }

  /** One tag already read (by whoever reads the FLV for several consumers). */
  take(tag: FlvTag): void {
    // A track with no rendition is not read at all (not even to refuse its codec).
    if (tag.type === FLV_TAG_VIDEO && this.options.videoRendition === undefined) return;
    if (tag.type === FLV_TAG_AUDIO && this.options.audioRendition === undefined) return;
    const event = this.frames.take(tag);
    if (!event) return;
    switch (event.type) {
      case 'video-config':
        this.configureVideo(event.config);
        break;
      case 'audio-config':
        this.configureAudio(event.config);
        break;
      case 'video':
        if (this.video) {
          this.videoStarted = true;
          this.video.packager.push(videoSample(event.frame));
        }
        break;
      case 'audio':
        if (this.audio) {
          this.audioStarted = true;
          this.audio.packager.push(this.audio.clock.sample(event.frame));
        }
        break;
    }
  }

  /** Seconds: where each track that has frames ends (CmafTrackPackager.mediaEnd). */
  mediaEnds(): number[] {
    return [this.video?.packager.mediaEnd, this.audio?.packager.mediaEnd].filter((end) => end !== undefined);
  }

  /** The input ended: every track's last segment is complete (with `trimmable`, none past `cutAt` seconds). */
  end(cutAt?: number): void {
    this.video?.packager.end(cutAt);
    this.audio?.packager.end(cutAt);
  }

  private configureVideo(config: AvcConfig): void {
    if (this.videoStarted) {
      const before = this.video!.config.parameters;
      throw new SourceChangedError(`the source's H.264 configuration changed (${before.width}x${before.height} to ${config.parameters.width}x${config.parameters.height})`);
    }
    const packager = new CmafTrackPackager(
      { kind: 'video', avcC: config.record, width: config.parameters.width, height: config.parameters.height, timescale: VIDEO_TIMESCALE },
      { targetSegmentDuration: this.options.targetSegmentDuration, partTarget: this.options.partTarget, maxSegmentDuration: this.options.maxVideoSegmentDuration, gridOrigin: this.options.gridOrigin, recordCuts: this.cuts, trimmable: this.options.trimmable },
      this.options.events(this.options.videoRendition!),
    );
    this.video = { config, packager };
  }

  private configureAudio(config: AacConfig): void {
    if (this.audioStarted) {
      const before = this.audio!.config;
      throw new SourceChangedError(`the source's AAC configuration changed (${before.sampleRate} Hz x${before.channels} to ${config.sampleRate} Hz x${config.channels})`);
    }
    const packager = new CmafTrackPackager(
      { kind: 'audio', audioSpecificConfig: config.bytes, sampleRate: config.sampleRate, channels: config.channels, timescale: config.sampleRate },
      { targetSegmentDuration: this.options.targetSegmentDuration, partTarget: this.options.partTarget, gridOrigin: this.options.gridOrigin, followCuts: this.cuts, trimmable: this.options.trimmable },
      this.options.events(this.options.audioRendition!),
    );
    this.audio = { config, packager, clock: new AacClock(config.sampleRate) };
  }
}
