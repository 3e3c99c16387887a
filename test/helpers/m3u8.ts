/** Parses HLS playlists the way players do, with m3u8-parser (video.js's parser). */
import { Parser } from 'm3u8-parser';

export function parseM3u8(text: string) {
  const parser = new Parser();
  // m3u8-parser 7 does not read EXT-X-GAP: a segment after it gets `custom.gap` (listed, no media, not to be loaded).
  parser.addParser({ expression: /^#EXT-X-GAP$/, customType: 'gap', dataParser: () => 1, segment: true });
  parser.push(text);
  parser.end();
  return parser.manifest;
}

/** Whether a parsed segment is an EXT-X-GAP: listed for its number and duration, with no media to load. */
export function isGap(segment: object): boolean {
  // The @types for m3u8-parser do not declare the `custom` data addParser attaches.
  return (segment as { custom?: { gap?: number } }).custom?.gap === 1;
}
