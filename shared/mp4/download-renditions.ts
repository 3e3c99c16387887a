/** Which of a recording's renditions its MP4 download carries: the best video rung and the audio. Pure. */

export interface RenditionFacts {
  name: string;
  kind: 'video' | 'audio';
  width?: number;
  height?: number;
  bandwidth: number;
}

/**
 * The tallest video rendition (then the widest, then the highest bitrate) and the highest-bitrate
 * audio rendition, video first; either may be missing (a stream without audio or video). Empty
 * when the recording has neither.
 */
export function chooseDownloadRenditions<R extends RenditionFacts>(renditions: readonly R[]): R[] {
  const best = (kind: RenditionFacts['kind']) =>
    renditions
      .filter((rendition) => rendition.kind === kind)
      .reduce<R | undefined>((top, rendition) => (top === undefined || rank(rendition) > rank(top) ? rendition : top), undefined);
  return [best('video'), best('audio')].filter((rendition): rendition is R => rendition !== undefined);
}

/** Picture size first, then bitrate: a passthrough top rung's bandwidth may be below an encoded one's. */
function rank(rendition: RenditionFacts): number {
  return ((rendition.height ?? 0) * 100_000 + (rendition.width ?? 0)) * 1e9 + rendition.bandwidth;
}
