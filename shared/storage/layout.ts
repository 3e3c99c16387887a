/**
 * The storage layout: where every object of a stream lives, as one prefix per stream.
 *
 *   streams/ID/index.m3u8                  multivariant playlist
 *   streams/ID/status.json                 stream status document (live/ended, renditions, ...)
 *   streams/ID/REND/index.m3u8             media playlist of rendition REND
 *   streams/ID/REND/init-SESSION.mp4       CMAF init segment (header) of one publish session
 *   streams/ID/REND/SESSION-T.m4s          CMAF media segment of one session starting at media time T
 *   streams/ID/REND/SESSION-T.pN.m4s       low-latency part N of that segment (never stored: the
 *                                          edge's live state holds the newest parts)
 *   streams/ID/manifest.mpd                DASH MPD (the same segments)
 *   streams/ID/thumbnail.jpg               the newest thumbnail, full size (kept once the stream ends)
 *   streams/ID/thumbnail-W.jpg             the same picture W pixels wide (W one of THUMBNAIL_WIDTHS)
 *   streams/ID/thumbnail.webp, thumbnail-W.webp   the same pictures as WebP
 *
 * SESSION is unique per publish (time + randomness), so a segment URL is never reused for
 * different bytes, across publisher reconnects and sidecar restarts alike. The edge serves a
 * stream's objects under `/live/ID/` with the same relative paths, so playlists use relative URIs.
 */
import { isRenditionName, isSessionId, isPlaybackId } from '../playback-id.ts';
import { THUMBNAIL_WIDTHS } from '../thumbnail/thumbnail-sizes.ts';

export const STREAMS_PREFIX = 'streams/';
export const PLAYLIST_FILE = 'index.m3u8';
export const STATUS_FILE = 'status.json';
export const MPD_FILE = 'manifest.mpd';

export type StreamObjectRef =
  | { kind: 'multivariant' }
  | { kind: 'status' }
  | { kind: 'media-playlist'; rendition: string }
  | { kind: 'init'; rendition: string; session: string }
  | { kind: 'mpd' }
  /** `width` unset: the full-size picture. `format` unset: the JPEG. */
  | { kind: 'thumbnail'; width?: number; format?: 'webp' }
  | { kind: 'segment'; rendition: string; session: string; time: number }
  | { kind: 'part'; rendition: string; session: string; time: number; index: number };

export type StreamObjectKind = StreamObjectRef['kind'];

const INIT_FILE = /^init-([a-z0-9]+)\.mp4$/;
const SEGMENT_FILE = /^([a-z0-9]+)-(\d{1,15})\.m4s$/;
const THUMBNAIL_FILE = /^thumbnail(?:-(\d{1,4}))?\.(jpg|webp)$/;
const PART_FILE = /^([a-z0-9]+)-(\d{1,15})\.p(\d{1,3})\.m4s$/;

/** The path of an object relative to its stream's prefix (also its URL path under `/live/ID/`). */
export function streamRelativePath(ref: StreamObjectRef): string {
  switch (ref.kind) {
    case 'multivariant':
      return PLAYLIST_FILE;
    case 'status':
      return STATUS_FILE;
    case 'mpd':
      return MPD_FILE;
    case 'thumbnail':
      return thumbnailFile(ref.width, ref.format);
    case 'media-playlist':
      return `${ref.rendition}/${PLAYLIST_FILE}`;
    case 'init':
      return `${ref.rendition}/${initSegmentFile(ref.session)}`;
    case 'segment':
      return `${ref.rendition}/${mediaSegmentFile(ref.session, ref.time)}`;
    case 'part':
      return `${ref.rendition}/${partFile(ref.session, ref.time, ref.index)}`;
  }
}

export function initSegmentFile(session: string): string {
  return `init-${session}.mp4`;
}

/**
 * A segment's name: its session and the media time of its first sample (track timescale), so
 * DASH can address it with `$Time$` and a dropped segment leaves no wrong name behind.
 */
export function mediaSegmentFile(session: string, time: number): string {
  return `${session}-${time}.m4s`;
}

/** A low-latency part's name: its segment's name and its place in the segment (0, 1, ...). */
export function partFile(session: string, time: number, index: number): string {
  return `${session}-${time}.p${index}.m4s`;
}

/** `thumbnail.jpg`, or `thumbnail-W.jpg` for one of the fixed widths; `.webp` for the WebP. */
export function thumbnailFile(width?: number, format?: 'webp'): string {
  const extension = format === 'webp' ? 'webp' : 'jpg';
  return width === undefined ? `thumbnail.${extension}` : `thumbnail-${width}.${extension}`;
}

/** `SESSION-T.m4s` → its session and media time; null for any other name. */
export function parseMediaSegmentFile(file: string): { session: string; time: number } | null {
  const segment = SEGMENT_FILE.exec(file);
  return segment && isSessionId(segment[1]!) ? { session: segment[1]!, time: Number(segment[2]) } : null;
}

/** `init-SESSION.mp4` → its session; null for any other name. */
export function parseInitSegmentFile(file: string): string | null {
  const init = INIT_FILE.exec(file);
  return init && isSessionId(init[1]!) ? init[1]! : null;
}

/** Parses a path relative to a stream's prefix; null for anything the layout does not define. */
export function parseStreamRelativePath(path: string): StreamObjectRef | null {
  const parts = path.split('/');
  if (parts.length === 1) {
    if (parts[0] === PLAYLIST_FILE) return { kind: 'multivariant' };
    if (parts[0] === STATUS_FILE) return { kind: 'status' };
    if (parts[0] === MPD_FILE) return { kind: 'mpd' };
    const thumbnail = THUMBNAIL_FILE.exec(parts[0]!);
    if (!thumbnail) return null;
    const format = thumbnail[2] === 'webp' ? { format: 'webp' as const } : {};
    if (thumbnail[1] === undefined) return { kind: 'thumbnail', ...format };
    const width = Number(thumbnail[1]);
    return THUMBNAIL_WIDTHS.includes(width) && thumbnail[1] === String(width) ? { kind: 'thumbnail', width, ...format } : null;
  }
  if (parts.length !== 2) return null;
  const [rendition, file] = parts as [string, string];
  if (!isRenditionName(rendition)) return null;
  if (file === PLAYLIST_FILE) return { kind: 'media-playlist', rendition };
  const initSession = parseInitSegmentFile(file);
  if (initSession) return { kind: 'init', rendition, session: initSession };
  const segment = parseMediaSegmentFile(file);
  if (segment) return { kind: 'segment', rendition, ...segment };
  const part = PART_FILE.exec(file);
  if (part && isSessionId(part[1]!)) {
    return { kind: 'part', rendition, session: part[1]!, time: Number(part[2]), index: Number(part[3]) };
  }
  return null;
}

export function streamPrefix(playbackId: string): string {
  if (!isPlaybackId(playbackId)) throw new Error(`invalid stream id: ${JSON.stringify(playbackId)}`);
  return `${STREAMS_PREFIX}${playbackId}/`;
}

export function streamObjectKey(playbackId: string, ref: StreamObjectRef): string {
  return streamPrefix(playbackId) + streamRelativePath(ref);
}

/** Parses a full storage key; null unless it is exactly a layout object inside a valid stream prefix. */
export function parseStreamObjectKey(key: string): { playbackId: string; ref: StreamObjectRef } | null {
  if (!key.startsWith(STREAMS_PREFIX)) return null;
  const rest = key.slice(STREAMS_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return null;
  const playbackId = rest.slice(0, slash);
  if (!isPlaybackId(playbackId)) return null;
  const ref = parseStreamRelativePath(rest.slice(slash + 1));
  return ref ? { playbackId, ref } : null;
}
