/** Parses HLS playlists the way players do, with m3u8-parser (video.js's parser). */
import { Parser } from 'm3u8-parser';

export function parseM3u8(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}
