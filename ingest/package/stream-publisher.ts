/**
 * Publishes one live stream's CMAF output to storage, in the order the contract demands: every
 * object a playlist lists is stored before that playlist is written, and the multivariant
 * playlist only once every media playlist it lists exists.
 *
 * A stream is made of sessions: one per publisher connection or encoder run. Each session has
 * its own init segments and segment names; media sequence numbers continue across sessions,
 * and the first segment of a later session carries EXT-X-DISCONTINUITY.
 */
import { parseMediaPlaylist, renderMediaPlaylist, targetDurationFor, type MediaSegment } from '../../shared/hls/media-playlist.ts';
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
  /** The session whose init segment is stored and current. */
  initSession?: string;
  /** The session of the newest listed segment. */
  listedSession?: string;
  segments: ListedSegment[];
  nextSequence: number;
  discontinuitySequence: number;
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
  private sessionCount = 0;
  /** Per session: the wall clock at its media time zero, fixed by its first chunk. */
  private readonly wallClockAtMediaZero = new Map<string, number>();
  private advertised: { bandwidth: number; signature: string } | undefined;
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
        discontinuitySequence: 0,
        targetDuration: Math.ceil(options.targetSegmentDuration),
        stats: new RenditionStats(),
        playlistWritten: false,
      });
    }
  }

  /**
   * Continues from what storage holds for this stream, so numbering never goes back: a live
   * playlist left by a crashed sidecar is taken up where it stopped (its next segment after a
   * discontinuity); after an ended one, a new broadcast starts a fresh window whose sequence
   * numbers continue. Queued before anything else this publisher stores.
   */
  restoreFromStorage(): Promise<void> {
    return this.tasks.run(async () => {
      for (const state of this.states.values()) {
        const key = streamObjectKey(this.options.streamId, { kind: 'media-playlist', rendition: state.rendition.name });
        const stored = await this.options.store.get(key);
        if (!stored) continue;
        const playlist = parseMediaPlaylist(await new Response(stored.body).text());
        state.nextSequence = Math.max(state.nextSequence, playlist.mediaSequence + playlist.segments.length);
        if (playlist.ended) continue;
        state.segments = playlist.segments.map((segment, index) => ({ ...segment, sequence: playlist.mediaSequence + index }));
        state.discontinuitySequence = playlist.discontinuitySequence;
        state.listedSession = playlist.segments.at(-1)?.uri.split('-')[0];
        state.targetDuration = Math.max(state.targetDuration, playlist.targetDuration);
        state.playlistWritten = true;
      }
    });
  }

  /** Sessions started so far: 1 for a stream that never reconnected. */
  get sessions(): number {
    return this.sessionCount;
  }

  /** Starts a session (a publisher connection or an encoder run): its media time starts again. */
  beginSession(session: string): void {
    if (this.wallClockAtMediaZero.has(session)) throw new Error(`session ${session} already begun`);
    this.sessionCount += 1;
    this.wallClockAtMediaZero.set(session, Number.NaN);
  }

  /** A chunk's media has just been received: anchors the ingest wall clock to the session's media time. */
  noteChunkReceived(session: string, mediaEndSeconds: number): void {
    if (Number.isNaN(this.wallClockAtMediaZero.get(session))) {
      this.wallClockAtMediaZero.set(session, this.options.now() - mediaEndSeconds * 1000);
    }
  }

  publishInit(session: string, renditionName: string, init: Uint8Array, track: CmafTrack): Promise<void> {
    const state = this.state(renditionName);
    return this.tasks.run(async () => {
      const ref: StreamObjectRef = { kind: 'init', rendition: renditionName, session };
      await this.put(ref, init, contentTypeFor(ref, track.kind === 'audio'));
      state.track = track;
      state.initSession = session;
    });
  }

  publishSegment(session: string, renditionName: string, segment: CmafSegment): Promise<void> {
    const state = this.state(renditionName);
    const cutAt = this.options.now();
    const timescale = segment.track.timescale;
    const anchor = this.wallClockAtMediaZero.get(session);
    if (anchor === undefined) throw new Error(`session ${session} was never begun`);
    const programDateTime = (Number.isNaN(anchor) ? cutAt : anchor) + (segment.startTime / timescale) * 1000;
    return this.tasks.run(async () => {
      if (state.initSession !== session) throw new Error(`${renditionName}: segment before its init segment was stored`);
      const sequence = state.nextSequence++;
      const ref: StreamObjectRef = { kind: 'segment', rendition: renditionName, session, sequence };
      await this.put(ref, segment.bytes, contentTypeFor(ref, segment.track.kind === 'audio'));

      const duration = segment.duration / timescale;
      state.stats.add(segment.bytes.length, duration, segment.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0));
      state.segments.push({
        sequence,
        uri: mediaSegmentFile(session, sequence),
        duration,
        initUri: initSegmentFile(session),
        programDateTime,
        discontinuity: state.listedSession !== undefined && state.listedSession !== session,
      });
      state.listedSession = session;
      if (state.segments.length > this.options.windowSegments) {
        // A discontinuity leaving the window is counted by EXT-X-DISCONTINUITY-SEQUENCE.
        if (state.segments.shift()!.discontinuity) state.discontinuitySequence += 1;
      }
      state.targetDuration = Math.max(state.targetDuration, targetDurationFor(this.options.targetSegmentDuration, state.segments));
      await this.writeMediaPlaylist(state, false);
      this.options.metrics?.segmentsStored.inc({ kind: state.rendition.kind });
      this.lastUploadLagMs = this.options.now() - cutAt;
      await this.writeMultivariantWhenDue();
    });
  }

  /** The publisher is gone but may come back: the playlists stay live, the status says so. */
  pause(): Promise<void> {
    return this.tasks.run(async () => {
      if (this.advertised) await this.writeStatus('reconnecting');
    });
  }

  /** The stream ended: close every media playlist with ENDLIST. Resolves when all is stored. */
  end(): Promise<void> {
    return this.tasks.run(async () => {
      for (const state of this.states.values()) {
        if (state.playlistWritten) await this.writeMediaPlaylist(state, true);
      }
      if (this.advertised) await this.writeStatus('ended');
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

  private async put(ref: StreamObjectRef, body: Uint8Array | string, contentType: string): Promise<void> {
    const timer = this.options.metrics?.uploadSeconds.startTimer({ object: ref.kind });
    await this.options.store.put(streamObjectKey(this.options.streamId, ref), body, { contentType });
    timer?.();
  }

  private async writeMediaPlaylist(state: RenditionState, ended: boolean): Promise<void> {
    const text = renderMediaPlaylist({
      targetDuration: state.targetDuration,
      mediaSequence: state.segments[0]?.sequence ?? 0,
      discontinuitySequence: state.discontinuitySequence,
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
    const bandwidth = Math.max(...playlist.variants.map((variant) => variant.bandwidth));
    // What a reconnect may change (codecs, picture size): any change is advertised at once.
    const signature = JSON.stringify(playlist.variants.map((variant) => [variant.codecs, variant.resolution]));
    const previous = this.advertised;
    if (previous && previous.signature === signature && bandwidth <= previous.bandwidth * BANDWIDTH_REWRITE_RATIO) return;
    await this.put({ kind: 'multivariant' }, renderMultivariantPlaylist(playlist), HLS_PLAYLIST_TYPE);
    this.advertised = { bandwidth, signature };
    if (!previous) await this.writeStatus('live');
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
      reconnects: Math.max(0, this.sessionCount - 1),
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
