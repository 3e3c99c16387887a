/**
 * Publishes one live stream's CMAF output to storage, in the order the contract demands: every
 * object a playlist lists is stored before that playlist is written, and the multivariant
 * playlist only once every media playlist it lists exists.
 */
import { renderMediaPlaylist, targetDurationFor, type MediaSegment } from '../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist, type MultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { contentTypeFor, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import { initSegmentFile, mediaSegmentFile, streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import type { Rendition } from '../transcode/ladder.ts';
import { SerialTasks } from '../upload/serial-tasks.ts';
import type { CmafSegment } from './cmaf-segmenter.ts';
import type { CmafTrack } from './cmaf-track.ts';
import { RenditionStats } from './rendition-stats.ts';

export interface StreamPublisherOptions {
  streamId: string;
  /** Unique per publish: part of every segment name. */
  session: string;
  renditions: readonly Rendition[];
  store: ObjectStore;
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  /** Segments listed in a live media playlist. */
  windowSegments: number;
  /** Epoch milliseconds. */
  now: () => number;
  onError: (error: unknown) => void;
  metrics?: IngestMetrics;
}

interface ListedSegment extends MediaSegment {
  sequence: number;
}

interface RenditionState {
  rendition: Rendition;
  track?: CmafTrack;
  initUri?: string;
  segments: ListedSegment[];
  nextSequence: number;
  targetDuration: number;
  stats: RenditionStats;
  playlistWritten: boolean;
}

// Rewrite the multivariant playlist when the measured peak outgrows what it advertises by this much.
const BANDWIDTH_REWRITE_RATIO = 1.1;

export class StreamPublisher {
  private readonly options: StreamPublisherOptions;
  private readonly tasks: SerialTasks;
  private readonly states = new Map<string, RenditionState>();
  private readonly startedAt: number;
  /** Wall clock at media time zero, fixed by the first chunk to arrive. */
  private wallClockAtMediaZero: number | undefined;
  private advertisedBandwidth = 0;
  /** Milliseconds from a segment being cut to its playlist listing it in storage, for the latest segment. */
  lastUploadLagMs: number | undefined;

  constructor(options: StreamPublisherOptions) {
    this.options = options;
    this.tasks = new SerialTasks(options.onError);
    this.startedAt = options.now();
    for (const rendition of options.renditions) {
      this.states.set(rendition.name, {
        rendition,
        segments: [],
        nextSequence: 0,
        targetDuration: Math.ceil(options.targetSegmentDuration),
        stats: new RenditionStats(),
        playlistWritten: false,
      });
    }
  }

  /** A chunk's media has just been received: anchors the ingest wall clock to media time. */
  noteChunkReceived(mediaEndSeconds: number): void {
    this.wallClockAtMediaZero ??= this.options.now() - mediaEndSeconds * 1000;
  }

  publishInit(renditionName: string, init: Uint8Array, track: CmafTrack): Promise<void> {
    const state = this.state(renditionName);
    return this.tasks.run(async () => {
      const ref: StreamObjectRef = { kind: 'init', rendition: renditionName, session: this.options.session };
      await this.put(ref, init, contentTypeFor(ref, track.kind === 'audio'));
      state.track = track;
      state.initUri = initSegmentFile(this.options.session);
    });
  }

  publishSegment(renditionName: string, segment: CmafSegment): Promise<void> {
    const state = this.state(renditionName);
    const cutAt = this.options.now();
    return this.tasks.run(async () => {
      if (!state.initUri) throw new Error(`${renditionName}: segment before its init segment was stored`);
      const sequence = state.nextSequence++;
      const ref: StreamObjectRef = { kind: 'segment', rendition: renditionName, session: this.options.session, sequence };
      await this.put(ref, segment.bytes, contentTypeFor(ref, segment.track.kind === 'audio'));

      const timescale = segment.track.timescale;
      const duration = segment.duration / timescale;
      state.stats.add(segment.bytes.length, duration, segment.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0));
      state.segments.push({
        sequence,
        uri: mediaSegmentFile(this.options.session, sequence),
        duration,
        initUri: state.initUri,
        programDateTime: this.programDateTime(segment.startTime / timescale),
      });
      if (state.segments.length > this.options.windowSegments) state.segments.shift();
      state.targetDuration = Math.max(state.targetDuration, targetDurationFor(this.options.targetSegmentDuration, state.segments));
      await this.writeMediaPlaylist(state, false);
      this.options.metrics?.segmentsStored.inc({ kind: state.rendition.kind });
      this.lastUploadLagMs = this.options.now() - cutAt;
      await this.writeMultivariantWhenDue();
    });
  }

  /** The stream ended: close every media playlist with ENDLIST. Resolves when all is stored. */
  end(): Promise<void> {
    return this.tasks.run(async () => {
      for (const state of this.states.values()) {
        if (state.playlistWritten) await this.writeMediaPlaylist(state, true);
      }
      if (this.advertisedBandwidth > 0) await this.writeStatus('ended');
    });
  }

  idle(): Promise<void> {
    return this.tasks.idle();
  }

  private state(renditionName: string): RenditionState {
    const state = this.states.get(renditionName);
    if (!state) throw new Error(`unknown rendition ${renditionName}`);
    return state;
  }

  private programDateTime(mediaSeconds: number): number {
    return (this.wallClockAtMediaZero ?? this.startedAt) + mediaSeconds * 1000;
  }

  private async put(ref: StreamObjectRef, body: Uint8Array | string, contentType: string): Promise<void> {
    const timer = this.options.metrics?.uploadSeconds.startTimer({ object: ref.kind });
    await this.options.store.put(streamObjectKey(this.options.streamId, ref), body, { contentType });
    timer?.();
  }

  private async writeMediaPlaylist(state: RenditionState, ended: boolean): Promise<void> {
    const text = renderMediaPlaylist({
      targetDuration: state.targetDuration,
      mediaSequence: state.segments[0]?.sequence ?? 0,
      discontinuitySequence: 0,
      segments: state.segments,
      ended,
    });
    await this.put({ kind: 'media-playlist', rendition: state.rendition.name }, text, HLS_PLAYLIST_TYPE);
    state.playlistWritten = true;
  }

  private async writeMultivariantWhenDue(): Promise<void> {
    const states = [...this.states.values()];
    if (!states.every((state) => state.playlistWritten)) return;
    const playlist = this.multivariantPlaylist(states);
    const peak = Math.max(...playlist.variants.map((variant) => variant.bandwidth));
    const firstTime = this.advertisedBandwidth === 0;
    if (!firstTime && peak <= this.advertisedBandwidth * BANDWIDTH_REWRITE_RATIO) return;
    await this.put({ kind: 'multivariant' }, renderMultivariantPlaylist(playlist), HLS_PLAYLIST_TYPE);
    this.advertisedBandwidth = peak;
    if (firstTime) await this.writeStatus('live');
  }

  private multivariantPlaylist(states: RenditionState[]): MultivariantPlaylist {
    const audio = states.filter((state) => state.rendition.kind === 'audio');
    const video = states.filter((state) => state.rendition.kind === 'video');
    const audioGroupId = 'audio';
    const audioPeak = Math.max(0, ...audio.map((state) => state.stats.peakBitsPerSecond));
    const audioAverage = Math.max(0, ...audio.map((state) => state.stats.averageBitsPerSecond));
    return {
      audio: audio.map((state, index) => ({
        groupId: audioGroupId,
        name: state.rendition.name,
        uri: `${state.rendition.name}/index.m3u8`,
        channels: state.track?.channels,
        isDefault: index === 0,
      })),
      variants: video.map((state) => ({
        uri: `${state.rendition.name}/index.m3u8`,
        bandwidth: state.stats.peakBitsPerSecond + audioPeak,
        averageBandwidth: state.stats.averageBitsPerSecond + audioAverage,
        codecs: [state.track!.codec, ...audio.slice(0, 1).map((a) => a.track!.codec)],
        resolution: state.track?.width && state.track.height ? { width: state.track.width, height: state.track.height } : undefined,
        frameRate: state.stats.framesPerSecond,
        audioGroupId: audio.length > 0 ? audioGroupId : undefined,
      })),
    };
  }

  private async writeStatus(state: StreamStatus['state']): Promise<void> {
    const now = this.options.now();
    const status: StreamStatus = {
      streamId: this.options.streamId,
      state,
      startedAt: this.startedAt,
      updatedAt: now,
      ...(state === 'ended' ? { endedAt: now } : {}),
      targetDuration: this.options.targetSegmentDuration,
      renditions: [...this.states.values()]
        .filter((rendition) => rendition.track)
        .map(({ rendition, track, stats }) => ({
          name: rendition.name,
          kind: rendition.kind,
          codec: track!.codec,
          width: track!.width,
          height: track!.height,
          bandwidth: Math.round(stats.peakBitsPerSecond),
        })),
    };
    await this.put({ kind: 'status' }, JSON.stringify(status), JSON_TYPE);
  }
}
