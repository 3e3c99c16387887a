/** The sidecar's own run (in-process remux, or ffmpeg when something is encoded) on a whole FLV, without a publisher: what it hands its stream's output, per rendition. */
import pino from 'pino';
import type { ChunkPosition, CmafChunk, CmafSegment } from '../../ingest/package/cmaf-segmenter.ts';
import type { CmafTrack } from '../../ingest/package/cmaf-track.ts';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { joined, type JoinedSegment } from './remux.ts';
import { LadderRun } from '../../ingest/pipeline/ladder-run.ts';
import { RemuxRun, type MediaRun } from '../../ingest/pipeline/remux-run.ts';
import { planRun } from '../../ingest/pipeline/run-plan.ts';
import type { StreamOutput } from '../../ingest/publish/stream-output.ts';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import type { Rendition } from '../../ingest/transcode/ladder.ts';

export interface RunTrack {
  init: Uint8Array;
  track: CmafTrack;
  parts: { chunk: CmafChunk; position: ChunkPosition }[];
  segments: JoinedSegment[];
  /** Init segment and every media segment, as a player appends them. */
  bytes(): Uint8Array;
}

export interface LadderRunResult {
  tracks: Map<string, RunTrack>;
  /** The run's ffmpeg, when one ran. */
  pid: number | undefined;
  exits: string[];
  overdue: string[];
}

export interface LadderRunFixtureOptions {
  /** FLV bytes per write, as a publisher's arrive (default: all at once). */
  pieceSize?: number;
  partTarget?: number;
  maxPassthroughSegmentDuration?: number;
  /** Called once the run is started (e.g. to kill its ffmpeg). */
  started?: (run: MediaRun) => void | Promise<void>;
  /** Called once this fraction of the FLV is written, before the rest is (e.g. to kill its ffmpeg mid-stream). */
  midway?: { fraction: number; action: (run: MediaRun, tracks: ReadonlyMap<string, RunTrack>) => void | Promise<void> };
}

export async function runLadder(flv: Uint8Array, renditions: readonly Rendition[], options: LadderRunFixtureOptions = {}): Promise<LadderRunResult> {
  const tracks = new Map<string, RunTrack>();
  const exits: string[] = [];
  const overdue: string[] = [];
  const output = {
    beginSession: () => {},
    noteChunkReceived: () => {},
    publishInit: (_session: string, name: string, init: Uint8Array, track: CmafTrack) => {
      const collected: RunTrack = { init, track, parts: [], segments: [], bytes: () => concatBytes([collected.init, ...collected.segments.map((segment) => segment.bytes)]) };
      tracks.set(name, collected);
    },
    publishPart: (_session: string, name: string, chunk: CmafChunk, position: ChunkPosition) => void tracks.get(name)!.parts.push({ chunk, position }),
    publishSegment: (_session: string, name: string, segment: CmafSegment) => void tracks.get(name)!.segments.push(joined(segment)),
  };
  const plan = planRun(renditions, [flv]);
  const settings = {
    renditions,
    targetSegmentDuration: 2,
    chunkDuration: options.partTarget ?? 0.333,
    maxPassthroughSegmentDuration: options.maxPassthroughSegmentDuration ?? 2.45,
    drainTimeoutMs: 60_000,
    stallTimeoutMs: 60_000,
    // Only the methods a run calls: the rest of StreamOutput is not reached.
    output: output as unknown as StreamOutput,
    log: pino({ level: 'silent' }),
    onChunk: () => {},
    onSegment: () => {},
    onKeyframeOverdue: (name: string) => void overdue.push(name),
    onUnexpectedExit: (reason: string) => void exits.push(reason),
  };
  // As the pipeline chooses: without ffmpeg when nothing is encoded.
  const run: MediaRun = plan.encoded.length === 0 ? new RemuxRun(settings) : new LadderRun({ ...settings, ffmpegPath: locateFfmpeg(), plan });
  await options.started?.(run);
  const pieceSize = options.pieceSize ?? flv.length;
  let midway = options.midway;
  for (let offset = 0; offset < flv.length; offset += pieceSize) {
    if (midway && offset >= flv.length * midway.fraction) {
      await midway.action(run, tracks);
      midway = undefined;
    }
    // As the pipeline does: a run that stopped unexpectedly is fed no more.
    if (exits.length > 0) break;
    run.write(Buffer.from(flv.buffer, flv.byteOffset + offset, Math.min(pieceSize, flv.length - offset)));
  }
  if (exits.length > 0) await run.settle();
  else await run.drain();
  return { tracks, pid: run.pid, exits, overdue };
}
