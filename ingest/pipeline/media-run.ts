/** What the pipeline drives: one run of a stream's media, remuxed in-process (RemuxRun) or through ffmpeg (LadderRun). */
import type { CmafTrack } from '../package/cmaf-track.ts';

export interface MediaRun {
  readonly session: string;
  readonly tracks: Map<string, CmafTrack>;
  /** The run's ffmpeg; undefined when none runs. */
  readonly pid: number | undefined;
  write(flv: Buffer): void;
  /** Ends the input and waits until every segment is handed to the output. */
  drain(): Promise<void>;
  /** After an unexpected stop: waits for the segments made before it. */
  settle(): Promise<void>;
}
