/**
 * The parts of one segment of one rendition, as the live state received them: what may be
 * listed (parts 0, 1, … without a gap), what is served (every part received), and whether the
 * segment is known whole from its parts alone.
 */
import { mediaMilliseconds } from '../../shared/segment-clock.ts';
import { mediaSegmentFile, parseMediaSegmentFile, partFile } from '../../shared/storage/layout.ts';
import type { PartLine } from '../manifest/low-latency-playlist.ts';
import type { IncomingPart } from './live-state-types.ts';

export interface StoredPart extends PartLine {
  file: string;
  /** The part its announcement said comes next. */
  next: string;
  index: number;
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

export interface PartGroup {
  /** Its media sequence number, as the sidecar announced it. */
  msn: number;
  segmentFile: string;
  session: string;
  /** Its segment's media time (the segment's name). */
  segmentTime: number;
  /** Parts 0, 1, … without a gap: what may be listed. */
  parts: StoredPart[];
  /** Every part received for the segment (a part after a gap too), by file name: what is served. */
  byFile: Map<string, StoredPart>;
  /** A part went missing: the group is not listed (its segment still is, whole, once stored). */
  broken: boolean;
  /**
   * The live state listed it as a whole segment from its parts (before the stored playlist):
   * its parts are final, and its segment URI is served from them until storage has it.
   */
  closed: boolean;
  /** Its parts end to end, made once when first asked for. */
  segmentBytes?: Uint8Array<ArrayBuffer>;
  /** When its parts left the playlist (undefined: maybe still listed). */
  unlistedAt?: number;
}

/** A listed segment's session, by the storage layout's names (undefined: not a media segment's name). */
export function sessionOf(segmentUri: string): string | undefined {
  return parseMediaSegmentFile(segmentUri)?.session;
}

/** The part a group's segment starts with. */
export function firstPartOf(group: PartGroup): string {
  return partFile(group.session, group.segmentTime, 0);
}

export function newGroup(part: IncomingPart): PartGroup {
  return { msn: part.msn, segmentFile: mediaSegmentFile(part.session, part.segmentTime), session: part.session, segmentTime: part.segmentTime, parts: [], byFile: new Map(), broken: false, closed: false };
}

/**
 * Adds a part. A part is never replaced (the same name always serves the same bytes), and a
 * closed group takes no more: it was listed whole, its parts are what it is.
 */
export function addPart(group: PartGroup, part: IncomingPart): StoredPart | undefined {
  if (group.closed || group.byFile.has(part.file)) return undefined;
  const stored: StoredPart = { uri: part.file, file: part.file, next: part.next, index: part.index, duration: part.duration, independent: part.independent, bytes: part.bytes, contentType: part.contentType };
  group.byFile.set(part.file, stored);
  if (part.index !== group.parts.length) group.broken = true;
  else if (!group.broken) group.parts.push(stored);
  return stored;
}

/** The group has parts to list: received from part 0 on without a gap. */
export function listable(group: PartGroup | undefined): group is PartGroup {
  return group !== undefined && !group.broken && group.parts.length > 0;
}

/**
 * Whether `group`'s parts are its whole segment, known from the parts alone: its last part said
 * the next one starts segment `successor`, and a part of that segment has arrived (a keyframe
 * did start it: a packager's guess that a segment ends can be wrong until the next one begins).
 */
export function wholeBefore(group: PartGroup, successor: PartGroup | undefined): boolean {
  if (!listable(group) || !successor || successor.byFile.size === 0 || successor.msn !== group.msn + 1) return false;
  return group.parts.at(-1)!.next === firstPartOf(successor);
}

export function durationOf(parts: readonly PartLine[]): number {
  let total = 0;
  for (const part of parts) total += part.duration;
  return total;
}

// Parts' durations are their ticks over the timescale, sent as the exact float: the timescale
// comes back to within float noise. Rounded durations (the write API's 10 us) do not qualify.
const TIMESCALE_TOLERANCE = 1e-9;

/**
 * The EXTINF of a segment listed from its parts: what the sidecar will store for it, whole
 * milliseconds of its media clock from its start to its successor's (shared/segment-clock.ts),
 * so that its date plus its EXTINF is its successor's date in this listing and the stored one
 * alike (Shaka Player moves a segment to its date at a 1 ms disagreement). The timescale is what
 * the two segments' names (media time in ticks) and the parts' seconds say; where they do not
 * say it exactly (no successor of the session, rounded durations), the parts' sum.
 */
export function listedSegmentDuration(group: PartGroup, successor: PartGroup | undefined): number {
  const seconds = durationOf(group.parts);
  if (!successor || successor.session !== group.session || !(seconds > 0)) return seconds;
  const ticks = successor.segmentTime - group.segmentTime;
  const timescale = Math.round(ticks / seconds);
  if (!(ticks > 0) || !(timescale > 0) || Math.abs(ticks / seconds - timescale) > timescale * TIMESCALE_TOLERANCE) return seconds;
  return (mediaMilliseconds(successor.segmentTime, timescale) - mediaMilliseconds(group.segmentTime, timescale)) / 1000;
}

/** One past the newest part index received: how far the segment has come, gaps or not. */
export function received(group: PartGroup): number {
  let count = 0;
  for (const part of group.byFile.values()) count = Math.max(count, part.index + 1);
  return count;
}

/** The segment's bytes: its parts end to end, as the sidecar builds the segment it stores. */
export function segmentBytes(group: PartGroup): Uint8Array<ArrayBuffer> {
  if (group.segmentBytes) return group.segmentBytes;
  let size = 0;
  for (const part of group.parts) size += part.bytes.byteLength;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of group.parts) {
    bytes.set(part.bytes, offset);
    offset += part.bytes.byteLength;
  }
  group.segmentBytes = bytes;
  return bytes;
}
