/**
 * Who makes each rendition of a run (pure, from the ladder and the FLV the probe buffered). The
 * sidecar remuxes the source's H.264 ('copy') and its audio when that is AAC-LC at 44.1/48 kHz,
 * mono or stereo; ffmpeg makes only what must be encoded: rungs, an encoded top, audio the source
 * cannot pass (HE-AAC, MP3, odd rates), and a passthrough whose configuration did not arrive in
 * the probed seconds (copied). Whoever makes it, a rendition reaches the same packager as frames,
 * on the run's grid; numbers come from that grid (live-window.ts), so a rung that misses segments
 * (ffmpeg stalled or died while the source went on) lists them as gaps under the source's numbers.
 */
import { UnsupportedSourceError } from '../media/aac-config.ts';
import { FlvFrameReader } from '../media/flv-frames.ts';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, FlvTagReader } from '../media/flv-tag-reader.ts';
import type { Rendition } from '../transcode/ladder.ts';

export interface RunPlan {
  /** Renditions the sidecar repackages from the source's own frames. */
  remuxed: Rendition[];
  /** Renditions ffmpeg makes, in the order of its outputs. */
  encoded: Rendition[];
  /** Why ffmpeg runs (empty when nothing is encoded). */
  reasons: string[];
}

interface TrackFacts {
  config: boolean;
  /** Why the track cannot be taken in-process, when it cannot. */
  refused?: string;
}

export function planRun(renditions: readonly Rendition[], bufferedFlv: readonly Uint8Array[]): RunPlan {
  const facts = readTracks(bufferedFlv);
  const plan: RunPlan = { remuxed: [], encoded: [], reasons: [] };
  for (const rendition of renditions) {
    const why = ffmpegReason(rendition, rendition.kind === 'video' ? facts.video : facts.audio);
    if (why === undefined) {
      plan.remuxed.push(rendition);
      continue;
    }
    plan.reasons.push(why);
    plan.encoded.push(rendition);
  }
  return plan;
}

function ffmpegReason(rendition: Rendition, track: TrackFacts): string | undefined {
  if (rendition.kind === 'video' && rendition.encoding !== 'copy') return `rendition ${rendition.name} is encoded`;
  if (track.refused) return track.refused;
  if (!track.config) return rendition.kind === 'video' ? 'no H.264 configuration arrived with the first frames' : 'no AAC configuration arrived with the first frames';
  return undefined;
}

/** What the buffered FLV says of each track: its configuration arrived, or it cannot be remuxed and why. */
function readTracks(bufferedFlv: readonly Uint8Array[]): { video: TrackFacts; audio: TrackFacts } {
  const tags = new FlvTagReader();
  const frames = new FlvFrameReader(() => {});
  const video: TrackFacts = { config: false };
  const audio: TrackFacts = { config: false };
  try {
    for (const piece of bufferedFlv) {
      for (const tag of tags.push(piece)) {
        const track = tag.type === FLV_TAG_VIDEO ? video : tag.type === FLV_TAG_AUDIO ? audio : undefined;
        if (!track || track.refused) continue;
        try {
          const event = frames.take(tag);
          if (event?.type === 'video-config' || event?.type === 'audio-config') track.config = true;
        } catch (error) {
          if (!(error instanceof UnsupportedSourceError)) throw error;
          track.refused = error.message;
        }
      }
    }
  } catch (error) {
    const reason = `the source could not be read in-process: ${(error as Error).message}`;
    video.refused ??= reason;
    audio.refused ??= reason;
  }
  return { video, audio };
}
