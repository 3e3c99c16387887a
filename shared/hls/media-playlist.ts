/** HLS media playlists as data: render and parse (pure), and a cheap summary for the edge. */

export interface MediaSegment {
  uri: string;
  /** Seconds. */
  duration: number;
  /** URI of the init segment (EXT-X-MAP) this segment decodes with. */
  initUri: string;
  /** Ingest wall clock of the segment's first sample, epoch milliseconds. */
  programDateTime: number;
  /** The segment follows a break in the timeline (publisher reconnect, encoder restart). */
  discontinuity?: boolean;
  /**
   * EXT-X-GAP: the rendition has no media for this segment (lost in an outage, or never made).
   * Its number and duration keep the rendition's timeline in step with the others'; its URI
   * must not be loaded.
   */
  gap?: boolean;
}

export interface MediaPlaylist {
  /** Seconds; every segment's duration, rounded to the nearest integer, is at most this. */
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: MediaSegment[];
  ended: boolean;
  /** `VOD`: the playlist will never change again (an ended stream served as video on demand). */
  playlistType?: 'VOD' | 'EVENT';
}

// EXT-X-MAP in a media playlist of fMP4 segments needs protocol version 6 or later.
const VERSION = 7;

/** The smallest target duration that the segments allow, never below the nominal one. */
export function targetDurationFor(nominalSeconds: number, segments: readonly MediaSegment[]): number {
  let target = Math.ceil(nominalSeconds);
  for (const segment of segments) target = Math.max(target, Math.round(segment.duration));
  return target;
}

export function renderMediaPlaylist(playlist: MediaPlaylist): string {
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${VERSION}`,
    `#EXT-X-TARGETDURATION:${playlist.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${playlist.mediaSequence}`,
  ];
  if (playlist.discontinuitySequence > 0) {
    lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${playlist.discontinuitySequence}`);
  }
  if (playlist.playlistType) lines.push(`#EXT-X-PLAYLIST-TYPE:${playlist.playlistType}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let currentInit: string | undefined;
  for (const segment of playlist.segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.initUri !== currentInit) {
      lines.push(`#EXT-X-MAP:URI="${segment.initUri}"`);
      currentInit = segment.initUri;
    }
    if (Number.isFinite(segment.programDateTime)) {
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
    }
    if (segment.gap) lines.push('#EXT-X-GAP');
    lines.push(`#EXTINF:${segment.duration.toFixed(3)},`);
    lines.push(segment.uri);
  }
  if (playlist.ended) lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** What the edge needs to know about a media playlist to cache it: cheap, without a full parse. */
export interface MediaPlaylistSummary {
  targetDuration: number | undefined;
  ended: boolean;
}

export function summarizeMediaPlaylist(text: string): MediaPlaylistSummary {
  const target = /^#EXT-X-TARGETDURATION:(\d+)\s*$/m.exec(text);
  return {
    targetDuration: target ? Number(target[1]) : undefined,
    ended: /^#EXT-X-ENDLIST\s*$/m.test(text),
  };
}

export class PlaylistParseError extends Error {
  override name = 'PlaylistParseError';
}

function attribute(line: string, name: string): string | undefined {
  return new RegExp(`(?:^|[:,])${name}="([^"]*)"`).exec(line)?.[1];
}

/**
 * Parses a media playlist written by renderMediaPlaylist (or any playlist of fMP4 segments with
 * EXT-X-MAP). Tags the model does not hold are skipped; what it cannot make sense of throws.
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== '#EXTM3U') throw new PlaylistParseError('not an HLS playlist: no #EXTM3U first line');
  const playlist: MediaPlaylist = { targetDuration: 0, mediaSequence: 0, discontinuitySequence: 0, segments: [], ended: false };
  let initUri: string | undefined;
  let pending: { duration?: number; programDateTime?: number; discontinuity?: boolean; gap?: boolean } = {};
  const number = (value: string, tag: string) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new PlaylistParseError(`bad ${tag} value ${JSON.stringify(value)}`);
    return parsed;
  };
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    if (line === '') continue;
    const [tag, value = ''] = line.startsWith('#') ? [line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':')), line.slice(line.indexOf(':') + 1)] : ['', ''];
    if (!line.startsWith('#')) {
      if (pending.duration === undefined) throw new PlaylistParseError(`segment ${line} has no #EXTINF`);
      if (!initUri) throw new PlaylistParseError(`segment ${line} has no #EXT-X-MAP`);
      const segment: MediaSegment = { uri: line, duration: pending.duration, initUri, programDateTime: pending.programDateTime ?? Number.NaN };
      if (pending.discontinuity) segment.discontinuity = true;
      if (pending.gap) segment.gap = true;
      playlist.segments.push(segment);
      pending = {};
      continue;
    }
    switch (tag) {
      case '#EXT-X-TARGETDURATION':
        playlist.targetDuration = number(value, tag);
        break;
      case '#EXT-X-MEDIA-SEQUENCE':
        playlist.mediaSequence = number(value, tag);
        break;
      case '#EXT-X-DISCONTINUITY-SEQUENCE':
        playlist.discontinuitySequence = number(value, tag);
        break;
      case '#EXT-X-ENDLIST':
        playlist.ended = true;
        break;
      case '#EXT-X-PLAYLIST-TYPE':
        if (value === 'VOD' || value === 'EVENT') playlist.playlistType = value;
        break;
      case '#EXT-X-DISCONTINUITY':
        pending.discontinuity = true;
        break;
      case '#EXT-X-GAP':
        pending.gap = true;
        break;
      case '#EXT-X-MAP': {
        const uri = attribute(value, 'URI');
        if (!uri) throw new PlaylistParseError('#EXT-X-MAP without URI');
        initUri = uri;
        break;
      }
      case '#EXT-X-PROGRAM-DATE-TIME': {
        const time = Date.parse(value);
        if (Number.isNaN(time)) throw new PlaylistParseError(`bad #EXT-X-PROGRAM-DATE-TIME ${JSON.stringify(value)}`);
        pending.programDateTime = time;
        break;
      }
      case '#EXTINF':
        pending.duration = number(value.split(',')[0]!, tag);
        break;
      default:
        break;
    }
  }
  return playlist;
}
