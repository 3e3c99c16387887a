/** What a stream's pipeline is given and what it tells about itself (ingest/pipeline/stream-pipeline.ts). */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import type { Retention } from '../publish/retention.ts';
import type { RecordingDocument } from '../../shared/recordings/recording-document.ts';
import type { Connect, OutputStatus } from '../restream/restream-output.ts';
import type { RestreamTarget } from '../restream/restream-target.ts';
import type { Thumbnails } from '../thumbnails/stream-thumbnails.ts';
import type { LadderConfig, Rendition } from '../transcode/ladder.ts';
import type { LiveChannelSink } from '../upload/part-sink.ts';
import type { UploadLimits } from '../upload/upload-queue.ts';

export interface PipelineSettings {
  ffmpegPath: string;
  ladder: LadderConfig;
  /** Seconds. */
  targetSegmentDuration: number;
  /** Seconds: the longest chunk, and the low-latency part target. */
  chunkDuration: number;
  /** Where low-latency parts go; unset: segments only. */
  partSink?: LiveChannelSink;
  windowSegments: number;
  retention: Retention;
  /** Days a stream's recording is kept once complete (0 or unset: until deleted). */
  recordingDays?: number;
  /** How long ffmpeg may take to flush after its input ends, milliseconds. */
  drainTimeoutMs: number;
  /** A publisher that sends nothing for this long is disconnected, milliseconds. */
  idleTimeoutMs: number;
  /** How long a stream waits for its publisher to come back before it ends, milliseconds (0: it ends at once). */
  reconnectWindowMs: number;
  /** ffmpeg that writes nothing for this long while fed is killed and restarted, milliseconds. */
  stallTimeoutMs: number;
  uploadLimits?: UploadLimits;
  /** Where streams are stored, for messages (never a secret), e.g. "edge write API at https://…". */
  storageName?: string;
  /** Makes the streams' thumbnails from their keyframes; unset: none. */
  thumbnails?: Thumbnails;
  /** Opens a restream output's connection (ingest/restream/ffmpeg-connection.ts); unset: no restreaming. */
  restreamConnect?: Connect;
}

export interface StreamPipelineOptions extends PipelineSettings {
  playbackId: string;
  store: ObjectStore;
  log: Logger;
  metrics: IngestMetrics;
  now?: () => number;
  /** Whether viewers need a playback token (written into the stream's status document). */
  playback: 'public' | 'signed';
  /** The stream's renditions when they are already known (a stream taken up after a restart). */
  renditions?: readonly Rendition[];
  /** A new publish: another sidecar's live playlists are continued only within this (StreamOutputOptions.takeOverWithinMs). */
  takeOverWithinMs?: number;
  /** Where the stream is restreamed to, from its first publish (ingest/restream/). */
  outputs?: readonly RestreamTarget[];
  /** Record each broadcast (ingest/recordings/); unset: when the stream's retention is `all`. */
  recording?: boolean;
  /** A broadcast's recording is complete: its documents are stored. */
  onRecordingReady?(recording: RecordingDocument): void;
  /** The stream's renditions were chosen (from its first publisher's source). */
  onLadder?(renditions: readonly Rendition[]): void;
  /** The stream has ended and everything is stored. */
  onEnded(): void;
  /** Something went wrong that a platform's operator hears of (a stream.errored webhook); logged as well. */
  onProblem?(code: StreamProblemCode, message: string): void;
}

/** Why a stream is in trouble (shared/webhooks.ts WEBHOOK_ERROR_CODES). */
export type StreamProblemCode = 'unsupported-source' | 'gop-out-of-range' | 'encoder-failing' | 'storage-failing';

export type PipelineState = 'live' | 'reconnecting' | 'ending' | 'ended';

export interface RenditionInfo {
  name: string;
  kind: 'video' | 'audio';
  codec: string;
  width?: number;
  height?: number;
}

export interface PipelineStats {
  session: string | undefined;
  since: number;
  state: PipelineState;
  /** Publish sessions after the first: publisher reconnects and encoder restarts. */
  restarts: number;
  renditions: RenditionInfo[];
  inputBitsPerSecond: number;
  inputFramesPerSecond: number;
  /** Media seconds packaged per wall-clock second (1 = keeping up with real time). */
  encodeSpeed: number;
  uploadLagMs: number | undefined;
  /** The restream outputs and their states (keys redacted). */
  outputs: OutputStatus[];
}
