/**
 * Whether a run needs ffmpeg: only when a rendition must be encoded. A ladder of the source's
 * video passed through ('copy') and its audio, when that audio is AAC-LC at 44.1/48 kHz, mono
 * or stereo, is remuxed in-process; anything else (a rung to encode, HE-AAC, MP3, odd rates, a
 * source whose configuration did not arrive in the probed seconds) goes to ffmpeg as before.
 * Pure: decided from the ladder and the FLV the probe buffered.
 */
import { UnsupportedSourceError } from '../media/aac-config.ts';
import { FlvFrameReader } from '../media/flv-frames.ts';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, FlvTagReader } from '../media/flv-tag-reader.ts';
import type { Rendition } from '../transcode/ladder.ts';

export type RunChoice = { kind: 'remux' } | { kind: 'ffmpeg'; reason: string };

export function chooseRun(renditions: readonly Rendition[], bufferedFlv: readonly Uint8Array[]): RunChoice {
  const encoded = renditions.find((rendition) => rendition.kind === 'video' && rendition.encoding !== 'copy');
  if (encoded) return { kind: 'ffmpeg', reason: `rendition ${encoded.name} is encoded` };
  const wantVideo = renditions.some((rendition) => rendition.kind === 'video');
  const wantAudio = renditions.some((rendition) => rendition.kind === 'audio');
  const tags = new FlvTagReader();
  const frames = new FlvFrameReader(() => {});
  let videoConfig = false;
  let audioConfig = false;
  try {
    for (const piece of bufferedFlv) {
      for (const tag of tags.push(piece)) {
        if ((tag.type === FLV_TAG_VIDEO && !wantVideo) || (tag.type === FLV_TAG_AUDIO && !wantAudio)) continue;
        const event = frames.take(tag);
        if (event?.type === 'video-config') videoConfig = true;
        if (event?.type === 'audio-config') audioConfig = true;
      }
    }
  } catch (error) {
    if (error instanceof UnsupportedSourceError) return { kind: 'ffmpeg', reason: error.message };
    return { kind: 'ffmpeg', reason: `the source could not be read in-process: ${(error as Error).message}` };
  }
  if (wantVideo && !videoConfig) return { kind: 'ffmpeg', reason: 'no H.264 configuration arrived with the first frames' };
  if (wantAudio && !audioConfig) return { kind: 'ffmpeg', reason: 'no AAC configuration arrived with the first frames' };
  return { kind: 'remux' };
}
