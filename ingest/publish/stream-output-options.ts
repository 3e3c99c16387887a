/** What a stream's output is given: where it stores, how it lists, what it announces and records. */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { RecordingOptions } from '../recordings/stream-recorder.ts';
import type { Rendition } from '../transcode/ladder.ts';
import type { LiveChannelSink } from '../upload/part-sink.ts';
import type { UploadLimits } from '../upload/upload-queue.ts';
import type { OutputMetrics } from './output-metrics.ts';
import type { Retention } from './retention.ts';

export interface StreamOutputOptions {
  playbackId: string;
  renditions: readonly Rendition[];
  store: ObjectStore;
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  /** Segments listed in a live media playlist. */
  windowSegments: number;
  /** Epoch milliseconds. */
  now: () => number;
  /** Something could not be stored and will not be (a refusal, a drop). */
  onError: (error: unknown) => void;
  /** Storage is behind: `waitingSeconds` of media wait to be stored. */
  onBacklog?: (waitingSeconds: number, waitingSegments: number) => void;
  limits?: UploadLimits;
  metrics?: OutputMetrics;
  /**
   * `window`: media that left the live window is deleted once no stored manifest lists it and a
   * window's time has passed (players may still hold an older playlist). `all`: everything is
   * kept, and the ended stream's playlists list the whole recording (VOD). Default `window`.
   */
  retention?: Retention;
  /** Written into the status document, which the edge reads before serving anything of the stream. */
  playback?: 'public' | 'signed';
  /** Announce every chunk as a low-latency HLS part too. */
  lowLatency?: LowLatencyOptions;
  /**
   * A new publish (not a restart from this sidecar's journal): a live playlist another sidecar
   * left is continued (a takeover) only if its newest media ended within this reconnect window,
   * milliseconds (restore.ts, continuesStoredBroadcast); else it is a new broadcast numbered after
   * it. Unset: a live stored playlist is always continued.
   */
  takeOverWithinMs?: number;
  /**
   * Record the broadcast (ingest/recordings/): its recording document, VOD playlists and MPD,
   * and its media kept from window retention's deletions. Unset: not recorded.
   */
  recording?: RecordingOptions;
}

export interface LowLatencyOptions {
  sink: LiveChannelSink;
  /** Seconds: no chunk (part) lasts longer. */
  partTarget: number;
  /** Parts could not be announced (now and then, with a count): low-latency viewers wait longer, nothing is lost. */
  onTrouble?: (message: string) => void;
}
