/**
 * A media playlist as the edge rewrites it: its lines grouped into a header, one block per
 * segment (the segment's tags and its URI) and a footer. Parsing is one pass of string
 * operations, with no dates or attribute lists decoded, so a 4-hour playlist (7 200 segments)
 * is rewritten per request within a Worker's CPU budget. The sidecar's full model
 * (shared/hls/media-playlist.ts) is what writes playlists; this is what serves them.
 */

export interface SegmentBlock {
  /** The segment's tags, in order (EXT-X-DISCONTINUITY, EXT-X-MAP, EXT-X-PROGRAM-DATE-TIME, EXTINF...). */
  tags: string[];
  uri: string;
  /** Seconds, from EXTINF. */
  duration: number;
  discontinuity: boolean;
  /** The EXT-X-MAP line in effect for this segment (its own or an earlier one). */
  map: string | undefined;
}

export interface PlaylistBlocks {
  header: string[];
  segments: SegmentBlock[];
  /** Tags after the last segment (EXT-X-ENDLIST). */
  footer: string[];
}

/** Whether a tag belongs to the segment after it (and so starts the segment part of the playlist). */
function isSegmentTag(line: string): boolean {
  // The common ones first; bare tags match exactly (#EXT-X-DISCONTINUITY-SEQUENCE is a header tag).
  return (
    line.startsWith('#EXTINF:') ||
    line.startsWith('#EXT-X-PROGRAM-DATE-TIME:') ||
    line.startsWith('#EXT-X-MAP:') ||
    line === '#EXT-X-DISCONTINUITY' ||
    line === '#EXT-X-GAP' ||
    line.startsWith('#EXT-X-BYTERANGE:')
  );
}

export function parsePlaylistBlocks(text: string): PlaylistBlocks {
  const blocks: PlaylistBlocks = { header: [], segments: [], footer: [] };
  let pending: string[] = [];
  let map: string | undefined;
  let duration = 0;
  let discontinuity = false;
  let inSegments = false;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    if (line.charCodeAt(0) === 35 /* # */) {
      if (!inSegments && !isSegmentTag(line)) {
        blocks.header.push(line);
        continue;
      }
      inSegments = true;
      pending.push(line);
      if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
      else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
      else if (line.startsWith('#EXT-X-MAP:')) map = line;
      continue;
    }
    blocks.segments.push({ tags: pending, uri: line, duration, discontinuity, map });
    pending = [];
    duration = 0;
    discontinuity = false;
  }
  blocks.footer = pending;
  return blocks;
}

export function renderPlaylistBlocks(blocks: PlaylistBlocks): string {
  const lines = [...blocks.header];
  for (const segment of blocks.segments) lines.push(...segment.tags, segment.uri);
  lines.push(...blocks.footer);
  return lines.join('\n') + '\n';
}

/** The value of a header tag such as `#EXT-X-MEDIA-SEQUENCE`, as a number. */
export function headerNumber(blocks: PlaylistBlocks, tag: string): number | undefined {
  const line = blocks.header.find((candidate) => candidate.startsWith(`${tag}:`));
  return line === undefined ? undefined : Number(line.slice(tag.length + 1));
}

/** Sets a header tag's value, adding the tag after `after` (or at the end) when it is missing. */
export function setHeaderTag(blocks: PlaylistBlocks, tag: string, value: string, after?: string): void {
  const index = blocks.header.findIndex((line) => line === tag || line.startsWith(`${tag}:`));
  const line = value === '' ? tag : `${tag}:${value}`;
  if (index >= 0) {
    blocks.header[index] = line;
    return;
  }
  const anchor = after === undefined ? -1 : blocks.header.findIndex((candidate) => candidate.startsWith(after));
  blocks.header.splice(anchor >= 0 ? anchor + 1 : blocks.header.length, 0, line);
}
