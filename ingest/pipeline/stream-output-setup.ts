/**
 * A stream's output (publish/: what is listed, manifests, uploads) as its pipeline sets it up
 * once the ladder is known: the pipeline's options translated, its log and metrics wired in, and
 * the output taking up what storage already holds of the stream.
 */
import { StreamOutput } from '../publish/stream-output.ts';
import { recordsBroadcasts } from '../recordings/recording-decision.ts';
import type { Rendition } from '../transcode/ladder.ts';
import type { StreamPipelineOptions } from './pipeline-types.ts';

export function setUpStreamOutput(options: StreamPipelineOptions, renditions: readonly Rendition[], now: () => number, onStorageError: (error: unknown) => void): StreamOutput {
  const { log } = options;
  const output = new StreamOutput({
    playbackId: options.playbackId,
    renditions,
    store: options.store,
    targetSegmentDuration: options.targetSegmentDuration,
    windowSegments: options.windowSegments,
    retention: options.retention,
    playback: options.playback,
    lowLatency: options.partSink ? { sink: options.partSink, partTarget: options.chunkDuration, onTrouble: (message) => log.warn(message) } : undefined,
    now,
    metrics: options.metrics.forStreamOutput(),
    onError: onStorageError,
    onBacklog: (seconds, segments) => log.warn(`storage is slower than real time: ${segments} segment(s) waiting, the oldest for ${seconds.toFixed(1)} s`),
    limits: options.uploadLimits,
    takeOverWithinMs: options.takeOverWithinMs,
    // A stream records when it says so, else when it keeps everything (retention `all`).
    recording: recordsBroadcasts(options.recording, options.retention) ? { keepDays: options.recordingDays ?? 0, onReady: options.onRecordingReady } : undefined,
  });
  void output.restoreFromStorage().then((takenOver) => {
    if (takenOver) log.warn('took the stream over from platform state: its stored live playlists continue after a discontinuity (their sidecar stopped without ending them)');
  });
  return output;
}
