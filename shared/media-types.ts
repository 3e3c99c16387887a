/** Content types of the objects a stream is made of. */
import type { StreamObjectRef } from './storage/layout.ts';

export const HLS_PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
export const JSON_TYPE = 'application/json';
export const DASH_MPD_TYPE = 'application/dash+xml';
export const VIDEO_MP4_TYPE = 'video/mp4';
export const AUDIO_MP4_TYPE = 'audio/mp4';
export const IMAGE_JPEG_TYPE = 'image/jpeg';
export const IMAGE_WEBP_TYPE = 'image/webp';

/** The content type of a stream object; init and media segments of an audio-only rendition are audio/mp4. */
export function contentTypeFor(ref: StreamObjectRef, renditionIsAudio: boolean): string {
  switch (ref.kind) {
    case 'multivariant':
    case 'media-playlist':
      return HLS_PLAYLIST_TYPE;
    case 'status':
      return JSON_TYPE;
    case 'mpd':
      return DASH_MPD_TYPE;
    case 'thumbnail':
      return ref.format === 'webp' ? IMAGE_WEBP_TYPE : IMAGE_JPEG_TYPE;
    case 'init':
    case 'segment':
    case 'part':
      return renditionIsAudio ? AUDIO_MP4_TYPE : VIDEO_MP4_TYPE;
  }
}
