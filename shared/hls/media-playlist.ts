/** HLS media playlists as data: a pure renderer for the sidecar, a small reader for the edge. */

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
}

export interface MediaPlaylist {
  /** Seconds; every segment's duration, rounded to the nearest integer, is at most this. */
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: MediaSegment[];
  ended: boolean;
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
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let currentInit: string | undefined;
  for (const segment of playlist.segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (segment.initUri !== currentInit) {
      lines.push(`#EXT-X-MAP:URI="${segment.initUri}"`);
      currentInit = segment.initUri;
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}`);
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
