/** The renditions one ffmpeg makes from a live source, each written as its own CMAF track. */

export type Rendition =
  /** The source's video, repackaged without re-encoding. */
  | { name: string; kind: 'video'; encoding: 'copy' }
  /** The source's audio, encoded to AAC-LC. */
  | { name: string; kind: 'audio'; encoding: 'aac'; bitrate: number; sampleRate: number; channels: number };

export const DEFAULT_LADDER: readonly Rendition[] = [
  { name: 'source', kind: 'video', encoding: 'copy' },
  { name: 'audio', kind: 'audio', encoding: 'aac', bitrate: 128_000, sampleRate: 48_000, channels: 2 },
];
