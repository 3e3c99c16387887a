/**
 * What a low-latency HLS client reads in a media playlist (pure, with m3u8-parser, video.js's
 * parser): the blocking reload it sends next, the preload-hinted part, the parts and segments
 * listed with their URLs, and when each part's media ends by EXT-X-PROGRAM-DATE-TIME.
 */
import { Parser } from 'm3u8-parser';

export interface ListedPart {
  url: string;
  /** The media sequence number of the segment it belongs to. */
  msn: number;
  /** Its index in that segment. */
  index: number;
  /** Epoch ms of its media end (its segment's PROGRAM-DATE-TIME and the parts before it); undefined without a date. */
  mediaEndAt?: number;
}

export interface ListedSegment {
  url: string;
  msn: number;
  partUrls: string[];
}

export interface LowLatencyPlaylist {
  /**
   * The blocking reload a client sends next: for the part after the last one listed, or, when
   * no part is listed (the server lists segments only for a while), for the next segment
   * (`part` undefined); undefined when nothing is listed yet.
   */
  next?: { msn: number; part?: number };
  /** The part the preload hint names (absolute URL). */
  hint?: string;
  parts: ListedPart[];
  segments: ListedSegment[];
  ended: boolean;
}

interface ParsedPart {
  uri: string;
  duration: number;
}

interface ParsedSegment {
  uri?: string;
  duration?: number;
  programDateTime?: number;
  parts?: ParsedPart[];
  preloadHints?: Array<{ type: string; uri: string }>;
}

export function readLowLatencyPlaylist(text: string, playlistUrl: string): LowLatencyPlaylist {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  // The @types for m3u8-parser do not declare parts, preload segments or PROGRAM-DATE-TIME as numbers.
  const manifest = parser.manifest as unknown as { mediaSequence?: number; segments?: ParsedSegment[]; preloadSegment?: ParsedSegment; endList?: boolean };
  const first = manifest.mediaSequence ?? 0;
  const complete = manifest.segments ?? [];
  const absolute = (uri: string) => new URL(uri, playlistUrl).href;
  const parts: ListedPart[] = [];
  const segments: ListedSegment[] = [];
  // Where the segment being read starts (epoch ms): its own date, else where the previous one ended.
  let startAt: number | undefined;
  const readParts = (segment: ParsedSegment, msn: number): string[] => {
    startAt = segment.programDateTime ?? startAt;
    let endAt = startAt;
    const urls = (segment.parts ?? []).map((part, index) => {
      endAt = endAt === undefined ? undefined : endAt + part.duration * 1000;
      parts.push({ url: absolute(part.uri), msn, index, ...(endAt === undefined ? {} : { mediaEndAt: endAt }) });
      return absolute(part.uri);
    });
    return urls;
  };
  complete.forEach((segment, i) => {
    const msn = first + i;
    const partUrls = readParts(segment, msn);
    if (segment.uri !== undefined) segments.push({ url: absolute(segment.uri), msn, partUrls });
    startAt = startAt === undefined ? undefined : startAt + (segment.duration ?? 0) * 1000;
  });
  const pending = manifest.preloadSegment;
  if (pending) readParts({ ...pending, programDateTime: undefined }, first + complete.length);
  const hint = pending?.preloadHints?.find((candidate) => candidate.type === 'PART')?.uri;
  const last = parts.at(-1);
  const lastSegment = segments.at(-1);
  // As hls.js asks: the part after the last one listed, in that part's segment (part N+1 of a
  // segment whose last part was N is the next segment's first, which the server holds for); with
  // no part listed, the segment after the last one.
  const next = last ? { msn: last.msn, part: last.index + 1 } : lastSegment ? { msn: lastSegment.msn + 1 } : undefined;
  return {
    ...(next ? { next } : {}),
    ...(hint === undefined ? {} : { hint: absolute(hint) }),
    parts,
    segments,
    ended: manifest.endList === true,
  };
}

/** The part a blocking reload for (`msn`, `part`) asked for, as `playlist` lists it: that part, or the next segment's first when `msn` ended with part `part - 1`. */
export function askedPart(playlist: LowLatencyPlaylist, msn: number, part: number): ListedPart | undefined {
  const exact = playlist.parts.find((listed) => listed.msn === msn && listed.index === part);
  if (exact) return exact;
  const segment = playlist.segments.find((listed) => listed.msn === msn);
  if (segment && segment.partUrls.length === part) return playlist.parts.find((listed) => listed.msn === msn + 1 && listed.index === 0);
  return undefined;
}
