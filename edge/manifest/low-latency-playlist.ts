/**
 * Low-latency HLS playlists (draft-pantos-hls-rfc8216bis), as pure functions over the canonical
 * media playlist the sidecar stores: the newest segments get their EXT-X-PART lines, the
 * segment being cut its parts so far and a preload hint for the next one, the header
 * EXT-X-SERVER-CONTROL and EXT-X-PART-INF, the end EXT-X-RENDITION-REPORT for the other
 * renditions. A delta update replaces the oldest segments with EXT-X-SKIP.
 *
 * The canonical text is edited, not re-rendered from a model: it is as long as the live window
 * and this runs for every playlist change the edge serves.
 */

export interface PartLine {
  uri: string;
  /** Seconds. */
  duration: number;
  independent: boolean;
}

/**
 * A segment the live state closed from its parts before the stored playlist lists it: listed
 * after the stored segments, as a whole segment (its parts, then EXTINF and its URI).
 */
export interface ClosedSegment {
  uri: string;
  /** Seconds: as the sidecar will store it (listedSegmentDuration), else the sum of its parts' durations. */
  duration: number;
  /** Its parts, when still within the part window (§6.2.2's last three target durations). */
  parts: readonly PartLine[];
  /** Epoch milliseconds (EXT-X-PROGRAM-DATE-TIME), when the previous segment's date is known. */
  programDateTime?: number;
}

export interface RenditionReport {
  uri: string;
  lastMsn: number;
  lastPart?: number;
}

export interface LowLatencyAdditions {
  /** Seconds: EXT-X-PART-INF PART-TARGET. */
  partTarget: number;
  /** Parts of segments the playlist lists, by the segment's URI (the newest few). */
  segmentParts: ReadonlyMap<string, readonly PartLine[]>;
  /** Segments closed from their parts after the stored playlist's last, oldest first. */
  closedSegments?: readonly ClosedSegment[];
  /** Parts so far of the segment after the last one listed. */
  pendingParts: readonly PartLine[];
  /** URI of the part expected next (EXT-X-PRELOAD-HINT). */
  preloadHint?: string;
  reports: readonly RenditionReport[];
  /**
   * Seconds: EXT-X-SERVER-CONTROL CAN-SKIP-UNTIL, when delta updates are offered. The header must
   * read the same in every reload of every rendition (§6.2.4): compute it from facts fixed at the
   * stream's start, never from the playlist's current length.
   */
  canSkipUntil?: number;
}

/** The facts of a canonical media playlist the live state works with, read in one scan. */
export interface CanonicalFacts {
  mediaSequence: number;
  targetDuration: number;
  segmentCount: number;
  /** Seconds listed. */
  totalDuration: number;
  ended: boolean;
  /** The newest segments' URIs, oldest first (up to `tailLength`). */
  tail: string[];
  /** Their EXTINF durations, seconds, in the same order. */
  tailDurations: number[];
  /** Which of them are EXT-X-GAP (no media stored), in the same order. */
  tailGaps: boolean[];
  /** EXT-X-PROGRAM-DATE-TIME of the last segment, epoch milliseconds, when it has one. */
  lastProgramDateTime?: number;
}

/** PART-HOLD-BACK: three part targets, the spec's recommendation (it must be at least two). */
export function partHoldBack(partTarget: number): number {
  return 3 * partTarget;
}

/** CAN-SKIP-UNTIL: six target durations, the least the spec allows. */
export function skipBoundary(targetDuration: number): number {
  return 6 * targetDuration;
}

export function canonicalFacts(text: string, tailLength = 8): CanonicalFacts {
  const facts: CanonicalFacts = { mediaSequence: 0, targetDuration: 0, segmentCount: 0, totalDuration: 0, ended: false, tail: [], tailDurations: [], tailGaps: [] };
  let position = 0;
  let duration = 0;
  // Tags of the segment whose URI line comes next.
  let gap = false;
  let dateLine: string | undefined;
  let lastDateLine: string | undefined;
  while (position < text.length) {
    let end = text.indexOf('\n', position);
    if (end < 0) end = text.length;
    const line = text.slice(position, text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    position = end + 1;
    if (line === '') continue;
    if (line.charCodeAt(0) !== 35 /* # */) {
      facts.tail.push(line);
      facts.tailDurations.push(duration);
      facts.tailGaps.push(gap);
      if (facts.tail.length > tailLength) {
        facts.tail.shift();
        facts.tailDurations.shift();
        facts.tailGaps.shift();
      }
      lastDateLine = dateLine;
      gap = false;
      dateLine = undefined;
    } else if (line === '#EXT-X-GAP') {
      gap = true;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      dateLine = line.slice(25);
    } else if (line.startsWith('#EXTINF:')) {
      duration = Number.parseFloat(line.slice(8));
      facts.segmentCount += 1;
      facts.totalDuration += duration;
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      facts.mediaSequence = Number(line.slice(22));
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      facts.targetDuration = Number(line.slice(22));
    } else if (line === '#EXT-X-ENDLIST') {
      facts.ended = true;
    }
  }
  // Parsed once, for the last segment only: the only date a closed segment's is counted from.
  const lastDate = lastDateLine === undefined ? Number.NaN : Date.parse(lastDateLine);
  if (Number.isFinite(lastDate)) facts.lastProgramDateTime = lastDate;
  return facts;
}

/**
 * A part's DURATION as listed: its duration rounded up to the next 10 us, always above it, unless
 * that would pass the PART-TARGET as listed (every part MUST be at most the part target). Why:
 * Shaka Player 5.2.12 places each part at the sum of the listed durations before it and, per
 * part, sets its SourceBuffer's timestampOffset from that; when the sum comes out a hair (float
 * noise) before the part's media, its offset is negative, it adds 1 ms (an old Edge workaround),
 * the next part then differs by 1 ms, it calls abort() before appending, and Chromium drops the
 * part's frames up to the next keyframe: a hole and a stall at every segment (Shaka issue 10589,
 * fixed on its main branch only). Listed a few microseconds long, every later part of a segment
 * starts that much after its media, never before it, so no abort falls before a part without a
 * keyframe. Under a tick of the 90 kHz video clock per part, at most 0.1 ms over a segment's
 * parts (its EXTINF, the parts' true sum, is unchanged; the stored EXTINF rounds to 1 ms anyway).
 */
export function listedPartDuration(seconds: number, partTarget: number): string {
  const longer = (Math.floor(seconds * 1e5 + 1e-6) + 1) / 1e5;
  return longer <= Number(partTarget.toFixed(5)) ? longer.toFixed(5) : seconds.toFixed(5);
}

function partTag(part: PartLine, partTarget: number): string {
  return `#EXT-X-PART:DURATION=${listedPartDuration(part.duration, partTarget)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}\n`;
}

function partTags(parts: readonly PartLine[], partTarget: number): string {
  let out = '';
  for (const part of parts) out += partTag(part, partTarget);
  return out;
}

/** The canonical playlist with the low-latency tags added. An ended playlist is returned as it is. */
export function renderLowLatencyPlaylist(canonical: string, additions: LowLatencyAdditions): string {
  if (/^#EXT-X-ENDLIST\s*$/m.test(canonical.slice(-64))) return canonical;
  const body = canonical.endsWith('\n') ? canonical : `${canonical}\n`;
  // Insertion points, from the end: before the EXTINF of each newest segment that has parts.
  const insertions: Array<{ at: number; text: string }> = [];
  let remaining = additions.segmentParts.size;
  let position = body.length - 1;
  while (remaining > 0 && position > 0) {
    const lineStart = body.lastIndexOf('\n', position - 1) + 1;
    const line = body.slice(lineStart, position).replace(/\r$/, '');
    position = lineStart - 1;
    if (line === '' || line.startsWith('#')) continue;
    const parts = additions.segmentParts.get(line);
    if (!parts) continue;
    remaining -= 1;
    const extinf = body.lastIndexOf('\n#EXTINF:', lineStart - 1);
    if (extinf >= 0 && parts.length > 0) insertions.push({ at: extinf + 1, text: partTags(parts, additions.partTarget) });
  }
  let out = '';
  let copied = 0;
  for (const insertion of insertions.reverse()) {
    out += body.slice(copied, insertion.at) + insertion.text;
    copied = insertion.at;
  }
  out += body.slice(copied);
  for (const segment of additions.closedSegments ?? []) {
    out += partTags(segment.parts, additions.partTarget);
    if (segment.programDateTime !== undefined) out += `#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTime).toISOString()}\n`;
    out += `#EXTINF:${segment.duration.toFixed(5)},\n${segment.uri}\n`;
  }
  out += partTags(additions.pendingParts, additions.partTarget);
  if (additions.preloadHint) out += `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${additions.preloadHint}"\n`;
  for (const report of additions.reports) {
    out += `#EXT-X-RENDITION-REPORT:URI="${report.uri}",LAST-MSN=${report.lastMsn}${report.lastPart === undefined ? '' : `,LAST-PART=${report.lastPart}`}\n`;
  }
  const control =
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${partHoldBack(additions.partTarget).toFixed(3)}` +
    `${additions.canSkipUntil === undefined ? '' : `,CAN-SKIP-UNTIL=${additions.canSkipUntil.toFixed(1)}`}\n` +
    `#EXT-X-PART-INF:PART-TARGET=${additions.partTarget.toFixed(5)}\n`;
  const target = out.indexOf('#EXT-X-TARGETDURATION:');
  const after = target < 0 ? out.indexOf('\n') + 1 : out.indexOf('\n', target) + 1;
  return out.slice(0, after) + control + out.slice(after);
}

/**
 * A Playlist Delta Update: the segments that end more than `canSkipUntil` seconds before the
 * playlist's end are replaced by EXT-X-SKIP. The EXT-X-MAP of the first segment kept is
 * repeated after it (the skipped lines held it), and EXT-X-VERSION is 9 as the tag requires.
 * Unchanged when nothing would be skipped.
 */
export function deltaUpdate(playlist: string, canSkipUntil: number): string {
  // From the newest segment back: a segment is kept while it starts within canSkipUntil of the end.
  let fromEnd = 0;
  let firstKept = -1;
  let position = playlist.length;
  for (;;) {
    const at = playlist.lastIndexOf('\n#EXTINF:', position - 1);
    // lastIndexOf from -1 searches from 0 again: without this, a playlist starting with that line never ends the loop.
    if (at < 0 || at >= position) break;
    const duration = Number.parseFloat(playlist.slice(at + 9, at + 40));
    if (fromEnd + duration > canSkipUntil) {
      firstKept = position;
      break;
    }
    fromEnd += duration;
    position = at;
  }
  if (firstKept < 0 || firstKept >= playlist.length) return playlist;
  // The first kept segment's other tags (PROGRAM-DATE-TIME, DISCONTINUITY, MAP, parts) come
  // before its EXTINF, after the previous segment's URI line: they are kept too.
  let cut = firstKept;
  for (;;) {
    const lineStart = playlist.lastIndexOf('\n', cut - 1) + 1;
    if (lineStart <= 0 || playlist.charCodeAt(lineStart) !== 35 /* # */ || playlist.startsWith('#EXTINF:', lineStart)) break;
    cut = lineStart - 1;
  }
  const firstSegmentTag = /^#(?:EXTINF:|EXT-X-PROGRAM-DATE-TIME:|EXT-X-MAP:|EXT-X-DISCONTINUITY$|EXT-X-PART:)/m.exec(playlist)?.index;
  if (firstSegmentTag === undefined || firstSegmentTag > cut) return playlist;
  const skippedText = playlist.slice(firstSegmentTag, cut + 1);
  let skipped = 0;
  for (let at = skippedText.indexOf('#EXTINF:'); at >= 0; at = skippedText.indexOf('#EXTINF:', at + 8)) skipped += 1;
  if (skipped === 0) return playlist;
  const keptText = playlist.slice(cut + 1);
  const firstUri = keptText.search(/^[^#\r\n]/m);
  const mapAt = skippedText.lastIndexOf('#EXT-X-MAP:');
  const keptHasMap = keptText.slice(0, firstUri < 0 ? keptText.length : firstUri).includes('#EXT-X-MAP:');
  const map = mapAt >= 0 && !keptHasMap ? `${skippedText.slice(mapAt, skippedText.indexOf('\n', mapAt))}\n` : '';
  const header = playlist.slice(0, firstSegmentTag).replace(/^#EXT-X-VERSION:\d+$/m, '#EXT-X-VERSION:9');
  return `${header}#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}\n${map}${keptText}`;
}
