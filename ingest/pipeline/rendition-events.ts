/**
 * How a run (ffmpeg's or the in-process remux) hands one rendition's CMAF to the stream's
 * output and tells the pipeline what it made: the same wiring, whoever cuts the segments.
 */
import type { CmafSegmenterEvents } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { StreamOutput } from '../publish/stream-output.ts';
import type { Rendition } from '../transcode/ladder.ts';

export interface RunForEvents {
  readonly session: string;
  readonly tracks: Map<string, CmafTrack>;
  /** Whether the run is being stopped on purpose (an overdue keyframe then is not news). */
  stopping(): boolean;
}

/** What a run passes on (a run's own options are a superset: no import of the run back here). */
export interface RenditionEventsOptions {
  output: StreamOutput;
  onChunk(track: CmafTrack, sampleCount: number): void;
  onSegment(track: CmafTrack, seconds: number): void;
  onKeyframeOverdue(rendition: string): void;
}

export function renditionEvents(
  run: RunForEvents,
  rendition: Rendition,
  options: RenditionEventsOptions,
  onTrack?: (track: CmafTrack) => void,
): CmafSegmenterEvents {
  const { output } = options;
  return {
    onInit: (init, track) => {
      run.tracks.set(rendition.name, track);
      onTrack?.(track);
      output.publishInit(run.session, rendition.name, init, track);
    },
    onChunk: (chunk, track, position) => {
      output.noteChunkReceived(run.session, (chunk.startTime + chunk.duration) / track.timescale);
      output.publishPart(run.session, rendition.name, chunk, position, track);
      options.onChunk(track, chunk.sampleCount);
    },
    onSegment: (segment) => {
      options.onSegment(segment.track, segment.duration / segment.track.timescale);
      output.publishSegment(run.session, rendition.name, segment);
    },
    onKeyframeOverdue: () => {
      if (!run.stopping()) options.onKeyframeOverdue(rendition.name);
    },
  };
}
