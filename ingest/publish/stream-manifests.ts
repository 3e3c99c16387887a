/** The stream-level documents (multivariant playlist, status) from the renditions' state. Pure. */
import type { MultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import type { StreamStatus, StreamStatusRecording } from '../../shared/stream-status.ts';
import type { Rendition } from '../transcode/ladder.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { RenditionStats } from './rendition-stats.ts';

export interface RenditionSummary {
  rendition: Rendition;
  /** Known once its first init segment arrived. */
  track?: CmafTrack;
  stats: RenditionStats;
}

const AUDIO_GROUP_ID = 'audio';

/**
 * Every video rendition as a variant, with the (first) audio rendition's codec and bandwidth
 * added. A stream without video (a radio-style publisher) has its audio renditions as variants.
 */
export function buildMultivariantPlaylist(renditions: readonly RenditionSummary[]): MultivariantPlaylist {
  const audio = renditions.filter((state) => state.rendition.kind === 'audio' && state.track);
  const video = renditions.filter((state) => state.rendition.kind === 'video' && state.track);
  if (video.length === 0) {
    return {
      audio: [],
      variants: audio.map((state) => ({
        uri: `${state.rendition.name}/index.m3u8`,
        bandwidth: state.stats.peakBitsPerSecond,
        averageBandwidth: state.stats.averageBitsPerSecond,
        codecs: [state.track!.codec],
      })),
    };
  }
  const audioPeak = Math.max(0, ...audio.map((state) => state.stats.peakBitsPerSecond));
  const audioAverage = Math.max(0, ...audio.map((state) => state.stats.averageBitsPerSecond));
  return {
    audio: audio.map((state, index) => ({
      groupId: AUDIO_GROUP_ID,
      name: state.rendition.name,
      uri: `${state.rendition.name}/index.m3u8`,
      channels: state.track!.channels,
      isDefault: index === 0,
    })),
    variants: video.map((state) => ({
      uri: `${state.rendition.name}/index.m3u8`,
      bandwidth: state.stats.peakBitsPerSecond + audioPeak,
      averageBandwidth: state.stats.averageBitsPerSecond + audioAverage,
      codecs: [state.track!.codec, ...audio.slice(0, 1).map((a) => a.track!.codec)],
      resolution: state.track!.width && state.track!.height ? { width: state.track!.width, height: state.track!.height } : undefined,
      frameRate: state.stats.framesPerSecond,
      audioGroupId: audio.length > 0 ? AUDIO_GROUP_ID : undefined,
    })),
  };
}

export interface StatusFacts {
  playbackId: string;
  state: StreamStatus['state'];
  startedAt: number;
  now: number;
  targetDuration: number;
  sessions: number;
  playback: 'public' | 'signed';
  /** Set when parts are announced. */
  partTarget?: number;
  /** The latest broadcast's recording, while the stream records. */
  recording?: StreamStatusRecording;
}

export function buildStreamStatus(facts: StatusFacts, renditions: readonly RenditionSummary[]): StreamStatus {
  return {
    playbackId: facts.playbackId,
    state: facts.state,
    startedAt: facts.startedAt,
    updatedAt: facts.now,
    ...(facts.state === 'ended' ? { endedAt: facts.now } : {}),
    targetDuration: facts.targetDuration,
    restarts: Math.max(0, facts.sessions - 1),
    playback: facts.playback,
    ...(facts.partTarget !== undefined && facts.state !== 'ended' ? { lowLatency: { partTarget: facts.partTarget } } : {}),
    ...(facts.recording ? { recording: facts.recording } : {}),
    renditions: renditions
      .filter((summary) => summary.track)
      .map(({ rendition, track, stats }) => ({
        name: rendition.name,
        kind: rendition.kind,
        codec: track!.codec,
        width: track!.width,
        height: track!.height,
        bandwidth: Math.round(stats.peakBitsPerSecond),
      })),
  };
}
