/**
 * Where a recording's own objects (its document and VOD manifests) live in its stream's prefix,
 * and the public URLs the edge serves them at. Its media are the stream's objects
 * (shared/storage/layout.ts): `/recordings/ID/RID/REND/FILE` is the stream's `REND/FILE`.
 *
 *   streams/ID/recordings/RID/recording.json    <- /api/v1/streams/NAME/recordings/RID
 *   streams/ID/recordings/RID/index.m3u8        <- /recordings/ID/RID/index.m3u8
 *   streams/ID/recordings/RID/REND/index.m3u8   <- /recordings/ID/RID/REND/index.m3u8
 *   streams/ID/recordings/RID/manifest.mpd      <- /recordings/ID/RID/manifest.mpd
 *   streams/ID/REND/init-S.mp4, S-T.m4s         <- /recordings/ID/RID/REND/init-S.mp4, S-T.m4s
 */
import { isPlaybackId, isRenditionName } from '../playback-id.ts';
import { MPD_FILE, PLAYLIST_FILE, STREAMS_PREFIX } from '../storage/layout.ts';
import { isRecordingId, RECORDING_DOCUMENT_FILE, recordingPrefix, RECORDINGS_FOLDER } from './recording-document.ts';

export type RecordingObjectRef =
  | { kind: 'recording-document' }
  | { kind: 'recording-multivariant' }
  | { kind: 'recording-media-playlist'; rendition: string }
  | { kind: 'recording-mpd' };

export type RecordingObjectKind = RecordingObjectRef['kind'];

export const RECORDINGS_URL_PREFIX = '/recordings/';

/** A recording object's path inside its recording's folder. */
export function recordingRelativePath(ref: RecordingObjectRef): string {
  switch (ref.kind) {
    case 'recording-document':
      return RECORDING_DOCUMENT_FILE;
    case 'recording-multivariant':
      return PLAYLIST_FILE;
    case 'recording-media-playlist':
      return `${ref.rendition}/${PLAYLIST_FILE}`;
    case 'recording-mpd':
      return MPD_FILE;
  }
}

export function recordingObjectKey(playbackId: string, recordingId: string, ref: RecordingObjectRef): string {
  return recordingPrefix(playbackId, recordingId) + recordingRelativePath(ref);
}

/** A path inside a recording's folder → its object; null for anything else. */
export function parseRecordingRelativePath(path: string): RecordingObjectRef | null {
  if (path === RECORDING_DOCUMENT_FILE) return { kind: 'recording-document' };
  if (path === PLAYLIST_FILE) return { kind: 'recording-multivariant' };
  if (path === MPD_FILE) return { kind: 'recording-mpd' };
  const parts = path.split('/');
  if (parts.length === 2 && parts[1] === PLAYLIST_FILE && isRenditionName(parts[0]!)) return { kind: 'recording-media-playlist', rendition: parts[0]! };
  return null;
}

/** A full storage key → the recording object it is; null unless exactly one inside a valid stream and recording. */
export function parseRecordingObjectKey(key: string): { playbackId: string; recordingId: string; ref: RecordingObjectRef } | null {
  if (!key.startsWith(STREAMS_PREFIX)) return null;
  const [playbackId, folder, recordingId, ...rest] = key.slice(STREAMS_PREFIX.length).split('/');
  if (!playbackId || !isPlaybackId(playbackId) || `${folder}/` !== RECORDINGS_FOLDER || !recordingId || !isRecordingId(recordingId)) return null;
  const ref = parseRecordingRelativePath(rest.join('/'));
  return ref ? { playbackId, recordingId, ref } : null;
}

/** Where viewers play and download a recording: paths on the edge's origin. */
export interface RecordingUrls {
  hls: string;
  dash: string;
  mp4: string;
}

/** Root-relative URLs (`/recordings/ID/RID/index.m3u8`, ...); with `origin`, absolute. */
export function recordingUrls(playbackId: string, recordingId: string, origin = ''): RecordingUrls {
  const base = `${origin}${RECORDINGS_URL_PREFIX}${playbackId}/${recordingId}`;
  return { hls: `${base}/${PLAYLIST_FILE}`, dash: `${base}/${MPD_FILE}`, mp4: `${base}.mp4` };
}
