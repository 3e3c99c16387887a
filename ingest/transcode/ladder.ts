/**
 * The renditions one ffmpeg makes from a live source, each written as its own CMAF track, and
 * how a stream's ladder is chosen from its source.
 *
 * The top video rendition is always named `source`: the source's own picture size, passed
 * through without re-encoding when its codec and keyframe spacing allow (see
 * `passthroughFits`), encoded otherwise. Below it come encoded rungs for the configured heights
 * under the source's (never an upscale), and one AAC audio rendition shared by all.
 */

export interface H264Encoding {
  /** Bits per second (the average; the peak is capped a little above it). */
  bitrate: number;
  /** libx264 preset. */
  preset: string;
}

export type Rendition =
  /** The source's video, repackaged without re-encoding. */
  | { name: string; kind: 'video'; encoding: 'copy' }
  /** Video encoded with libx264; `height` undefined keeps the source's size. */
  | ({ name: string; kind: 'video'; encoding: 'h264'; height?: number } & H264Encoding)
  /** The source's audio, encoded to AAC-LC. */
  | { name: string; kind: 'audio'; encoding: 'aac'; bitrate: number; sampleRate: number; channels: number };

export type VideoRendition = Extract<Rendition, { kind: 'video' }>;

export interface VideoRung {
  height: number;
  /** Bits per second. */
  bitrate: number;
}

export interface LadderConfig {
  /** Encoded renditions, tallest first; each is made only when it is shorter than the source. */
  rungs: readonly VideoRung[];
  /** `auto`: the source passes through when it can; `never`: the top rendition is always encoded. */
  passthrough: 'auto' | 'never';
  preset: string;
  audio: { bitrate: number; sampleRate: number; channels: number };
}

export const DEFAULT_RUNGS: readonly VideoRung[] = [
  { height: 1080, bitrate: 5_000_000 },
  { height: 720, bitrate: 2_800_000 },
  { height: 480, bitrate: 1_400_000 },
  { height: 360, bitrate: 800_000 },
];

export const DEFAULT_LADDER_CONFIG: LadderConfig = {
  rungs: DEFAULT_RUNGS,
  passthrough: 'auto',
  preset: 'veryfast',
  audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 },
};

export const SOURCE_RENDITION = 'source';
export const AUDIO_RENDITION = 'audio';

/** The source's video and audio, as the first seconds of its FLV show them. */
export interface SourceFacts {
  video?: {
    /** H.264 that every player decodes (8-bit 4:2:0 in a Baseline, Main or High profile). */
    playableH264: boolean;
    width: number;
    height: number;
    /** Seconds between the first two keyframes; undefined when the probe saw only one. */
    keyframeInterval?: number;
    /** Media seconds the probe saw (its first tag to its last). */
    probedSeconds: number;
  };
  audio: boolean;
}

export interface LadderPlan {
  renditions: Rendition[];
  /** Why the top rendition is encoded, when it is. */
  encodeReason?: string;
}

// A keyframe this close to where the segment grid expects one still counts as on it
// (FLV timestamps are whole milliseconds; frame times are not).
const KEYFRAME_TOLERANCE_SECONDS = 0.05;
// A rung this close to the source's height would look the same at almost the source's cost.
const MIN_RUNG_STEP_DOWN = 0.9;

/**
 * Whether a source with keyframes every `keyframeInterval` seconds can be cut into segments of
 * `segmentDuration` seconds without re-encoding: the interval must divide the segment duration,
 * so that every segment boundary falls on a keyframe and no segment runs long.
 */
export function passthroughFits(keyframeInterval: number, segmentDuration: number): boolean {
  if (keyframeInterval <= 0 || keyframeInterval > segmentDuration + KEYFRAME_TOLERANCE_SECONDS) return false;
  const perSegment = Math.round(segmentDuration / keyframeInterval);
  return Math.abs(perSegment * keyframeInterval - segmentDuration) <= KEYFRAME_TOLERANCE_SECONDS;
}

export function planLadder(source: SourceFacts, config: LadderConfig, segmentDuration: number): LadderPlan {
  const renditions: Rendition[] = [];
  let encodeReason: string | undefined;
  const video = source.video;
  if (video) {
    encodeReason = topEncodeReason(video, config, segmentDuration);
    renditions.push(
      encodeReason === undefined
        ? { name: SOURCE_RENDITION, kind: 'video', encoding: 'copy' }
        : { name: SOURCE_RENDITION, kind: 'video', encoding: 'h264', bitrate: bitrateForHeight(video.height, config.rungs), preset: config.preset },
    );
    for (const rung of config.rungs) {
      if (rung.height < video.height * MIN_RUNG_STEP_DOWN) {
        renditions.push({ name: `${rung.height}p`, kind: 'video', encoding: 'h264', height: rung.height, bitrate: rung.bitrate, preset: config.preset });
      }
    }
  }
  if (source.audio) renditions.push({ name: AUDIO_RENDITION, kind: 'audio', encoding: 'aac', ...config.audio });
  return { renditions, encodeReason };
}

function topEncodeReason(video: NonNullable<SourceFacts['video']>, config: LadderConfig, segmentDuration: number): string | undefined {
  if (config.passthrough === 'never') return 'passthrough is off';
  if (!video.playableH264) return 'the source is not 8-bit 4:2:0 H.264';
  if (video.keyframeInterval === undefined) {
    // A publisher slower than real time (a starved machine) runs out the probe's wall time with
    // less than a segment of media: its GOP is unknown, not long. Encoding it would load the
    // machine further; it passes through, and the packager switches the top to encoded if a
    // keyframe then comes overdue.
    if (keyframeIntervalUnknown(video, segmentDuration)) return undefined;
    return `the source sent no second keyframe within ${segmentDuration} s`;
  }
  if (!passthroughFits(video.keyframeInterval, segmentDuration)) {
    return `the source's keyframe interval (${video.keyframeInterval.toFixed(2)} s) does not divide the ${segmentDuration} s segments`;
  }
  return undefined;
}

/** The probe saw fewer than two keyframes in less than a segment of media: the source's GOP is not known yet. */
export function keyframeIntervalUnknown(video: NonNullable<SourceFacts['video']>, segmentDuration: number): boolean {
  return video.keyframeInterval === undefined && video.probedSeconds < segmentDuration;
}

/** The same ladder with its top rendition encoded (a passthrough source stopped fitting). */
export function withEncodedTop(renditions: readonly Rendition[], config: LadderConfig, sourceHeight: number): Rendition[] {
  return renditions.map((rendition) =>
    rendition.kind === 'video' && rendition.encoding === 'copy'
      ? { name: rendition.name, kind: 'video', encoding: 'h264', bitrate: bitrateForHeight(sourceHeight, config.rungs), preset: config.preset }
      : rendition,
  );
}

/** The bitrate of the nearest configured rung at or above this height, scaled by area above the tallest. */
export function bitrateForHeight(height: number, rungs: readonly VideoRung[]): number {
  const sorted = [...rungs].sort((a, b) => a.height - b.height);
  const fitting = sorted.find((rung) => rung.height >= height);
  if (fitting) return fitting.bitrate;
  const tallest = sorted.at(-1);
  if (!tallest) return DEFAULT_RUNGS[0]!.bitrate;
  return Math.round(tallest.bitrate * (height / tallest.height) ** 2);
}

/**
 * Parses a ladder like `1080:5000k,720:2800k,480:1400k,360:800k` (height:bitrate, bitrate in
 * bits/s with an optional k or M), or `none` for the source alone.
 */
export function parseRungs(text: string): VideoRung[] {
  const trimmed = text.trim();
  if (trimmed === 'none' || trimmed === '') return [];
  const rungs = trimmed.split(',').map((part) => {
    const match = /^\s*(\d{2,4}):(\d+(?:\.\d+)?)([kKmM]?)\s*$/.exec(part);
    if (!match) throw new Error(`"${part}" is not HEIGHT:BITRATE (for example 720:2800k)`);
    const height = Number(match[1]);
    const unit = match[3]!.toLowerCase() === 'm' ? 1_000_000 : match[3]!.toLowerCase() === 'k' ? 1000 : 1;
    const bitrate = Math.round(Number(match[2]) * unit);
    if (height < 64 || height > 4320 || height % 2 !== 0) throw new Error(`rung height ${height} must be even and between 64 and 4320`);
    if (bitrate < 64_000 || bitrate > 100_000_000) throw new Error(`rung bitrate ${bitrate} must be between 64k and 100M bits/s`);
    return { height, bitrate };
  });
  const heights = new Set(rungs.map((rung) => rung.height));
  if (heights.size !== rungs.length) throw new Error('each rung height may appear once');
  return rungs.sort((a, b) => b.height - a.height);
}

/** The ladder of a source that is H.264 with 2 s keyframes and audio: what tests and docs assume. */
export const PASSTHROUGH_ONLY: readonly Rendition[] = [
  { name: SOURCE_RENDITION, kind: 'video', encoding: 'copy' },
  { name: AUDIO_RENDITION, kind: 'audio', encoding: 'aac', ...DEFAULT_LADDER_CONFIG.audio },
];
